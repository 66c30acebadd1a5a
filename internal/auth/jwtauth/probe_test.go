package jwtauth

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// TestReadyReasons: while no key set has loaded, Ready's error carries why, as a
// *probe.Error that /readyz and `check --probe` show: the issuer is not there, its
// discovery document names another issuer, the key set answers an error status or is
// not a key set.
func TestReadyReasons(t *testing.T) {
	testKeys(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		name   string
		setup  func(is *issuer) (issuerURL, jwksURL string)
		reason string
		msg    string
	}{
		{"issuer not there", func(is *issuer) (string, string) { return closed + "/pool", "" }, probe.ConnectionRefused, "nothing is listening at " + closed},
		{"another issuer", func(is *issuer) (string, string) {
			is.discIss = "https://evil.example.com/pool"
			return is.iss, ""
		}, probe.IssuerMismatch, `document is for issuer "https://evil.example.com/pool"`},
		{"key set down", func(is *issuer) (string, string) { is.down = true; return is.iss, is.jwksURL() }, probe.HTTPStatus, "answered HTTP status 5"},
		{"not a key set", func(is *issuer) (string, string) { is.rawJWKS = []byte("<html>"); return is.iss, is.jwksURL() }, probe.BadDocument, "is unusable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := newIssuer(t, pub("A", rsaA, "RS256"))
			cfg := baseConfig(is)
			is.mu.Lock()
			cfg.Issuer, cfg.JWKSURL = tc.setup(is)
			is.mu.Unlock()
			a, err := New("jwt", cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Load(context.Background()); err == nil {
				t.Fatal("Load succeeded")
			}
			err = a.Ready()
			pe, ok := probe.Of(err)
			if !ok || pe.Reason != tc.reason || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("Ready = %v, want reason %s with %q", err, tc.reason, tc.msg)
			}
			if !errors.Is(err, ErrNoKeySet) {
				t.Errorf("Ready = %v, does not wrap ErrNoKeySet", err)
			}
		})
	}
}
