package revoke_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// clock is an injected clock the tests move by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newSet(c *clock, opts revoke.SetOptions) *revoke.Set {
	opts.Now = c.Now
	s := revoke.NewSet(opts)
	return s
}

func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func hexOf(s string) string { h := hashOf(s); return hex.EncodeToString(h[:]) }

func TestSetMatching(t *testing.T) {
	c := &clock{now: t0}
	s := newSet(c, revoke.SetOptions{MaxStaleness: time.Minute})
	s.Replace([]revoke.Revocation{
		{Kind: revoke.KindPolicy, Value: hexOf("policy-a")},
		{Kind: revoke.KindKey, Value: "KALL"},
		{Kind: revoke.KindKey, Value: "KOLD", Before: t0.Add(-time.Hour), MaxLifetime: revoke.Duration(24 * time.Hour)},
		{Kind: revoke.KindJWT, Value: "jti-1", Expires: t0.Add(time.Hour)},
		{Kind: revoke.KindSubject, Value: "alice", Before: t0.Add(-time.Hour)},
		{Kind: revoke.KindUser, Value: "bob@example.org", Before: t0.Add(-time.Hour)},
	}, t0)
	pol := func(p string) func() [32]byte { return func() [32]byte { return hashOf(p) } }
	exp := t0.Add(time.Hour)
	cases := []struct {
		name    string
		err     error
		revoked bool
	}{
		{"policy revoked", s.CheckSigned("K1", pol("policy-a"), exp), true},
		{"other policy", s.CheckSigned("K1", pol("policy-b"), exp), false},
		{"key revoked", s.CheckSigned("KALL", pol("policy-b"), exp), true},
		// KOLD: revoked for what it signed before t0-1h, max lifetime 24h. A policy
		// expiring at t0 was signed at most 24h before that, so possibly before
		// t0-1h: refused.
		{"key before: may be older", s.CheckSigned("KOLD", pol("x"), t0), true},
		// Expiring at t0+23h+1s: signed after t0-1h (+1s) for sure.
		{"key before: surely newer", s.CheckSigned("KOLD", pol("x"), t0.Add(23*time.Hour+time.Second)), false},
		{"key before: exact issue older", s.CheckSignedIssued("KOLD", pol("x"), t0.Add(23*time.Hour+time.Second), t0.Add(-2*time.Hour)), true},
		{"key before: exact issue newer", s.CheckSignedIssued("KOLD", pol("x"), t0.Add(time.Hour), t0.Add(-30*time.Minute)), false},
		{"jti revoked", s.CheckJWT("jti-1", "carol", t0, true), true},
		{"other jti", s.CheckJWT("jti-2", "carol", t0, true), false},
		{"empty jti", s.CheckJWT("", "carol", t0, true), false},
		{"subject issued before", s.CheckJWT("", "alice", t0.Add(-2*time.Hour), true), true},
		{"subject issued after", s.CheckJWT("", "alice", t0.Add(-30*time.Minute), true), false},
		{"subject without iat", s.CheckJWT("", "alice", time.Time{}, false), true},
		{"user issued before", s.CheckUser("bob@example.org", t0.Add(-2*time.Hour)), true},
		{"user issued after", s.CheckUser("bob@example.org", t0), false},
		{"other user", s.CheckUser("eve@example.org", t0.Add(-2*time.Hour)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(tc.err, revoke.ErrRevoked); got != tc.revoked || (!tc.revoked && tc.err != nil) {
				t.Fatalf("err = %v, want revoked %v", tc.err, tc.revoked)
			}
			var re *revoke.RevokedError
			if tc.revoked && (!errors.As(tc.err, &re) || re.Revocation.ID == "") {
				t.Fatalf("err = %v: no record", tc.err)
			}
		})
	}
}

func TestSetPolicyHashOnlyWhenNeeded(t *testing.T) {
	c := &clock{now: t0}
	s := newSet(c, revoke.SetOptions{})
	s.Replace([]revoke.Revocation{{Kind: revoke.KindKey, Value: "K"}}, t0)
	called := false
	if err := s.CheckSigned("K2", func() [32]byte { called = true; return [32]byte{} }, t0); err != nil || called {
		t.Fatalf("err %v, hash computed %v: want neither without policy revocations", err, called)
	}
}

