package basicauth

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// failureWindow is how far back failed attempts count.
const failureWindow = time.Minute

// Memory bounds of the limiter: at most maxTrackedTimes failure times in all (24 bytes
// each, about 6 MiB), and never more than maxTrackedAddrs addresses.
const (
	maxTrackedTimes = 1 << 18
	maxTrackedAddrs = 10000
	minTrackedAddrs = 64
)

// limiter counts failed attempts per client address group and refuses a group once it
// has failed max times within the last minute (an exact sliding window: the group may
// try again when its oldest counted failure is a minute old).
//
// The count is per process. With several replicas behind a load balancer each counts on
// its own, so a client may fail up to max times per minute on each replica, until the
// counts move to a shared store.
//
// Memory is bounded: each group keeps at most max failure times, and at most `limit`
// groups are tracked. Groups whose last failure is over a minute old are dropped first;
// when all are recent, the group that failed least recently is evicted (so an attacker
// with very many addresses can make the limiter forget others; it cannot make it grow).
//
// Successes change nothing: resetting the count on success would let someone with one
// valid account interleave logins with guesses at other accounts' passwords.
type limiter struct {
	max   int
	limit int

	mu     sync.Mutex
	groups map[netip.Prefix]*list.Element // of *failures
	lru    list.List                      // most recent failure at the front
}

// failures is one group's recent failure times: a ring of at most max entries.
type failures struct {
	key   netip.Prefix
	times []time.Time
	next  int // index of the oldest time once the ring is full
	last  time.Time
}

// newLimiter allows n failures per minute and group (n >= 1).
func newLimiter(n int) *limiter {
	limit := min(max(maxTrackedTimes/n, minTrackedAddrs), maxTrackedAddrs)
	return &limiter{max: n, limit: limit, groups: map[netip.Prefix]*list.Element{}}
}

// clientKey groups client addresses: an IPv4 address (or IPv4-mapped IPv6) counts alone,
// an IPv6 address by its /64, since one host usually controls a whole /64. Requests of
// unknown origin (the zero Addr) share one group: refusing them together is the safe
// side, as their address is whatever an untrusted header said.
func clientKey(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// blocked reports whether group k has failed max times within the last minute.
func (l *limiter) blocked(k netip.Prefix, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.groups[k]
	if !ok {
		return false
	}
	f := el.Value.(*failures)
	if now.Sub(f.last) >= failureWindow {
		l.drop(el)
		return false
	}
	return len(f.times) == l.max && now.Sub(f.times[f.next]) < failureWindow
}

// fail records a failed attempt by group k.
func (l *limiter) fail(k netip.Prefix, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.groups[k]
	if !ok {
		l.expire(now)
		if len(l.groups) >= l.limit {
			l.drop(l.lru.Back())
		}
		el = l.lru.PushFront(&failures{key: k})
		l.groups[k] = el
	} else {
		l.lru.MoveToFront(el)
	}
	f := el.Value.(*failures)
	f.last = now
	if len(f.times) < l.max {
		f.times = append(f.times, now)
		return
	}
	f.times[f.next] = now
	f.next = (f.next + 1) % l.max
}

// expire drops groups whose last failure is a minute old or more. They sit at the back.
func (l *limiter) expire(now time.Time) {
	for el := l.lru.Back(); el != nil && now.Sub(el.Value.(*failures).last) >= failureWindow; el = l.lru.Back() {
		l.drop(el)
	}
}

func (l *limiter) drop(el *list.Element) {
	delete(l.groups, el.Value.(*failures).key)
	l.lru.Remove(el)
}

// tracked is the number of groups held, for tests.
func (l *limiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.groups)
}
