package jwtauth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// TestCacheNeverOutlivesExp: a cached verification ends at the token's exp, and with
// no leeway the token is refused from that instant.
func TestCacheNeverOutlivesExp(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	cfg := baseConfig(is)
	cfg.Leeway = 0
	a := newAuth(t, cfg, clk)
	tok := mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "exp", clk.now().Add(10*time.Second).Unix()))
	id, err := a.Authenticate(context.Background(), bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if a.cache.len() != 1 {
		t.Fatalf("cache has %d entries, want 1", a.cache.len())
	}
	id.Groups[0] = "admins" // callers get copies
	id2, err := a.Authenticate(context.Background(), bearer(tok))
	if err != nil || id2.Groups[0] != "students" {
		t.Fatalf("cached identity %+v, %v", id2, err)
	}
	clk.advance(9 * time.Second)
	if _, err := a.Authenticate(context.Background(), bearer(tok)); err != nil {
		t.Fatalf("one second before exp: %v", err)
	}
	clk.advance(time.Second)
	if _, err := a.Authenticate(context.Background(), bearer(tok)); reason(err) != "token expired" {
		t.Fatalf("at exp: %v, want token expired", err)
	}
}

// TestCacheUnit: deadlines and the size bound.
func TestCacheUnit(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newVerifyCache(100)
	id := &policy.Identity{Subject: "s", Groups: []string{"g"}}
	k := cacheKey("token")
	c.put(k, &verified{id: id}, now.Add(time.Minute), now)
	tests := []struct {
		name string
		at   time.Time
		hit  bool
	}{
		{"before deadline", now.Add(59 * time.Second), true},
		{"at deadline", now.Add(time.Minute), false},
		{"after deadline", now.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, hit := c.get(k, tt.at); hit != tt.hit {
				t.Fatalf("hit = %v, want %v", hit, tt.hit)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		for i := range 1000 {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			c.put(sha256.Sum256(b[:]), &verified{id: id}, now.Add(time.Hour), now)
			if c.len() > 100 {
				t.Fatalf("cache grew to %d entries", c.len())
			}
		}
	})
	t.Run("expired entries go first", func(t *testing.T) {
		c := newVerifyCache(10)
		for i := range 10 {
			c.put(cacheKey(string(rune('a'+i))), &verified{id: id}, now.Add(time.Second), now)
		}
		later := now.Add(time.Minute)
		c.put(cacheKey("fresh"), &verified{id: id}, later.Add(time.Minute), later)
		if c.len() != 1 {
			t.Fatalf("%d entries, want only the fresh one", c.len())
		}
	})
}

// TestForbiddenNotCached: a token that fails a rule is re-checked every time (nothing
// is cached for it), so the rules can never be skipped.
func TestForbiddenNotCached(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	cfg := baseConfig(is)
	cfg.TokenUse = "access"
	a := newAuth(t, cfg, clk)
	tok := mint(t, rsaA, "A", jose.RS256, idClaims(is, clk))
	for range 2 {
		if _, err := a.Authenticate(context.Background(), bearer(tok)); outcome(err) != "forbidden" {
			t.Fatalf("got %v", err)
		}
	}
	if a.cache.len() != 0 {
		t.Fatal("forbidden token cached")
	}
}
