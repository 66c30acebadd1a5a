package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse-dev/gatehouse/internal/auth/loginauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// startRedis starts a real redis-server for one test.
func startRedis(t *testing.T, extra ...string) *testenv.Redis {
	t.Helper()
	r, err := testenv.StartRedis(extra...)
	if errors.Is(err, testenv.ErrNoRedis) {
		t.Skip("redis-server not installed (scripts/test installs it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func redisConfig(addr string) *config.Redis {
	c := &config.Redis{Addresses: []string{addr}, Timeout: 500 * time.Millisecond}
	c.ApplyDefaults()
	return c
}

// startFleet starts one replica's Fleet against cfg.
func startFleet(t *testing.T, cfg *config.Redis, id string, setup func(*Fleet)) *Fleet {
	t.Helper()
	f, err := New(cfg, slog.New(slog.DiscardHandler), Options{ReplicaID: id})
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(f)
	}
	f.Start(context.Background())
	t.Cleanup(f.Close)
	return f
}

// eventually polls cond for up to d (a real server is on the other side: its answers
// take real time).
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder collects events of one kind.
type recorder struct {
	mu   sync.Mutex
	got  []Event
	lost []string
}

func (r *recorder) add(e Event) { r.mu.Lock(); r.got = append(r.got, e); r.mu.Unlock() }
func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.got...)
}
func (r *recorder) lostReasons() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lost...)
}