func TestSetApplyLiftExpire(t *testing.T) {
	c := &clock{now: t0}
	s := newSet(c, revoke.SetOptions{MaxStaleness: time.Minute})
	s.Replace(nil, t0)
	r := revoke.Revocation{Kind: revoke.KindJWT, Value: "j", Expires: t0.Add(time.Hour), Created: t0}
	r.ID = r.ComputeID()
	s.Apply(r)
	s.Apply(r) // twice is once
	if n := len(s.List()); n != 1 {
		t.Fatalf("List has %d records, want 1", n)
	}
	if err := s.CheckJWT("j", "", time.Time{}, false); !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("after Apply: %v", err)
	}
	s.Lift(r.ID)
	if err := s.CheckJWT("j", "", time.Time{}, false); err != nil {
		t.Fatalf("after Lift: %v", err)
	}
	s.Apply(r)
	c.now = t0.Add(time.Hour) // the record's Expires
	s.Synced(c.now)
	if err := s.CheckJWT("j", "", time.Time{}, false); err != nil {
		t.Fatalf("expired record still matches: %v", err)
	}
	if n := len(s.List()); n != 0 {
		t.Fatalf("List shows %d expired records", n)
	}
	s.Apply(revoke.Revocation{Kind: revoke.KindJWT, Value: "k", Expires: c.now.Add(time.Hour)}) // drops the expired one
	if l := s.List(); len(l) != 1 || l[0].Value != "k" {
		t.Fatalf("List = %+v", l)
	}
}

func TestSetStaleness(t *testing.T) {
	c := &clock{now: t0}
	s := newSet(c, revoke.SetOptions{MaxStaleness: 30 * time.Second})
	if err := s.CheckUser("u", t0); !errors.Is(err, revoke.ErrStale) {
		t.Fatalf("never loaded: %v, want ErrStale", err)
	}
	s.Replace(nil, t0)
	c.now = t0.Add(30 * time.Second)
	if err := s.CheckUser("u", t0); err != nil {
		t.Fatalf("at max staleness: %v", err)
	}
	c.now = t0.Add(31 * time.Second)
	if err := s.CheckSigned("k", nil, t0); !errors.Is(err, revoke.ErrStale) {
		t.Fatalf("past max staleness: %v, want ErrStale", err)
	}
	s.Synced(t0.Add(31 * time.Second))
	s.Synced(t0) // older: ignored
	if err := s.CheckJWT("j", "s", t0, true); err != nil {
		t.Fatalf("after Synced: %v", err)
	}

	allow := newSet(c, revoke.SetOptions{MaxStaleness: time.Second, AllowStale: true})
	if err := allow.CheckUser("u", t0); err != nil {
		t.Fatalf("AllowStale, never loaded: %v", err)
	}
	allow.Replace([]revoke.Revocation{{Kind: revoke.KindUser, Value: "u", Before: t0.Add(time.Second)}}, t0)
	c.now = t0.Add(time.Hour)
	if err := allow.CheckUser("u", t0); !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("AllowStale uses the last list: %v", err)
	}
}

func TestNilSet(t *testing.T) {
	var s *revoke.Set
	if s.CheckSigned("k", nil, t0) != nil || s.CheckJWT("j", "s", t0, false) != nil || s.CheckUser("u", t0) != nil || s.List() != nil {
		t.Fatal("a nil Set must let everything through")
	}
}

