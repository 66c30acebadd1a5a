package fleet

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

func TestProbe(t *testing.T) {
	rd := startRedis(t, "--requirepass", "s3cret-pass",
		"--user", "limited", "on", ">limited-pass", "~{gatehouse}:*", "+get", "+ping", "+hello", "+auth", "+client",
		"--user", "gh", "on", ">gh-pass", "~{gatehouse}:*", "+@all")
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfgWith := func(addr, user, pass string) *config.Redis {
		c := redisConfig(addr)
		c.Username, c.Password = user, pass
		return c
	}
	for _, tc := range []struct {
		name   string
		cfg    *config.Redis
		reason string // "" for success
	}{
		{"ok", cfgWith(rd.Addr, "", "s3cret-pass"), ""},
		{"acl user", cfgWith(rd.Addr, "gh", "gh-pass"), ""},
		{"wrong password", cfgWith(rd.Addr, "", "wrong"), probe.AuthFailed},
		{"no password", cfgWith(rd.Addr, "", ""), probe.AuthFailed},
		{"no permission", cfgWith(rd.Addr, "limited", "limited-pass"), probe.AccessDenied},
		{"nothing listening", cfgWith("127.0.0.1:"+strconv.Itoa(port), "", "x"), probe.ConnectionRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := Probe(ctx, tc.cfg)
			reason, msg := probe.Describe(err, "")
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("probe: %v", err)
				}
				return
			}
			if err == nil || reason != tc.reason {
				t.Fatalf("probe: %v (reason %q), want reason %q", err, reason, tc.reason)
			}
			t.Logf("%s: %s", reason, msg)
		})
	}
}
