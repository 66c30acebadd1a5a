package ratelimit

import (
	"encoding/hex"
	"math"
	"sync"
	"time"
)

// shards split a Limiter's keys so that requests of different keys rarely wait on one
// lock.
const shards = 16

// Limiter counts the requests of one route's keys. Its methods are safe for concurrent
// use.
type Limiter struct {
	reg   *Registry
	id    string
	limit int64
	per   int64 // window length in nanoseconds
	// shards hold the keys; a key's shard is its hash's first byte.
	shards [shards]shard
}

type shard struct {
	mu         sync.Mutex
	m          map[Key]*entry
	head, tail *entry // most and least recently used
	max        int
	// dirty are the entries used since the last sync round (only with a fleet).
	dirty []*entry
	_     [64]byte // keep shards' locks on separate cache lines
}

// entry is one key's counts. Windows: cur is window win, prev is win−1.
type entry struct {
	key        Key
	win        int64
	localCur   int64 // this replica's admitted requests
	localPrev  int64
	pendCur    int64 // this replica's requests not yet synced
	pendPrev   int64
	fleetCur   int64 // the fleet's totals, as last learned
	fleetPrev  int64
	last       int64 // when last used (Unix ns)
	dirty      bool
	name       string // the fleet key, made on the first sync
	prev, next *entry
}

// Decision is whether a request may go ahead.
type Decision struct {
	Allowed bool
	// RetryAfter is, on a denial, how long until a request of the key would be admitted
	// (whole seconds, at least 1), assuming no other request is admitted meanwhile.
	RetryAfter time.Duration
}

// ID is the limiter's name in the fleet's keys.
func (l *Limiter) ID() string { return l.id }

// Limit is the requests each key may make per window, and Per the window.
func (l *Limiter) Limit() int { return int(l.limit) }

// Per is the window length.
func (l *Limiter) Per() time.Duration { return time.Duration(l.per) }

// Len is how many keys the limiter tracks.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// Allow counts a request of k and says whether it may go ahead; a denied request is not
// counted.
func (l *Limiter) Allow(k Key) Decision {
	now := l.reg.now().UnixNano()
	f, mode := l.reg.mode(now)
	win, elapsed := now/l.per, now%l.per
	weight := 1 - float64(elapsed)/float64(l.per)

	s := &l.shards[k[0]%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(k, now, l.per)
	e.roll(win)
	e.last = now

	// Each check is a count (previous and current window) against a limit; a request
	// must pass every one.
	var checks [2]struct{ prev, cur, limit int64 }
	n := 1
	share := int64(math.MaxInt64)
	fleetPrev, fleetCur := e.fleetPrev+e.pendPrev, e.fleetCur+e.pendCur
	switch mode {
	case modeLocal:
		checks[0].prev, checks[0].cur, checks[0].limit = e.localPrev, e.localCur, l.limit
	case modeOutage:
		// This replica's own counts against its part of the limit, and the fleet's
		// totals as last learned (plus what it admitted since) against the whole.
		checks[0].prev, checks[0].cur, checks[0].limit = e.localPrev, e.localCur, (l.limit+f.replicas-1)/f.replicas
		checks[1].prev, checks[1].cur, checks[1].limit = fleetPrev, fleetCur, l.limit
		n = 2
	case modeFleet:
		checks[0].prev, checks[0].cur, checks[0].limit = fleetPrev, fleetCur, l.limit
		known := float64(e.fleetPrev)*weight + float64(e.fleetCur)
		share = int64(math.Ceil((float64(l.limit) - known) / float64(f.replicas)))
	}
	var wait time.Duration
	for _, c := range checks[:n] {
		if float64(c.prev)*weight+float64(c.cur)+1 > float64(c.limit) {
			wait = max(wait, retryAfter(c.prev, c.cur, c.limit, elapsed, l.per))
		}
	}
	if wait > 0 {
		return Decision{RetryAfter: wait}
	}
	if e.pendCur >= share {
		return Decision{RetryAfter: time.Second} // this replica's share until the next sync
	}
	e.localCur++
	if f != nil {
		e.pendCur++
		if !e.dirty {
			e.dirty = true
			s.dirty = append(s.dirty, e)
		}
	}
	return Decision{Allowed: true}
}

// retryAfter is how long until prev × (1 − elapsed/per) + cur + 1 ≤ limit, with no
// more requests admitted: within this window as prev's weight falls, or after the
// window ends (cur becoming prev), rounded up to whole seconds, at least one.
func retryAfter(prev, cur, limit, elapsed, per int64) time.Duration {
	room := float64(limit - 1) // the estimate must fall to this
	rest := float64(per - elapsed)
	var wait float64 // nanoseconds
	switch {
	case float64(cur) > room:
		// Not in this window: in the next, cur is prev; its weight must fall to room/cur.
		wait = rest + float64(per)*(1-room/float64(cur))
	case prev > 0:
		wait = min(float64(per)*(1-(room-float64(cur))/float64(prev))-float64(elapsed), rest)
	}
	secs := math.Ceil(wait / float64(time.Second))
	return time.Duration(max(secs, 1)) * time.Second
}

// roll moves e's counts to window win.
func (e *entry) roll(win int64) {
	switch {
	case e.win == win:
		return
	case e.win == win-1:
		e.localPrev, e.pendPrev, e.fleetPrev = e.localCur, e.pendCur, e.fleetCur
	default:
		e.localPrev, e.pendPrev, e.fleetPrev = 0, 0, 0
	}
	e.localCur, e.pendCur, e.fleetCur = 0, 0, 0
	e.win = win
}

// get returns k's entry, most recently used, adding it (and dropping idle or least
// recently used entries to stay within max) when new.
func (s *shard) get(k Key, now, per int64) *entry {
	if e, ok := s.m[k]; ok {
		s.toFront(e)
		return e
	}
	for s.tail != nil && (len(s.m) >= s.max || now-s.tail.last > 2*per) {
		s.remove(s.tail)
	}
	e := &entry{key: k, win: now / per}
	s.m[k] = e
	s.toFront(e)
	return e
}

func (s *shard) toFront(e *entry) {
	if s.head == e {
		return
	}
	if e.prev != nil || e.next != nil || s.tail == e {
		s.unlink(e)
	}
	e.next = s.head
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
}

func (s *shard) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (s *shard) remove(e *entry) {
	s.unlink(e)
	delete(s.m, e.key)
}

// fleetName is e's key in the fleet's counters.
func (l *Limiter) fleetName(e *entry) string {
	if e.name == "" {
		e.name = l.id + ":" + hex.EncodeToString(e.key[:])
	}
	return e.name
}