func TestSetAllocations(t *testing.T) {
	c := &clock{now: t0}
	empty := newSet(c, revoke.SetOptions{MaxStaleness: time.Minute})
	empty.Replace(nil, t0)
	full := newSet(c, revoke.SetOptions{MaxStaleness: time.Minute})
	full.Replace([]revoke.Revocation{
		{Kind: revoke.KindPolicy, Value: hexOf("p")},
		{Kind: revoke.KindKey, Value: "K", Before: t0.Add(-time.Hour), MaxLifetime: revoke.Duration(time.Hour)},
		{Kind: revoke.KindJWT, Value: "j", Expires: t0.Add(time.Hour)},
		{Kind: revoke.KindSubject, Value: "s", Before: t0.Add(-time.Hour)},
		{Kind: revoke.KindUser, Value: "u", Before: t0.Add(-time.Hour)},
	}, t0)
	h := func() [32]byte { return [32]byte{1} }
	for name, s := range map[string]*revoke.Set{"empty": empty, "no match": full} {
		n := testing.AllocsPerRun(100, func() {
			if s.CheckSigned("K", h, t0.Add(time.Hour)) != nil || s.CheckJWT("x", "s", t0, true) != nil || s.CheckUser("u", t0) != nil {
				t.Fatal("unexpected match")
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per check, want 0", name, n)
		}
	}
}

func TestComputeID(t *testing.T) {
	a := revoke.Revocation{Kind: revoke.KindUser, Value: "u", Before: t0, Reason: "x", Created: t0}
	b := revoke.Revocation{Kind: revoke.KindUser, Value: "u", Before: t0.In(time.FixedZone("x", 3600)), Expires: t0.Add(time.Hour)}
	if a.ComputeID() != b.ComputeID() || len(a.ComputeID()) != 32 {
		t.Fatalf("same revocation, IDs %s and %s", a.ComputeID(), b.ComputeID())
	}
	for _, c := range []revoke.Revocation{
		{Kind: revoke.KindSubject, Value: "u", Before: t0},
		{Kind: revoke.KindUser, Value: "v", Before: t0},
		{Kind: revoke.KindUser, Value: "u", Before: t0.Add(time.Second)},
	} {
		if c.ComputeID() == a.ComputeID() {
			t.Errorf("%+v shares the ID of %+v", c, a)
		}
	}
}

// BenchmarkCheck is the hot-path cost of the three checks, with no revocation and with
// a thousand that do not match.
func BenchmarkCheck(b *testing.B) {
	c := &clock{now: t0}
	empty := newSet(c, revoke.SetOptions{MaxStaleness: time.Minute})
	empty.Replace(nil, t0)
	many := newSet(c, revoke.SetOptions{MaxStaleness: time.Minute})
	var all []revoke.Revocation
	for i := range 1000 {
		v := hexOf(string(rune(i)))
		all = append(all, revoke.Revocation{Kind: revoke.KindPolicy, Value: v}, revoke.Revocation{Kind: revoke.KindJWT, Value: v, Expires: t0.Add(time.Hour)},
			revoke.Revocation{Kind: revoke.KindUser, Value: v, Before: t0})
	}
	many.Replace(all, t0)
	h := func() [32]byte { return [32]byte{1} }
	for name, s := range map[string]*revoke.Set{"none": empty, "3000 no match": many} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = s.CheckSigned("K", h, t0)
				_ = s.CheckJWT("j", "s", t0, true)
				_ = s.CheckUser("u", t0)
			}
		})
	}
}

// TestRegression_RevokedInTheSameSecond: a revocation "before now" (Before truncated to
// the second by the server and the CLI) also covers what was issued in that second:
// issue times are whole seconds, so it may have been issued before the revocation. The
// review found a JWT and login cookies issued in the same second still accepted.
func TestRegression_RevokedInTheSameSecond(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := revoke.NewSet(revoke.SetOptions{Now: func() time.Time { return at.Add(300 * time.Millisecond) }})
	s.Replace([]revoke.Revocation{
		{ID: "s", Kind: revoke.KindSubject, Value: "carol", Before: at},
		{ID: "u", Kind: revoke.KindUser, Value: "ana@example.com", Before: at},
		{ID: "k", Kind: revoke.KindKey, Value: "K1", Before: at, MaxLifetime: revoke.Duration(time.Hour)},
	}, at)
	if err := s.CheckJWT("", "carol", at, true); !errors.Is(err, revoke.ErrRevoked) {
		t.Errorf("JWT issued in the revocation's second: %v, want revoked", err)
	}
	if err := s.CheckJWT("", "carol", at.Add(time.Second), true); err != nil {
		t.Errorf("JWT issued the second after: %v, want accepted", err)
	}
	if err := s.CheckUser("ana@example.com", at); !errors.Is(err, revoke.ErrRevoked) {
		t.Errorf("login cookie issued in the revocation's second: %v, want revoked", err)
	}
	if err := s.CheckSignedIssued("K1", nil, at.Add(time.Hour), at); !errors.Is(err, revoke.ErrRevoked) {
		t.Errorf("login cookie of a revoked key issued in the revocation's second: %v, want revoked", err)
	}
	if err := s.CheckSigned("K1", nil, at.Add(time.Hour)); !errors.Is(err, revoke.ErrRevoked) {
		t.Errorf("policy expiring max_lifetime after the revocation's second: %v, want revoked", err)
	}
}
