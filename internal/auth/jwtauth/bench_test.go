package jwtauth

import (
	"context"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// BenchmarkAuthenticateCached is the steady state: the same RS256 (2048-bit) ID token
// on every request, answered from the verification cache.
func BenchmarkAuthenticateCached(b *testing.B) {
	benchAuthenticate(b, false)
}

// BenchmarkAuthenticateUncached is the first sight of a token: parse, RSA signature
// check, claims and rules, every time.
func BenchmarkAuthenticateUncached(b *testing.B) {
	benchAuthenticate(b, true)
}

func benchAuthenticate(b *testing.B, noCache bool) {
	testKeys(b)
	is := newIssuer(b, pub("A", rsaA, "RS256"))
	clk := newClock()
	cfg := baseConfig(is)
	cfg.TokenUse = "id"
	cfg.EmailVerified = true
	cfg.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Contains: "students"}}
	a := newAuth(b, cfg, clk, func(o *Options) { o.disableCache = noCache })
	r := bearer(mint(b, rsaA, "A", jose.RS256, idClaims(is, clk)))
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
