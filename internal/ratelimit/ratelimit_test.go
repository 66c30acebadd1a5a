package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// clock is an injected clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time           { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *clock) Set(t time.Time)          { c.ns.Store(t.UnixNano()) }
func at(minute, second int) time.Time     { return time.Date(2026, 1, 1, 10, minute, second, 0, time.UTC) }
func key(s string) Key                    { return HeaderKey(s) }
func allowN(l *Limiter, k Key, n int) int { return countAllowed(l, k, n) }

func countAllowed(l *Limiter, k Key, n int) int {
	ok := 0
	for range n {
		if l.Allow(k).Allowed {
			ok++
		}
	}
	return ok
}

// memSyncer is an in-memory fleet for tests: the totals Redis would keep.
type memSyncer struct {
	mu     sync.Mutex
	totals map[string]int64
	fail   atomic.Bool
	calls  atomic.Int64
}

func newMemSyncer() *memSyncer { return &memSyncer{totals: map[string]int64{}} }

func (m *memSyncer) Sync(_ context.Context, counts []Count) ([]Count, error) {
	m.calls.Add(1)
	if m.fail.Load() {
		return nil, errors.New("fleet unreachable")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Count, len(counts))
	for i, c := range counts {
		k := fmt.Sprintf("%s/%d", c.Key, c.Window)
		m.totals[k] += c.N
		out[i] = Count{Key: c.Key, Window: c.Window, N: m.totals[k]}
	}
	return out, nil
}

// TestWindowMath: the two-window estimate, step by step.
func TestWindowMath(t *testing.T) {
	c := newClock(at(0, 0))
	l := NewRegistry(Options{Now: c.Now}).New("r", 10, time.Minute)
	k := key("a")
	if n := allowN(l, k, 15); n != 10 {
		t.Fatalf("first window admitted %d, want 10", n)
	}
	// Half-way into the next window the previous one weighs 0.5: 10×0.5 + cur + 1 ≤ 10
	// while cur ≤ 4.
	c.Set(at(1, 30))
	if n := allowN(l, k, 10); n != 5 {
		t.Fatalf("half-way into the next window admitted %d, want 5", n)
	}
	// Two windows later nothing of the first counts.
	c.Set(at(3, 0))
	if n := allowN(l, k, 20); n != 10 {
		t.Fatalf("two windows on admitted %d, want 10", n)
	}
	// Another key is counted apart.
	if n := allowN(l, key("b"), 3); n != 3 {
		t.Fatalf("another key admitted %d, want 3", n)
	}
}

// TestRetryAfter: a denial's Retry-After is the first whole second at which a request is
// admitted again; one second earlier it is still denied.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name               string
		prev, cur, limit   int64
		elapsed, per, want time.Duration
	}{
		{"current full: next window, then prev's weight", 0, 10, 10, 0, time.Minute, 66 * time.Second},
		{"limit 1: two windows", 0, 1, 1, 10 * time.Second, time.Minute, 110 * time.Second},
		{"prev weight falls within the window", 10, 5, 10, 30 * time.Second, time.Minute, 6 * time.Second},
		{"prev weight falls past the window's end", 10, 9, 10, 0, time.Minute, 60 * time.Second},
		{"at least one second", 10, 0, 10, 0, time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := retryAfter(tc.prev, tc.cur, tc.limit, int64(tc.elapsed), int64(tc.per))
			if got != tc.want {
				t.Errorf("retryAfter = %s, want %s", got, tc.want)
			}
		})
	}
	// Property: on random traffic, waiting Retry-After admits, one second less does not.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		per := time.Duration(1+rng.IntN(120)) * time.Second
		limit := 1 + rng.IntN(50)
		c := newClock(at(0, 0))
		c.Add(time.Duration(rng.Int64N(int64(10 * per))))
		l := NewRegistry(Options{Now: c.Now}).New("r", limit, per)
		k := key("x")
		var d Decision
		for range 4 * limit {
			if d = l.Allow(k); !d.Allowed {
				break
			}
			c.Add(time.Duration(rng.Int64N(int64(per) / int64(limit))))
		}
		if d.Allowed {
			continue
		}
		start := c.Now()
		c.Set(start.Add(d.RetryAfter - time.Second))
		if d.RetryAfter > time.Second && l.Allow(k).Allowed {
			t.Fatalf("case %d (limit %d per %s): admitted 1s before Retry-After %s", i, limit, per, d.RetryAfter)
		}
		c.Set(start.Add(d.RetryAfter))
		if !l.Allow(k).Allowed {
			t.Fatalf("case %d (limit %d per %s): still denied after Retry-After %s", i, limit, per, d.RetryAfter)
		}
	}
}

