// Package ratelimittest checks a ratelimit.Syncer implementation against what the
// limiters rely on, so the fleet's Redis Syncer is tested with the limiters themselves
// (call Check from its package's tests, against a real Redis).
package ratelimittest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
)

// Check runs a Syncer through the contract: an empty round is a health check; counts add
// up across Syncers of one fleet, per key and window; totals come back in the order
// asked; and three replicas' limiters, each with its own Syncer from newSyncer (one per
// replica, all sharing one fleet), admit a key's limit between them. newSyncer must
// return Syncers that share state with one another and with nothing else (a fresh key
// prefix per call of Check).
func Check(t *testing.T, newSyncer func(t *testing.T) ratelimit.Syncer) {
	ctx := context.Background()
	t.Run("empty", func(t *testing.T) {
		got, err := newSyncer(t).Sync(ctx, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("Sync(nil) = %v, %v; want no totals and no error", got, err)
		}
	})
	t.Run("adds", func(t *testing.T) {
		a, b := newSyncer(t), newSyncer(t)
		id := fmt.Sprintf("check-%d", time.Now().UnixNano())
		ttl := time.Minute
		mustSync := func(s ratelimit.Syncer, in []ratelimit.Count, want ...int64) {
			t.Helper()
			got, err := s.Sync(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("Sync(%v) = %v, want %d totals", in, got, len(want))
			}
			for i := range got {
				if got[i].Key != in[i].Key || got[i].Window != in[i].Window || got[i].N != want[i] {
					t.Fatalf("Sync(%v) = %v, want totals %v in the order asked", in, got, want)
				}
			}
		}
		k1, k2 := id+":k1", id+":k2"
		mustSync(a, []ratelimit.Count{{Key: k1, Window: 7, N: 3, TTL: ttl}, {Key: k1, Window: 6, N: 0, TTL: ttl}}, 3, 0)
		mustSync(b, []ratelimit.Count{{Key: k1, Window: 7, N: 2, TTL: ttl}, {Key: k2, Window: 7, N: 1, TTL: ttl}, {Key: k1, Window: 6, N: 4, TTL: ttl}}, 5, 1, 4)
		mustSync(a, []ratelimit.Count{{Key: k2, Window: 7, N: 0, TTL: ttl}, {Key: k1, Window: 7, N: 0, TTL: ttl}}, 1, 5)
	})
	t.Run("three replicas", func(t *testing.T) {
		const limit = 60
		ls := make([]*ratelimit.Limiter, 3)
		regs := make([]*ratelimit.Registry, 3)
		id := fmt.Sprintf("check-%d", time.Now().UnixNano())
		for i := range ls {
			regs[i] = ratelimit.NewRegistry(ratelimit.Options{Syncer: newSyncer(t), Replicas: 3})
			ls[i] = regs[i].New(id, limit, time.Hour)
		}
		syncAll := func() {
			for _, r := range regs {
				if err := r.SyncOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		syncAll()
		k := ratelimit.HeaderKey("check")
		total, most := 0, 0
		for range 15 {
			n := 0
			for _, l := range ls {
				for range 5 {
					if l.Allow(k).Allowed {
						n++
					}
				}
			}
			total, most = total+n, max(most, n)
			syncAll()
		}
		if total < limit || total > limit+most+2 {
			t.Fatalf("three replicas admitted %d (at most %d in one round), want %d to %d", total, most, limit, limit+most+2)
		}
		for i, l := range ls {
			if l.Allow(k).Allowed {
				t.Errorf("replica %d admits a key the fleet used up", i)
			}
		}
	})
}
