// Package ratelimit counts requests per key over a sliding window and decides, in the
// process and without a network round trip, whether each may go ahead.
//
// # The window
//
// Each key has two fixed windows of length Per, the current one and the one before; the
// count over the sliding window ending now is estimated as
//
//	prev × (1 − elapsed/Per) + current
//
// where elapsed is how far into the current window now is. A request is admitted when
// the estimate plus one is at most the limit. The estimate assumes the previous window's
// requests were spread evenly over it: if they all came at its end, up to that many more
// requests than the limit fit in the true sliding window, and if they came at its start,
// fewer. Over any one fixed window the count never exceeds the limit; over any span of
// length Per it never exceeds twice the limit, and with evenly spread traffic it matches
// the limit. This is the estimate Cloudflare and nginx's limit_req-like counters use.
//
// # A fleet of replicas
//
// With a Syncer (Registry.SetFleet), each Limiter keeps, per key, the fleet's totals as
// last learned and this replica's counts not yet sent, and decides on their sum. A loop
// (Registry.Start) sends the unsent counts of the keys used since the last round, every
// Interval (100 ms by default), and stores the totals the Syncer returns. Between two
// rounds a replica admits at most ⌈(limit − F)/replicas⌉ requests of a key, F being the
// fleet's estimate it last learned; so replicas that all learned the same F admit at most
// replicas − 1 more than the limit together. A replica that has not learned a key's
// totals recently (it has not served the key for a while) decides on what it last knew:
// if every replica does so for the same key in the same interval, the fleet can admit up
// to about ⌈limit/replicas⌉ more per replica, once, until the next round.
//
// When Sync fails, or has not succeeded for StaleAfter (three intervals by default),
// every replica counts alone with the limit ⌈limit/replicas⌉ (its own counts of the
// current windows), and also keeps the fleet's totals as last learned, plus what it
// admitted since, under the whole limit. So the fleet admits no more than the limit in
// windows that start during the outage (replicas being the most replicas that share
// it), and in the window it began in no more than the limit plus what replicas that had
// not learned a key's totals admit of it, at most ⌈limit/replicas⌉ each.
// Without a Syncer the counting is local and exact: the limit applies to this process.
//
// Keys are SHA-256 hashes, truncated to 128 bits, of what is counted (a client address,
// an identity, a header value), so API keys are neither kept in memory nor sent to the
// fleet in clear. Each Limiter tracks at most MaxKeys keys: when full it drops keys idle
// for two windows, then the least recently used; a dropped key starts over (locally:
// the fleet still holds what was sent of it).
package ratelimit

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// Count is a number of requests of one key in one window, sent to and returned by a
// Syncer.
type Count struct {
	// Key names the limiter and the key: the limiter's ID, ':', the key's hash in hex.
	Key string
	// Window is the window's index: Unix time in nanoseconds divided by the limiter's
	// window length (the limiter's ID changes when the window length does).
	Window int64
	// N is a count: the replica's unsent requests (to Sync), the fleet's total (from it).
	N int64
	// TTL is how long the fleet must keep the count from now (to Sync; unset in what it
	// returns): until the window after Window ends, when no estimate reads it any more.
	TTL time.Duration
}

// Syncer shares counts between the replicas of a fleet.
type Syncer interface {
	// Sync adds this replica's unsynced counts to the fleet's and returns the fleet's
	// totals for the same keys and windows (including this replica's), in the same
	// order. Called with no counts it only checks that the fleet is reachable (a Redis
	// PING). It should return within a bounded time (a Redis command timeout): the loop
	// does not start another round while one runs. On error nothing it was given counts
	// as sent; the counts are sent again in the next round (a Sync that applied them and
	// then failed makes the fleet count them twice, which errs on the strict side).
	Sync(ctx context.Context, counts []Count) ([]Count, error)
}

// Options configure a Registry. Zero values take the defaults.
type Options struct {
	// Syncer shares counts with the fleet; nil: local counting (see SetFleet).
	Syncer Syncer
	// Replicas is the most replicas sharing the fleet (with a Syncer; default 1).
	Replicas int
	// Interval is how often counts are synced (default 100ms).
	Interval time.Duration
	// StaleAfter is how long after the last successful Sync the limiters fall back to
	// local counting with the divided limit (default 3 × Interval).
	StaleAfter time.Duration
	// MaxKeys bounds the keys each Limiter tracks (default 100,000).
	MaxKeys int
	// Now is the clock (default time.Now); tests inject theirs.
	Now func() time.Time
}

// Defaults.
const (
	DefaultInterval = 100 * time.Millisecond
	DefaultMaxKeys  = 100_000
)

// Registry is a process's limiters and the loop that syncs them with the fleet. It
// outlives configuration reloads (the gateway carries it over), so a limiter kept by a
// reload goes on counting, and the fleet settings given once hold for every limiter.
type Registry struct {
	now        func() time.Time
	interval   time.Duration
	staleAfter time.Duration
	maxKeys    int

	fleet  atomic.Pointer[fleet]
	lastOK atomic.Int64 // Unix nanoseconds of the last successful Sync; 0: never

	mu       sync.Mutex
	limiters []weak.Pointer[Limiter] // those no State holds any more are dropped by the GC
	started  bool
}

