package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sent is one entry's counts in a Sync round: its current window and what was sent for
// it and the window before.
type sent struct {
	l         *Limiter
	s         *shard
	e         *entry
	win       int64
	cur, prev int64
}

// SyncOnce runs one round: it sends the unsent counts of every key used since the last
// round (current and previous window; zero counts too, to learn the fleet's totals), and
// stores the totals returned. A round with nothing to send still calls Sync (with no
// counts: a health check), so that an idle replica knows whether the fleet is there. On
// failure the counts stay unsent and the keys are sent
// again next round. Without a fleet it does nothing.
func (r *Registry) SyncOnce(ctx context.Context) error {
	f := r.fleet.Load()
	if f == nil {
		return nil
	}
	var batch []sent
	var counts []Count
	now := r.now().UnixNano()
	for _, l := range r.live() {
		for i := range l.shards {
			s := &l.shards[i]
			s.mu.Lock()
			for _, e := range s.dirty {
				e.dirty = false
				if s.m[e.key] != e {
					continue // dropped since: its unsent counts are lost
				}
				name := l.fleetName(e)
				batch = append(batch, sent{l: l, s: s, e: e, win: e.win, cur: e.pendCur, prev: e.pendPrev})
				ttl := time.Duration((e.win+2)*l.per - now) // the end of the window after e.win
				counts = append(counts, Count{Key: name, Window: e.win, N: e.pendCur, TTL: ttl},
					Count{Key: name, Window: e.win - 1, N: e.pendPrev, TTL: ttl - time.Duration(l.per)})
			}
			clear(s.dirty)
			s.dirty = s.dirty[:0]
			s.mu.Unlock()
		}
	}
	totals, err := f.syncer.Sync(ctx, counts)
	if err == nil && len(totals) != len(counts) {
		err = fmt.Errorf("ratelimit: Sync returned %d totals for %d counts", len(totals), len(counts))
	}
	for i := range totals {
		if err == nil && (totals[i].Key != counts[i].Key || totals[i].Window != counts[i].Window) {
			err = errors.New("ratelimit: Sync returned totals out of order")
		}
	}
	if err != nil {
		for _, b := range batch {
			b.s.mu.Lock()
			if !b.e.dirty && b.s.m[b.e.key] == b.e {
				b.e.dirty = true
				b.s.dirty = append(b.s.dirty, b.e)
			}
			b.s.mu.Unlock()
		}
		return err
	}
	for i, b := range batch {
		cur, prev := totals[2*i].N, totals[2*i+1].N
		b.s.mu.Lock()
		e := b.e
		switch e.win {
		case b.win:
			e.fleetCur, e.pendCur = cur, e.pendCur-b.cur
			e.fleetPrev, e.pendPrev = prev, e.pendPrev-b.prev
		case b.win + 1: // the window turned during the round
			e.fleetPrev, e.pendPrev = cur, e.pendPrev-b.cur
		}
		b.s.mu.Unlock()
	}
	r.lastOK.Store(r.now().UnixNano())
	return nil
}
