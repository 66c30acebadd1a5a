package server

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// TestRegression_HTTP01UnknownHost: with http-01 offered, a request for a challenge path
// naming a host not in server.tls.acme.domains reached autocert, which answered 403 with
// its HostWhitelist error quoting the host, while docs/tls.md says other hosts get 400.
// It gets the listener's 400 now, with a short body that does not echo the host.
func TestRegression_HTTP01UnknownHost(t *testing.T) {
	a := &config.ACME{Domains: []string{"files.example.com"}, Storage: filepath.Join(t.TempDir(), "store"),
		Directory: config.LetsEncryptDirectory, HTTPListen: ":0", AgreeTOS: true,
		Challenges: []string{config.ChallengeHTTP01}}
	c, err := newCertificates(&config.TLS{ACME: a}, &gateway.State{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := c.httpHandler("443")
	for _, tc := range []struct {
		host, target string
		code         int
	}{
		{"evil.example.net", "/.well-known/acme-challenge/abc", 400},
		{"evil.example.net:80", "/.well-known/acme-challenge/", 400},
		{"evil.example.net", "/x", 400},
		{"files.example.com", "/x", 308},
		// A known host's challenge path reaches autocert, which has no such token.
		{"files.example.com:5002", "/.well-known/acme-challenge/abc", 404},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", tc.target, nil)
		r.Host = tc.host
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s%s: %d %q, want %d", tc.host, tc.target, w.Code, w.Body.String(), tc.code)
		}
		if tc.code == 400 && (strings.Contains(w.Body.String(), "evil") || len(w.Body.String()) > 64) {
			t.Errorf("%s%s: body %q echoes the host or is not short", tc.host, tc.target, w.Body.String())
		}
	}
}

// TestACMEStorageFailsAsConfig: a storage folder that cannot be created when serving
// starts (check passed it; the file system changed since) is a configuration error
// naming server.tls.acme.storage, not a failure while running.
func TestACMEStorageFailsAsConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	a := &config.ACME{Domains: []string{"files.example.com"}, Storage: filepath.Join(file, "store"),
		Directory: config.LetsEncryptDirectory, AgreeTOS: true, Challenges: []string{config.ChallengeTLSALPN01}}
	_, err := newCertificates(&config.TLS{ACME: a}, &gateway.State{}, slog.New(slog.DiscardHandler), nil)
	var ce config.Errors
	if !errors.As(asConfigError(&config.Config{}, err), &ce) || len(ce) != 1 || ce[0].Path != "server.tls.acme.storage" {
		t.Fatalf("newCertificates: %v; want one config error for server.tls.acme.storage", err)
	}
}