// replicas makes n registries sharing one in-memory fleet and one clock, each with a
// limiter of the same ID.
func replicas(n, limit int, per time.Duration, s Syncer, c *clock) ([]*Registry, []*Limiter) {
	regs := make([]*Registry, n)
	ls := make([]*Limiter, n)
	for i := range n {
		regs[i] = NewRegistry(Options{Syncer: s, Replicas: n, Now: c.Now})
		ls[i] = regs[i].New("api/abc", limit, per)
	}
	return regs, ls
}

func syncAll(t *testing.T, regs []*Registry) {
	t.Helper()
	for _, r := range regs {
		if err := r.SyncOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFleetThreeReplicas: three replicas sharing an in-memory fleet admit the limit
// between them (at most replicas − 1 more), whichever replica each request reaches, and
// a key exhausted on one is refused on the others after a sync.
func TestFleetThreeReplicas(t *testing.T) {
	c := newClock(at(0, 0))
	s := newMemSyncer()
	regs, ls := replicas(3, 100, time.Minute, s, c)
	syncAll(t, regs) // first round: the fleet is reachable
	k := key("client")
	total, most := 0, 0
	for round := range 20 {
		n := 0
		for i, l := range ls {
			n += allowN(l, k, 7+i*round%5)
		}
		total, most = total+n, max(most, n)
		c.Add(100 * time.Millisecond)
		syncAll(t, regs) // in turn: replica 0 learns the others' counts one round late
	}
	// The documented bound: the limit, plus what the fleet admitted in one interval,
	// plus replicas − 1.
	if total < 100 || total > 100+most+2 {
		t.Fatalf("the fleet admitted %d (at most %d in one interval), want 100 to %d", total, most, 100+most+2)
	}
	t.Logf("three replicas syncing in turn admitted %d of a limit of 100 (at most %d in one interval)", total, most)
	for i, l := range ls {
		if d := l.Allow(k); d.Allowed || d.RetryAfter < time.Second {
			t.Errorf("replica %d: %+v after the fleet used the limit", i, d)
		}
	}
	// All on one replica: it may use the whole limit, in shares, sync by sync.
	k2 := key("other")
	got := 0
	for range 20 {
		got += allowN(ls[0], k2, 50)
		c.Add(100 * time.Millisecond)
		syncAll(t, regs)
	}
	if got != 100 {
		t.Errorf("one replica alone admitted %d, want 100", got)
	}
	// Exhausted on replica 0: replicas 1 and 2, which have not served the key, know
	// nothing of it until their next sync, so each admits at most its share (the
	// documented bound); from the sync on they refuse it.
	if n := allowN(ls[1], k2, 50) + allowN(ls[2], k2, 50); n > 2*34 {
		t.Errorf("replicas 1 and 2 admitted %d of a key they had not seen, want at most their shares (68)", n)
	}
	syncAll(t, regs)
	if n := allowN(ls[1], k2, 5) + allowN(ls[2], k2, 5); n != 0 {
		t.Errorf("after a sync replicas 1 and 2 admitted %d of an exhausted key", n)
	}
	if s.calls.Load() == 0 {
		t.Fatal("no Sync calls")
	}
}

// TestFleetNewKeyShare: a replica that knows nothing of a key admits only its share
// before the next sync, so a burst spread over the fleet stays near the limit.
func TestFleetNewKeyShare(t *testing.T) {
	c := newClock(at(0, 0))
	regs, ls := replicas(3, 30, time.Minute, newMemSyncer(), c)
	syncAll(t, regs)
	k := key("burst")
	total := 0
	for _, l := range ls {
		total += allowN(l, k, 30)
	}
	if total != 30 {
		t.Fatalf("a burst within one interval admitted %d on three replicas, want 30 (10 each)", total)
	}
}

// TestOutageFallback: while Sync fails (and before it first succeeds), every replica
// counts alone with ⌈limit / replicas⌉; when it works again the counts made meanwhile
// reach the fleet.
func TestOutageFallback(t *testing.T) {
	c := newClock(at(0, 0))
	s := newMemSyncer()
	regs, ls := replicas(3, 100, time.Minute, s, c)
	k := key("k")
	if !regs[0].Local() {
		t.Fatal("before the first sync the limiters should count locally")
	}
	if n := allowN(ls[0], k, 50); n != 34 {
		t.Fatalf("before the first sync admitted %d, want ⌈100/3⌉ = 34", n)
	}
	syncAll(t, regs)
	if regs[0].Local() {
		t.Fatal("after a sync the limiters should count fleet-wide")
	}
	s.fail.Store(true)
	k2 := key("k2")
	for range 3 { // three failed rounds: still within StaleAfter
		c.Add(100 * time.Millisecond)
		if err := regs[1].SyncOnce(context.Background()); err == nil {
			t.Fatal("SyncOnce succeeded against a failing fleet")
		}
	}
	c.Add(time.Millisecond) // now past StaleAfter
	if !regs[1].Local() {
		t.Fatal("past StaleAfter the limiter should count locally")
	}
	if n := allowN(ls[1], k2, 50); n != 34 {
		t.Fatalf("during the outage admitted %d, want 34", n)
	}
	s.fail.Store(false)
	if err := regs[1].SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := regs[2].SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Replica 2 learns of k2 on its first use and its next sync.
	n := allowN(ls[2], k2, 100)
	if err := regs[2].SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	n += allowN(ls[2], k2, 100)
	if n > 100-34+2 {
		t.Fatalf("after the outage replica 2 admitted %d more of a key with 34 counted, want at most %d", n, 100-34+2)
	}
}

// TestLocalIsExact: without a fleet the limit applies to the process exactly, and no
// sync state is kept.
func TestLocalIsExact(t *testing.T) {
	c := newClock(at(0, 0))
	r := NewRegistry(Options{Now: c.Now})
	l := r.New("r", 5, time.Second)
	if n := allowN(l, key("a"), 100); n != 5 {
		t.Fatalf("admitted %d, want 5", n)
	}
	if err := r.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range l.shards {
		if len(l.shards[i].dirty) != 0 {
			t.Fatal("a local limiter tracks keys to sync")
		}
	}
}

// TestKeys: addresses are keyed by /64 for IPv6, IPv4-mapped as IPv4; kinds never
// collide; the fleet sees hashes, never the value.
func TestKeys(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	if ClientKey(a("2001:db8:1:2::1")) != ClientKey(a("2001:db8:1:2:ffff::9")) {
		t.Error("two addresses of one /64 have different keys")
	}
	if ClientKey(a("2001:db8:1:2::1")) == ClientKey(a("2001:db8:1:3::1")) {
		t.Error("two /64s share a key")
	}
	if ClientKey(a("::ffff:192.0.2.1")) != ClientKey(a("192.0.2.1")) {
		t.Error("an IPv4-mapped address differs from its IPv4 address")
	}
	if ClientKey(a("192.0.2.1")) == ClientKey(a("192.0.2.2")) {
		t.Error("two IPv4 addresses share a key")
	}
	if HeaderKey("alice") == IdentityKey("alice") {
		t.Error("a header value collides with an identity")
	}
	long := strings.Repeat("k", 1000)
	if HeaderKey(long) == HeaderKey(long+"x") || HeaderKey(long) != HeaderKey(strings.Repeat("k", 1000)) {
		t.Error("long values are not keyed by their whole content")
	}
	c := newClock(at(0, 0))
	s := newMemSyncer()
	regs, ls := replicas(1, 10, time.Minute, s, c)
	ls[0].Allow(HeaderKey("sk_live_SECRET"))
	syncAll(t, regs)
	for k := range s.totals {
		if strings.Contains(k, "SECRET") || !strings.HasPrefix(k, "api/abc:") {
			t.Errorf("fleet key %q", k)
		}
	}
}

// TestMemoryBound: many keys never grow a limiter past MaxKeys; idle keys go first.
func TestMemoryBound(t *testing.T) {
	c := newClock(at(0, 0))
	l := NewRegistry(Options{Now: c.Now, MaxKeys: 160}).New("r", 10, time.Minute)
	for i := range 20000 {
		l.Allow(ClientKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})))
	}
	if n := l.Len(); n > 160 {
		t.Fatalf("tracks %d keys, want at most 160", n)
	}
	// Keys idle for two windows are dropped as new ones arrive, below the bound too.
	l3 := NewRegistry(Options{Now: c.Now, MaxKeys: 16000}).New("r", 10, time.Minute)
	for i := range 2000 {
		l3.Allow(key(fmt.Sprint("old", i)))
	}
	c.Add(3 * time.Minute)
	for i := range 2000 {
		l3.Allow(key(fmt.Sprint("new", i)))
	}
	if n := l3.Len(); n != 2000 {
		t.Fatalf("tracks %d keys after 2000 went idle and 2000 came, want 2000", n)
	}
	// A recently used key survives a flood of new ones below the bound.
	hot := key("hot")
	l2 := NewRegistry(Options{Now: c.Now, MaxKeys: 1600}).New("r", 3, time.Minute)
	allowN(l2, hot, 3)
	for i := range 50 {
		l2.Allow(key(fmt.Sprint("flood", i)))
	}
	if l2.Allow(hot).Allowed {
		t.Error("a key at its limit was forgotten")
	}
}

