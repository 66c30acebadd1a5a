package fleet

// The fleet against the Redis deployments the redis section supports, each a real
// redis-server: Sentinel, Cluster, requirepass, an ACL user, and TLS.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// skipNoRedis skips the test when redis-server is missing, else fails on err.
func skipNoRedis(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, testenv.ErrNoRedis) {
		t.Skip("redis-server not installed (scripts/test installs it)")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// checkFleetWorks starts replicas "a" and "b" on cfg and checks that an event published
// by one reaches the other and that a Lua script over two of the fleet's keys (the
// shared Basic failure count, which also appends to the stream) runs.
func checkFleetWorks(t *testing.T, cfg *config.Redis) {
	t.Helper()
	var recs [2]recorder
	a := startFleet(t, cfg, "a", func(f *Fleet) { f.Handle("test", recs[0].add) })
	b := startFleet(t, cfg, "b", func(f *Fleet) { f.Handle("test", recs[1].add) })
	for _, f := range []*Fleet{a, b} {
		eventually(t, 10*time.Second, "replica "+f.ID()+" synced (status "+f.Status().Error+")",
			func() bool { return !f.LastSync().IsZero() })
	}
	eventually(t, 5*time.Second, "two replicas beat", func() bool { return a.Status().Replicas == 2 })
	ctx := context.Background()
	id, err := a.Publish(ctx, "test", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.WaitApplied(ctx, id, 3*time.Second)
	if err != nil || got.Replicas != 2 || got.Applied != 2 {
		t.Fatalf("WaitApplied = %+v, %v", got, err)
	}
	if e := recs[1].events(); len(e) != 1 || string(e[0].Data) != "hello" || e[0].Replica != "a" || e[0].Mine {
		t.Fatalf("replica b got %+v", e)
	}
	now := time.Now()
	if _, err := newFailures(a).Failed(ctx, "k/192.0.2.1/32", now, 5); err != nil {
		t.Fatalf("failure script on a: %v", err)
	}
	times, err := newFailures(b).Failed(ctx, "k/192.0.2.1/32", now.Add(time.Millisecond), 5)
	if err != nil || len(times) != 2 {
		t.Fatalf("failure script on b: fleet has %v, %v (want 2 times)", times, err)
	}
	if !a.Status().Connected || a.Status().Error != "" {
		t.Fatalf("status %+v", a.Status())
	}
}

// checkNeverConnects starts a Fleet on cfg and checks that it stays unconnected and
// that its status names the cause (one of the substrings in want).
func checkNeverConnects(t *testing.T, cfg *config.Redis, want ...string) {
	t.Helper()
	f := startFleet(t, cfg, "a", nil)
	matches := func(s string) bool {
		for _, w := range want {
			if strings.Contains(s, w) {
				return true
			}
		}
		return false
	}
	eventually(t, 5*time.Second, "status error naming "+strings.Join(want, " or "),
		func() bool { return matches(f.Status().Error) })
	if s := f.Status(); s.Connected || !f.LastSync().IsZero() {
		t.Fatalf("connected with a bad credential: %+v", s)
	}
	t.Logf("status error: %s", f.Status().Error)
	if _, err := f.Publish(context.Background(), "test", nil); err == nil {
		t.Fatal("Publish succeeded while not connected")
	}
}

func TestSentinelMode(t *testing.T) {
	master := startRedis(t)
	s, err := testenv.StartRedisSentinel(master.Addr, "gh-master")
	skipNoRedis(t, err)
	t.Cleanup(s.Stop) // runs before the master's Stop
	cfg := redisConfig(s.Addr)
	cfg.Mode, cfg.MasterName = config.RedisSentinel, "gh-master"
	checkFleetWorks(t, cfg)
	// The state is on the master the sentinel named.
	if n, err := master.Do("EXISTS", "{gatehouse}:events"); err != nil || n != "1" {
		t.Fatalf("EXISTS on the master = %q, %v", n, err)
	}
}

// TestSentinelTLSAndAuth: the sentinel and the master both speak TLS only to clients
// with the test CA and both want a password (each its own).
func TestSentinelTLSAndAuth(t *testing.T) {
	master, err := testenv.StartRedisTLS("--requirepass", "master-pw")
	skipNoRedis(t, err)
	t.Cleanup(master.Stop)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s, err := testenv.StartRedisSentinel(master.TLSAddr, "gh-master",
		"tls-port "+strconv.Itoa(port), "tls-cert-file "+master.CertFile, "tls-key-file "+master.KeyFile,
		"tls-ca-cert-file "+master.CAFile, "tls-auth-clients no", "tls-replication yes",
		"sentinel auth-pass gh-master master-pw", "requirepass sentinel-pw")
	skipNoRedis(t, err)
	t.Cleanup(s.Stop)
	cfg := redisConfig("127.0.0.1:" + strconv.Itoa(port))
	cfg.Mode, cfg.MasterName = config.RedisSentinel, "gh-master"
	cfg.Password, cfg.SentinelPassword = "master-pw", "sentinel-pw"
	cfg.TLS = &config.RedisTLS{CAFile: master.CAFile}
	checkFleetWorks(t, cfg)

	t.Run("wrong sentinel password", func(t *testing.T) {
		bad := *cfg
		bad.SentinelPassword = "not-it"
		checkNeverConnects(t, &bad, "WRONGPASS")
	})
	t.Run("wrong master password", func(t *testing.T) {
		bad := *cfg
		bad.Password = "not-it"
		checkNeverConnects(t, &bad, "WRONGPASS")
	})
}

func TestClusterMode(t *testing.T) {
	start := time.Now()
	nodes, err := testenv.StartRedisCluster(3)
	skipNoRedis(t, err)
	t.Logf("cluster of 3 ready in %s", time.Since(start).Round(time.Millisecond))
	var seeds []string
	for _, n := range nodes {
		t.Cleanup(n.Stop)
		seeds = append(seeds, n.Addr)
	}
	cfg := redisConfig(seeds[1])
	cfg.Mode, cfg.Addresses = config.RedisCluster, seeds
	// The failure script touches the failure key and the stream: on a cluster it runs
	// only because the {gatehouse} hash tag puts them in one slot.
	checkFleetWorks(t, cfg)
}

func TestPasswordAuth(t *testing.T) {
	rd := startRedis(t, "--requirepass", "s3cret")
	cfg := redisConfig(rd.Addr)
	cfg.Password = "s3cret"
	checkFleetWorks(t, cfg)
}

func TestPasswordWrong(t *testing.T) {
	rd := startRedis(t, "--requirepass", "s3cret")
	t.Run("wrong", func(t *testing.T) {
		cfg := redisConfig(rd.Addr)
		cfg.Password = "not-it"
		checkNeverConnects(t, cfg, "WRONGPASS")
	})
	t.Run("none", func(t *testing.T) {
		checkNeverConnects(t, redisConfig(rd.Addr), "NOAUTH", "WRONGPASS")
	})
}

func TestACLUser(t *testing.T) {
	// The default user is off: only gatehouse's own user can do anything.
	rd := startRedis(t, "--user", "default", "off",
		// Exactly what docs/fleet.md says a fleet's ACL user needs.
		"--user", "gh", "on", ">gh-pass", "~{gatehouse}:*", "+@read", "+@write", "+@stream", "+@scripting",
		"+ping", "+hello", "+auth", "+client", "+select")
	t.Run("ok", func(t *testing.T) {
		cfg := redisConfig(rd.Addr)
		cfg.Username, cfg.Password = "gh", "gh-pass"
		checkFleetWorks(t, cfg)
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := redisConfig(rd.Addr)
		cfg.Username, cfg.Password = "gh", "not-it"
		checkNeverConnects(t, cfg, "WRONGPASS")
	})
}

func TestTLS(t *testing.T) {
	rd, err := testenv.StartRedisTLS()
	if err != nil && strings.Contains(err.Error(), "tls") && !errors.Is(err, testenv.ErrNoRedis) {
		t.Skipf("this redis-server has no TLS: %v", err)
	}
	skipNoRedis(t, err)
	t.Cleanup(rd.Stop)
	t.Run("ok", func(t *testing.T) {
		cfg := redisConfig(rd.TLSAddr)
		cfg.TLS = &config.RedisTLS{CAFile: rd.CAFile}
		checkFleetWorks(t, cfg)
	})
	t.Run("wrong CA", func(t *testing.T) {
		dir := t.TempDir()
		other, err := testenv.WriteTestCA(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg := redisConfig(rd.TLSAddr)
		cfg.TLS = &config.RedisTLS{CAFile: other}
		checkNeverConnects(t, cfg, "certificate")
	})
	t.Run("wrong name", func(t *testing.T) {
		cfg := redisConfig(rd.TLSAddr)
		cfg.TLS = &config.RedisTLS{CAFile: rd.CAFile, ServerName: "redis.example"}
		checkNeverConnects(t, cfg, "certificate")
	})
	t.Run("plain client", func(t *testing.T) {
		// No tls section against the TLS port: the handshake never completes.
		checkNeverConnects(t, redisConfig(rd.TLSAddr), "EOF", "reset", "timeout", "deadline")
	})
}