type fleet struct {
	syncer   Syncer
	replicas int64
}

// NewRegistry returns a Registry with no limiters.
func NewRegistry(o Options) *Registry {
	r := &Registry{now: o.Now, interval: o.Interval, staleAfter: o.StaleAfter, maxKeys: o.MaxKeys}
	if r.now == nil {
		r.now = time.Now
	}
	if r.interval <= 0 {
		r.interval = DefaultInterval
	}
	if r.staleAfter <= 0 {
		r.staleAfter = 3 * r.interval
	}
	if r.maxKeys <= 0 {
		r.maxKeys = DefaultMaxKeys
	}
	r.SetFleet(o.Syncer, o.Replicas)
	return r
}

// SetFleet makes every limiter of r count fleet-wide through s, replicas being the most
// replicas sharing it (values below 1 count as 1). A nil s makes counting local again.
// Until the first successful Sync, limiters use the divided limit.
func (r *Registry) SetFleet(s Syncer, replicas int) {
	if s == nil {
		r.fleet.Store(nil)
		return
	}
	r.fleet.Store(&fleet{syncer: s, replicas: int64(max(replicas, 1))})
}

// Start runs the sync loop until ctx ends: every Interval, a round of Sync (see
// SyncOnce). Without a fleet a round does nothing. Only the first call starts a loop.
func (r *Registry) Start(ctx context.Context) {
	r.mu.Lock()
	started := r.started
	r.started = true
	r.mu.Unlock()
	if started {
		return
	}
	go func() {
		t := time.NewTicker(r.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = r.SyncOnce(ctx) // a failure shows in the fallback; the next round retries
			}
		}
	}()
}

// Local reports whether r's limiters decide on this process's counts alone right now: no
// fleet, or Sync has not succeeded within StaleAfter.
func (r *Registry) Local() bool {
	_, m := r.mode(r.now().UnixNano())
	return m != modeFleet
}

type mode int

const (
	modeLocal  mode = iota // no fleet: this process's limit
	modeOutage             // fleet unreachable: the divided limit
	modeFleet              // fleet totals as last learned
)

func (r *Registry) mode(now int64) (*fleet, mode) {
	f := r.fleet.Load()
	switch {
	case f == nil:
		return nil, modeLocal
	case r.lastOK.Load() == 0 || now-r.lastOK.Load() > int64(r.staleAfter):
		return f, modeOutage
	}
	return f, modeFleet
}

// New returns a new Limiter admitting requests per window per key. id names it in the
// fleet's keys (the gateway uses the route's name and a hash of its settings, so that
// replicas whose settings differ count apart); it must not contain '\n'.
func (r *Registry) New(id string, requests int, per time.Duration) *Limiter {
	l := &Limiter{reg: r, id: id, limit: int64(requests), per: int64(per)}
	perShard := (r.maxKeys + shards - 1) / shards
	for i := range l.shards {
		l.shards[i].m = map[Key]*entry{}
		l.shards[i].max = perShard
	}
	r.mu.Lock()
	live := r.limiters[:0]
	for _, w := range r.limiters {
		if w.Value() != nil {
			live = append(live, w)
		}
	}
	r.limiters = append(live, weak.Make(l))
	r.mu.Unlock()
	return l
}

// live returns the limiters still in use.
func (r *Registry) live() []*Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Limiter, 0, len(r.limiters))
	live := r.limiters[:0]
	for _, w := range r.limiters {
		if l := w.Value(); l != nil {
			out = append(out, l)
			live = append(live, w)
		}
	}
	clear(r.limiters[len(live):])
	r.limiters = live
	return out
}

// Key identifies what a request is counted by: a truncated SHA-256 of its kind and
// value.
type Key [16]byte

// Key kinds, hashed with the value so that a header value never collides with an
// address.
const (
	kindClient   = 'c'
	kindIdentity = 'i'
	kindHeader   = 'h'
)

// ClientKey is the key of a client address: an IPv4 address, or an IPv6 address's /64
// (one subscriber usually holds a whole /64). The zero Addr (unknown) is one key.
func ClientKey(a netip.Addr) Key {
	var buf [18]byte
	buf[0] = kindClient
	if a.IsValid() {
		a = a.Unmap().WithZone("")
		if a.Is4() {
			b := a.As4()
			buf[1] = 4
			copy(buf[2:], b[:])
		} else {
			p, _ := a.Prefix(64)
			b := p.Addr().As16()
			buf[1] = 6
			copy(buf[2:], b[:8])
		}
	}
	return sum(buf[:])
}

// IdentityKey is the key of an identity (a user name or subject).
func IdentityKey(user string) Key { return stringKey(kindIdentity, user) }

// HeaderKey is the key of a header value.
func HeaderKey(value string) Key { return stringKey(kindHeader, value) }

func stringKey(kind byte, v string) Key {
	var buf [256]byte
	if len(v) < len(buf) {
		buf[0] = kind
		n := copy(buf[1:], v)
		return sum(buf[:1+n])
	}
	return sum(append([]byte{kind}, v...)) // longer than any sane key: allocating is fine
}

func sum(b []byte) Key {
	h := sha256.Sum256(b)
	return Key(h[:16])
}