// TestUnusedLimitersAreDropped: limiters nothing holds leave the registry.
func TestUnusedLimitersAreDropped(t *testing.T) {
	r := NewRegistry(Options{})
	kept := r.New("kept", 1, time.Second)
	for i := range 10 {
		r.New(fmt.Sprint("gone", i), 1, time.Second)
	}
	runtime.GC()
	if n := len(r.live()); n != 1 {
		t.Errorf("%d live limiters, want 1", n)
	}
	runtime.KeepAlive(kept)
}

// TestAllowDoesNotAllocate: an admitted request of a known key allocates nothing, with
// and without a fleet.
func TestAllowDoesNotAllocate(t *testing.T) {
	c := newClock(at(0, 0))
	for _, s := range []Syncer{nil, newMemSyncer()} {
		r := NewRegistry(Options{Now: c.Now, Syncer: s})
		_ = r.SyncOnce(context.Background())
		l := r.New("r", 1<<30, time.Hour)
		k := ClientKey(netip.MustParseAddr("192.0.2.1"))
		l.Allow(k)
		if n := testing.AllocsPerRun(1000, func() {
			if !l.Allow(k).Allowed {
				t.Fatal("denied")
			}
		}); n != 0 {
			t.Errorf("fleet %v: %v allocations per Allow", s != nil, n)
		}
		if n := testing.AllocsPerRun(1000, func() { _ = ClientKey(netip.MustParseAddr("2001:db8::1")) }); n != 0 {
			t.Errorf("%v allocations per ClientKey", n)
		}
		if n := testing.AllocsPerRun(1000, func() { _ = HeaderKey("sk_live_0123456789abcdef0123456789abcdef") }); n != 0 {
			t.Errorf("%v allocations per HeaderKey", n)
		}
	}
}

