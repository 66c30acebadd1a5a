package jwtauth

import (
	"context"
	"testing"
	"time"
)

// TestFreshness: what metrics read of the key set (policy.Fresher): when it last loaded,
// how many keys it holds, and how many fetches failed.
func TestFreshness(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("a", rsaA, "RS256"), pub("b", rsaB, "RS256"))
	clk := newClock()
	a := newAuth(t, baseConfig(is), clk)
	f, ok := a.Freshness()
	if !ok || f.Kind != "jwks" || f.Entries != 2 || f.RefreshErrors != 0 || !f.LastSuccess.Equal(clk.now()) {
		t.Fatalf("after the first load: %+v %v", f, ok)
	}
	loaded := clk.now()
	clk.advance(time.Hour)
	is.set(func(is *issuer) { is.down = true })
	if err := a.Load(context.Background()); err == nil {
		t.Fatal("the issuer is down: Load succeeded")
	}
	f, _ = a.Freshness()
	if f.Entries != 2 || f.RefreshErrors != 1 || !f.LastSuccess.Equal(loaded) {
		t.Fatalf("after a failed refresh: %+v (the last good set stays)", f)
	}
}
