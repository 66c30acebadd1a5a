package basicauth

import (
	"context"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// FailureSync shares a Limiter's failure counts with the other replicas of a fleet
// (internal/fleet implements it on Redis). With one, a client's failures count once
// across every replica, and a replica that cannot reach the shared counts divides every
// max_failures by Replicas: the fleet as a whole then still allows no more guesses than
// one healthy replica would.
type FailureSync interface {
	// Failed records a failure of key at t for the whole fleet and returns the key's
	// failure times across the fleet within the last minute, oldest first, at most keep.
	Failed(ctx context.Context, key string, t time.Time, keep int) ([]time.Time, error)
	// Degraded reports whether the shared counts cannot be reached now.
	Degraded() bool
	// Replicas is the most replicas that share the counts.
	Replicas() int
}

// Share makes l count failures across the fleet through s. Call it once, before use.
func (l *Limiter) Share(s FailureSync) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shared = s
}

// limit is the number of failures that blocks for an authenticator configured with n:
// n itself, or n divided by the fleet's replicas (at least 1) while the shared counts
// cannot be reached.
func (l *Limiter) effective(n int) int {
	if s := l.shared; s != nil && s.Degraded() {
		return max(1, n/max(1, s.Replicas()))
	}
	return n
}

// share records the failure of k at now with the fleet, and merges the fleet's count
// back. An error leaves the local count as it is (Degraded then says so).
func (l *Limiter) share(ctx context.Context, k limitKey, now time.Time) {
	l.mu.Lock()
	s, keep := l.shared, l.keep
	l.mu.Unlock()
	if s == nil {
		return
	}
	times, err := s.Failed(ctx, k.String(), now, keep)
	if err != nil {
		return
	}
	l.merge(k, times, now)
}

// Merge takes in another replica's view of key's failures (from the fleet's event
// stream): the local count becomes the union of both.
func (l *Limiter) Merge(key string, times []time.Time, now time.Time) {
	k, ok := parseLimitKey(key)
	if !ok {
		return
	}
	l.merge(k, times, now)
}

func (l *Limiter) merge(k limitKey, times []time.Time, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var recent []time.Time
	for _, t := range times {
		if now.Sub(t) < failureWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) == 0 {
		return
	}
	el, ok := l.groups[k]
	if !ok {
		l.expire(now)
		for len(l.groups) >= l.limit {
			l.drop(l.lru.Back())
		}
		el = l.lru.PushFront(&failures{key: k})
		l.groups[k] = el
	}
	f := el.Value.(*failures)
	// The union, compared to the millisecond: the fleet stores milliseconds, so a local
	// failure and its shared copy are one.
	all := append(append([]time.Time(nil), f.times...), recent...)
	for i := range all {
		all[i] = all[i].Truncate(time.Millisecond)
	}
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	all = slices.CompactFunc(all, func(a, b time.Time) bool { return a.Equal(b) })
	if len(all) > l.keep {
		all = all[len(all)-l.keep:]
	}
	f.times = all
	if last := all[len(all)-1]; last.After(f.last) {
		f.last = last
	}
}

// String is the key's fleet-wide name: the credential set's ID in hex, '/', the client
// group ("" for unknown clients).
func (k limitKey) String() string {
	g := ""
	if k.group.IsValid() {
		g = k.group.String()
	}
	return hex.EncodeToString(k.creds[:]) + "/" + g
}

func parseLimitKey(s string) (limitKey, bool) {
	h, g, ok := strings.Cut(s, "/")
	var k limitKey
	if !ok || hex.DecodedLen(len(h)) != len(k.creds) {
		return k, false
	}
	if _, err := hex.Decode(k.creds[:], []byte(h)); err != nil {
		return k, false
	}
	if g != "" {
		p, err := netip.ParsePrefix(g)
		if err != nil {
			return k, false
		}
		k.group = p
	}
	return k, true
}