// TestConcurrentUse: requests and sync rounds at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := newMemSyncer()
	r := NewRegistry(Options{Syncer: s, Replicas: 2})
	l := r.New("r", 1000, time.Second)
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				if l.Allow(key(fmt.Sprint(g, i%7))).Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = r.SyncOnce(context.Background())
		}
	})
	wg.Wait()
	if admitted.Load() == 0 {
		t.Fatal("nothing admitted")
	}
}

func BenchmarkAllow(b *testing.B) {
	for _, fleet := range []bool{false, true} {
		b.Run(fmt.Sprintf("fleet=%v", fleet), func(b *testing.B) {
			o := Options{}
			if fleet {
				o.Syncer = newMemSyncer()
			}
			r := NewRegistry(o)
			_ = r.SyncOnce(context.Background())
			l := r.New("r", 1<<30, time.Hour)
			a := netip.MustParseAddr("192.0.2.1")
			b.ReportAllocs()
			for b.Loop() {
				l.Allow(ClientKey(a))
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		l := NewRegistry(Options{}).New("r", 1<<30, time.Hour)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				l.Allow(ClientKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})))
			}
		})
	})
}

// TestOutageKeepsFleetTotals: during an outage a replica also holds a key to the
// fleet's totals it last learned, so a key another replica exhausted stays refused.
func TestOutageKeepsFleetTotals(t *testing.T) {
	c := newClock(at(0, 0))
	s := newMemSyncer()
	regs, ls := replicas(3, 30, time.Minute, s, c)
	syncAll(t, regs)
	k := key("k")
	for range 10 {
		allowN(ls[0], k, 30)
		c.Add(100 * time.Millisecond)
		syncAll(t, regs)
	}
	// Replica 1 serves the key and learns the fleet's totals with the next round (it
	// may admit a share of it first: its first sight of the key).
	allowN(ls[1], k, 1)
	syncAll(t, regs)
	s.fail.Store(true)
	c.Add(time.Second)
	if !regs[1].Local() {
		t.Fatal("not in the outage fallback")
	}
	if n := allowN(ls[1], k, 10); n != 0 {
		t.Errorf("during an outage replica 1 admitted %d of a key the fleet had exhausted", n)
	}
	// Replica 2 never learned the key: it admits its part of the limit, no more.
	if n := allowN(ls[2], k, 30); n != 10 {
		t.Errorf("during an outage replica 2 admitted %d of a key it never saw, want ⌈30/3⌉ = 10", n)
	}
}

