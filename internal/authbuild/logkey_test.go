package authbuild_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// spyHandler is a JSON handler that remembers every handler derived from it with
// With, so that a test can write one line through each of them.
type spyHandler struct {
	slog.Handler
	all *[]slog.Handler
	mu  *sync.Mutex
}

func (h spyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	d := spyHandler{Handler: h.Handler.WithAttrs(as), all: h.all, mu: h.mu}
	h.mu.Lock()
	*h.all = append(*h.all, d)
	h.mu.Unlock()
	return d
}

func (h spyHandler) WithGroup(name string) slog.Handler {
	return spyHandler{Handler: h.Handler.WithGroup(name), all: h.all, mu: h.mu}
}

// TestRegression_AuthenticatorKeyTwice: JSON log lines of ip and jwt authenticators
// read {"authenticator":"x","authenticator":"x"}: authbuild scoped their logger with the
// authenticator's name and ipauth and jwtauth scoped it again. Every logger an
// authenticator derives from the one authbuild gives must name it exactly once.
func TestRegression_AuthenticatorKeyTwice(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	methods := []*config.AuthMethod{
		{Name: "office", IP: &config.IPAuth{CIDRs: []string{"10.0.0.0/8"}}},
		{Name: "tokens", JWT: &config.JWTAuth{Issuer: "https://issuer.example", JWKSURL: "https://issuer.example/jwks", Audiences: []string{"a"}}},
		{Name: "people", Basic: &config.BasicAuth{Users: map[string]string{"u": string(hash)}}},
	}
	for _, m := range methods {
		t.Run(m.Name, func(t *testing.T) {
			var buf bytes.Buffer
			var derived []slog.Handler
			spy := spyHandler{Handler: slog.NewJSONHandler(&buf, nil), all: &derived, mu: &sync.Mutex{}}
			env := authbuild.Env{Log: slog.New(spy), Shared: authbuild.NewShared()}
			if _, err := authbuild.New(m, env); err != nil {
				t.Fatal(err)
			}
			if len(derived) == 0 {
				t.Fatal("no logger was derived: the authenticator's lines would not name it")
			}
			for _, h := range derived {
				buf.Reset()
				if err := h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "x", 0)); err != nil {
					t.Fatal(err)
				}
				line := strings.TrimSpace(buf.String())
				if n := strings.Count(line, `"authenticator":`); n != 1 {
					t.Errorf("a log line names the authenticator %d times, want 1: %s", n, line)
				}
				var doc map[string]any
				if err := json.Unmarshal([]byte(line), &doc); err != nil || doc["authenticator"] != m.Name {
					t.Errorf("line %s: authenticator = %v (%v), want %q", line, doc["authenticator"], err, m.Name)
				}
			}
		})
	}
}
