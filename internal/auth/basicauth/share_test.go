package basicauth

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// fleetFake is an in-process FailureSync: replicas share one list of times per key.
type fleetFake struct {
	times    map[string][]time.Time
	down     bool
	replicas int
}

func (f *fleetFake) Failed(_ context.Context, key string, t time.Time, keep int) ([]time.Time, error) {
	if f.down {
		return nil, errors.New("down")
	}
	ts := append(f.times[key], t.Truncate(time.Millisecond))
	if len(ts) > keep {
		ts = ts[len(ts)-keep:]
	}
	f.times[key] = ts
	return append([]time.Time(nil), ts...), nil
}
func (f *fleetFake) Degraded() bool { return f.down }
func (f *fleetFake) Replicas() int  { return f.replicas }

func TestLimiterSharedAcrossReplicas(t *testing.T) {
	fl := &fleetFake{times: map[string][]time.Time{}, replicas: 3}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	reps := []*Limiter{NewLimiter(), NewLimiter(), NewLimiter()}
	for _, l := range reps {
		l.allow(10)
		l.Share(fl)
	}
	k := limitKey{group: netip.MustParsePrefix("192.0.2.7/32")}
	for i := range 10 {
		l := reps[i%3]
		if l.blocked(k, 10, now) {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail(context.Background(), k, now.Add(time.Duration(i)*time.Second))
	}
	// The replica that saw the tenth failure knows at once; the others once the
	// fleet's event reaches them (Merge).
	if !reps[0].blocked(k, 10, now.Add(10*time.Second)) {
		t.Fatal("replica 0 (tenth failure) does not block")
	}
	for _, l := range reps[1:] {
		l.Merge(k.String(), fl.times[k.String()], now.Add(10*time.Second))
		if !l.blocked(k, 10, now.Add(10*time.Second)) {
			t.Fatal("a replica does not block after merging the fleet's failures")
		}
	}
	if reps[1].blocked(k, 10, now.Add(70*time.Second)) {
		t.Fatal("still blocked a minute after the last failure")
	}
}

func TestLimiterDegradedIsStricter(t *testing.T) {
	fl := &fleetFake{times: map[string][]time.Time{}, replicas: 3, down: true}
	l := NewLimiter()
	l.allow(10)
	l.Share(fl)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	k := limitKey{group: netip.MustParsePrefix("192.0.2.7/32")}
	for i := range 3 {
		if l.blocked(k, 10, now) {
			t.Fatalf("blocked after %d local failures (want 10/3 = 3)", i)
		}
		l.fail(context.Background(), k, now)
	}
	if !l.blocked(k, 10, now) {
		t.Fatal("with the fleet unreachable, 3 local failures of a limit of 10 over 3 replicas must block")
	}
	fl.down = false
	if l.blocked(k, 10, now) {
		t.Fatal("the full limit applies again once the fleet is back")
	}
}

func TestLimitKeyRoundTrip(t *testing.T) {
	for _, g := range []netip.Prefix{{}, netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/64")} {
		k := limitKey{creds: newCredentialsID("/x", map[string]string{"a": "b"}), group: g}
		got, ok := parseLimitKey(k.String())
		if !ok || got != k {
			t.Fatalf("%q: got %v %v", k.String(), got, ok)
		}
	}
	for _, bad := range []string{"", "zz/", "00/1.2.3.4/32", "nohash"} {
		if _, ok := parseLimitKey(bad); ok {
			t.Fatalf("%q parsed", bad)
		}
	}
}