// TestSyncTTL: each count sent says how long the fleet must keep it: until the end of
// the window after its own.
func TestSyncTTL(t *testing.T) {
	c := newClock(at(0, 20))
	var got []Count
	s := syncFunc(func(_ context.Context, counts []Count) ([]Count, error) {
		got = append(got, counts...)
		return counts, nil
	})
	r := NewRegistry(Options{Syncer: s, Replicas: 1, Now: c.Now})
	l := r.New("r", 10, time.Minute)
	l.Allow(key("a"))
	if err := r.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TTL != 100*time.Second || got[1].TTL != 40*time.Second || got[0].Window != got[1].Window+1 {
		t.Fatalf("counts %+v, want TTLs 100s (current window) and 40s (previous)", got)
	}
}

type syncFunc func(context.Context, []Count) ([]Count, error)

func (f syncFunc) Sync(ctx context.Context, c []Count) ([]Count, error) { return f(ctx, c) }

// TestStartLoop: Start syncs every Interval and falls back to local counting when the
// fleet stops answering, then returns to fleet counting (in a synctest bubble: no real
// sleeps).
func TestStartLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newMemSyncer()
		r := NewRegistry(Options{Syncer: s, Replicas: 2})
		ctx, cancel := context.WithCancel(context.Background())
		r.Start(ctx)
		r.Start(ctx) // a second call starts nothing
		time.Sleep(150 * time.Millisecond)
		if r.Local() || s.calls.Load() != 1 {
			t.Fatalf("after one interval: local %v, %d calls", r.Local(), s.calls.Load())
		}
		s.fail.Store(true)
		time.Sleep(400 * time.Millisecond)
		if !r.Local() {
			t.Fatal("the fleet has failed for four intervals: want local counting")
		}
		s.fail.Store(false)
		time.Sleep(100 * time.Millisecond)
		if r.Local() {
			t.Fatal("the fleet answers again: want fleet counting")
		}
		cancel()
		synctest.Wait()
		n := s.calls.Load()
		time.Sleep(time.Second)
		if s.calls.Load() != n {
			t.Fatal("the loop went on after its context ended")
		}
	})
}