func TestEventsReachEveryReplica(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	var recs [3]recorder
	var fs [3]*Fleet
	for i := range fs {
		fs[i] = startFleet(t, cfg, string(rune('a'+i)), func(f *Fleet) { f.Handle("test", recs[i].add) })
	}
	for _, f := range fs {
		eventually(t, 5*time.Second, "replica synced", func() bool { return !f.LastSync().IsZero() })
	}
	eventually(t, 5*time.Second, "three replicas beat", func() bool { return fs[0].Status().Replicas == 3 })
	start := time.Now()
	id, err := fs[1].Publish(context.Background(), "test", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := fs[1].WaitApplied(context.Background(), id, 2*time.Second)
	if err != nil || a.Replicas != 3 || a.Applied != 3 {
		t.Fatalf("WaitApplied = %+v, %v", a, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("an event took %s to reach every replica (want under a second)", d)
	}
	for i := range recs {
		got := recs[i].events()
		if len(got) != 1 || string(got[0].Data) != "hello" || got[0].Mine != (i == 1) || got[0].Replica != "b" {
			t.Fatalf("replica %d got %+v", i, got)
		}
	}
}

func TestLostEventsAfterRedisRestart(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	var rec recorder
	f := startFleet(t, cfg, "a", func(f *Fleet) {
		f.OnLost(func(reason string) { rec.mu.Lock(); rec.lost = append(rec.lost, reason); rec.mu.Unlock() })
	})
	eventually(t, 5*time.Second, "synced", func() bool { return !f.LastSync().IsZero() })
	if len(rec.lostReasons()) != 0 {
		t.Fatal("the first connection must not count as lost events")
	}
	if err := rd.Restart(); err != nil { // persistence off: comes back empty
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "OnLost after Redis came back empty", func() bool { return len(rec.lostReasons()) == 1 })
}

func TestLostEventsWhenTrimmed(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	var rec recorder
	f, err := New(cfg, slog.New(slog.DiscardHandler), Options{ReplicaID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	f.OnLost(func(reason string) { rec.mu.Lock(); rec.lost = append(rec.lost, reason); rec.mu.Unlock() })
	c, err := rueidis.NewClient(f.clientOption()) // not started: resync is driven by hand
	if err != nil {
		t.Fatal(err)
	}
	f.client.Store(&clientBox{c})
	defer c.Close()
	ctx := context.Background()
	xadd := func() {
		if _, err := rd.Do("XADD", "{gatehouse}:events", "*", "r", "other", "k", "x", "d", ""); err != nil {
			t.Fatal(err)
		}
	}
	xadd()
	if err := f.resync(ctx); err != nil { // the first connection: starts at the end
		t.Fatal(err)
	}
	xadd() // unread, still there: a reconnection reads it, nothing is lost
	if err := f.resync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.lostReasons(); len(got) != 0 {
		t.Fatalf("lost %v with nothing trimmed", got)
	}
	f.stream.last = "0-1" // as if this replica had read nothing since
	xadd()
	if _, err := rd.Do("XTRIM", "{gatehouse}:events", "MAXLEN", "1"); err != nil {
		t.Fatal(err)
	}
	if err := f.resync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.lostReasons(); len(got) != 1 {
		t.Fatalf("after unread entries were trimmed: lost %v, want one report", got)
	}
}

func TestFailuresSharedAndSpentOnce(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	a := startFleet(t, cfg, "a", nil)
	b := startFleet(t, cfg, "b", nil)
	for _, f := range []*Fleet{a, b} {
		eventually(t, 5*time.Second, "synced", func() bool { return !f.LastSync().IsZero() })
	}
	now := time.Now()
	fa, fb := newFailures(a), newFailures(b)
	if _, err := fa.Failed(context.Background(), "k/192.0.2.1/32", now, 5); err != nil {
		t.Fatal(err)
	}
	got, err := fb.Failed(context.Background(), "k/192.0.2.1/32", now.Add(time.Millisecond), 5)
	if err != nil || len(got) != 2 {
		t.Fatalf("second replica's failure: fleet has %v, %v (want 2 times)", got, err)
	}
	// Redis answering with an error (here OOM under noeviction) leaves the counts
	// unshared: the limits are divided although the connection is up.
	if _, err := rd.Do("CONFIG", "SET", "maxmemory", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := fb.Failed(context.Background(), "k/192.0.2.1/32", now, 5); err == nil {
		t.Fatal("Failed succeeded on a Redis out of memory")
	}
	if !b.Connected() || !fb.Degraded() {
		t.Fatalf("after an error reply: connected %v, degraded %v (want true, true)", b.Connected(), fb.Degraded())
	}
	if _, err := rd.Do("CONFIG", "SET", "maxmemory", "0"); err != nil {
		t.Fatal(err)
	}
	if _, err := fb.Failed(context.Background(), "k/192.0.2.1/32", now, 5); err != nil || fb.Degraded() {
		t.Fatalf("after Redis has memory again: %v, degraded %v", err, fb.Degraded())
	}
	sa, sb := a.Spent(loginauth.NewSpent()), b.Spent(loginauth.NewSpent())
	exp := now.Add(time.Minute)
	if ok, err := sa.Use("state-1", exp, now); !ok || err != nil {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if ok, err := sb.Use("state-1", exp, now); ok || err != nil {
		t.Fatalf("replay on another replica: %v %v (want refused)", ok, err)
	}
	if err := rd.Pause(); err != nil {
		t.Fatal(err)
	}
	defer rd.Resume()
	if ok, err := sb.Use("state-2", exp, now); ok || err == nil {
		t.Fatalf("with Redis paused and on_outage deny: %v %v (want an error)", ok, err)
	}
}

// TestRegression_RestoreRace: after Redis lost its data, a replica that read the empty
// revocation list before the others had written theirs back dropped every revocation
// (fleete2e saw a revoked URL served again); and a flush under live connections was
// not noticed at all. Now the heartbeat sees a new epoch, each replica keeps its own
// records, and the write-back is published, so one that read the empty list learns it.
func TestRegression_RestoreRace(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	newSet := func() *revoke.Set { return revoke.NewSet(revoke.SetOptions{MaxStaleness: time.Minute}) }
	sa, sb, sc := newSet(), newSet(), newSet()
	var store revoke.Store
	a := startFleet(t, cfg, "a", func(f *Fleet) { store = f.Revocations(sa) })
	startFleet(t, cfg, "b", func(f *Fleet) { f.Revocations(sb) })
	eventually(t, 5*time.Second, "a synced", func() bool { return !a.LastSync().IsZero() })
	r, err := store.Add(context.Background(), revoke.Revocation{Kind: revoke.KindKey, Value: "K1", Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "b holds the revocation", func() bool { return sb.Len() == 1 })
	if _, err := rd.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	// c starts on the empty Redis, before a and b have noticed.
	startFleet(t, cfg, "c", func(f *Fleet) { f.Revocations(sc) })
	eventually(t, 10*time.Second, "c learns the revocation the others wrote back", func() bool {
		return sc.Len() == 1 && sc.List()[0].ID == r.ID
	})
	eventually(t, 5*time.Second, "the revocation back in Redis", func() bool {
		n, err := rd.Do("HLEN", "{gatehouse}:revocations")
		return err == nil && n == "1"
	})
	if sa.Len() != 1 || sb.Len() != 1 {
		t.Fatalf("a holds %d, b holds %d revocations after the flush, want 1 each", sa.Len(), sb.Len())
	}
}
