package jwtauth

import (
	"context"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// TestRevoked: a revoked jti, and a subject's tokens issued before a time, are refused
// as invalid tokens (401, error="invalid_token") even when their verification is
// cached; tokens issued after the subject revocation pass; a stale list is an outage.
func TestRevoked(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	set := revoke.NewSet(revoke.SetOptions{MaxStaleness: time.Minute, Now: clk.now})
	set.Replace(nil, clk.now())
	a := newAuth(t, baseConfig(is), clk, func(o *Options) { o.Revocations = set })
	now := clk.now()
	tok := mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "jti", "t-1"))
	other := mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "jti", "t-2", "sub", "other-user"))
	noIat := mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "iat", nil, "jti", "t-3"))
	fresh := mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "iat", now.Add(time.Second).Unix(), "jti", "t-4"))
	for _, x := range []string{tok, other, noIat} {
		if _, err := a.Authenticate(context.Background(), bearer(x)); err != nil {
			t.Fatalf("before any revocation: %v", err)
		}
	}
	refused := func(name, x string) {
		t.Helper()
		_, err := a.Authenticate(context.Background(), bearer(x))
		if outcome(err) != "bad" || reason(err) != "token revoked" || !errors.Is(err, revoke.ErrRevoked) {
			t.Fatalf("%s: %v, want bad credentials: token revoked", name, err)
		}
		if ch := a.Challenge(err); ch != `Bearer error="invalid_token", error_description="token revoked"` {
			t.Fatalf("%s: challenge %s", name, ch)
		}
	}
	set.Apply(revoke.Revocation{Kind: revoke.KindJWT, Value: "t-1", Expires: now.Add(time.Hour)})
	refused("revoked jti (cached)", tok)
	if _, err := a.Authenticate(context.Background(), bearer(other)); err != nil {
		t.Fatalf("other jti: %v", err)
	}

	set.Replace([]revoke.Revocation{{Kind: revoke.KindSubject, Value: "0b1c-user-1", Before: now}}, now)
	refused("subject, issued before", tok)
	refused("subject, no iat", noIat)
	if _, err := a.Authenticate(context.Background(), bearer(fresh)); err != nil {
		t.Fatalf("subject, issued after: %v", err)
	}
	if _, err := a.Authenticate(context.Background(), bearer(other)); err != nil {
		t.Fatalf("other subject: %v", err)
	}

	clk.advance(2 * time.Minute) // no Synced since: stale
	if _, err := a.Authenticate(context.Background(), bearer(other)); outcome(err) != "outage" || !errors.Is(err, revoke.ErrStale) {
		t.Fatalf("stale list: %v, want an outage", err)
	}
}
