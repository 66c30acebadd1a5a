package basicauth

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// failureWindow is how far back failed attempts count.
const failureWindow = time.Minute

// Memory bounds of a Limiter: at most about maxTrackedTimes failure times in all (24
// bytes each, about 6 MiB), and never more than maxTrackedAddrs keys.
const (
	maxTrackedTimes = 1 << 18
	maxTrackedAddrs = 10000
	minTrackedAddrs = 64
)

// Limiter counts failed Basic attempts and tells authenticators when a client has failed
// too often. One Limiter is meant to be shared by every basic authenticator of a running
// gateway (the gateway keeps it across configuration reloads), so that a client's guesses
// count once however many routes offer the same users.
//
// Failures are counted per client address group (see clientKey) and credential set: the
// htpasswd file (by absolute path) together with the inline users. Authenticators built
// from the same credentials, on any route, share one count; an authenticator refuses a
// client once that count reaches its own max_failures within the last minute (an exact
// sliding window: the client may try again when its oldest counted failure is a minute
// old). Credential sets are kept apart on purpose: a route that tries two different
// basic authenticators in turn (mode any) makes every request of the second one's users
// a failure of the first, and those users must not be locked out of the second by it.
// Two different sets that both hold one user give a client two budgets for that user;
// keep each population in one set.
//
// The count is per process unless the Limiter is shared with a fleet (Share, share.go):
// then every failure is recorded in Redis and pushed to every replica, so a client's
// failures count once across the fleet.
//
// Memory is bounded: each key keeps at most as many failure times as the largest
// max_failures of the authenticators using the Limiter, and the number of keys is bounded
// so that all of them together hold about maxTrackedTimes times. Keys whose last failure
// is over a minute old are dropped first; when all are recent, the key that failed least
// recently is evicted (so an attacker with very many addresses can make the Limiter
// forget others; it cannot make it grow).
//
// Successes change nothing: resetting the count on success would let someone with one
// valid account interleave logins with guesses at other accounts' passwords.
//
// A Limiter is safe for concurrent use; the zero value is not usable, call NewLimiter.
type Limiter struct {
	mu     sync.Mutex
	keep   int                        // failure times kept per key: the largest max_failures registered
	limit  int                        // keys tracked at most
	groups map[limitKey]*list.Element // of *failures
	lru    list.List                  // most recent failure at the front
	shared FailureSync                // nil: this process alone (see share.go)
}

// limitKey is what failures are counted by.
type limitKey struct {
	creds credentialsID
	group netip.Prefix
}

// credentialsID identifies a credential set: a SHA-256 over the htpasswd file's absolute
// path and the inline users with their hashes.
type credentialsID [32]byte

// failures is one key's recent failure times, oldest first, at most keep of them.
type failures struct {
	key   limitKey
	times []time.Time
	last  time.Time
}

// NewLimiter returns an empty Limiter. Authenticators register their max_failures with
// it when they are built (see Options.Failures).
func NewLimiter() *Limiter {
	l := &Limiter{groups: map[limitKey]*list.Element{}}
	l.allow(1)
	return l
}

// allow makes room for an authenticator that refuses a client after n failures: each key
// keeps at least n failure times from now on (n >= 1).
func (l *Limiter) allow(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keep = max(l.keep, n)
	l.limit = min(max(maxTrackedTimes/l.keep, minTrackedAddrs), maxTrackedAddrs)
}

// newCredentialsID identifies the credentials of a basic configuration. A relative file
// path is made absolute, so two spellings of one path are one set; inline users are
// taken in name order, each name and hash length-prefixed.
func newCredentialsID(file string, inline map[string]string) credentialsID {
	if file != "" {
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
	}
	h := sha256.New()
	put := func(s string) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		h.Write([]byte(s))
	}
	put(file)
	names := make([]string, 0, len(inline))
	for u := range inline {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		put(u)
		put(inline[u])
	}
	var id credentialsID
	h.Sum(id[:0])
	return id
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

// blocked reports whether k has failed n times or more within the last minute.
func (l *Limiter) blocked(k limitKey, n int, now time.Time) bool {
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
	n = l.effective(max(n, 1))
	return len(f.times) >= n && now.Sub(f.times[len(f.times)-n]) < failureWindow
}

// fail records a failed attempt by k, with the fleet too when the Limiter is shared.
func (l *Limiter) fail(ctx context.Context, k limitKey, now time.Time) {
	l.failLocal(k, now)
	l.share(ctx, k, now)
}

func (l *Limiter) failLocal(k limitKey, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.groups[k]
	if !ok {
		l.expire(now)
		for len(l.groups) >= l.limit {
			l.drop(l.lru.Back())
		}
		el = l.lru.PushFront(&failures{key: k})
		l.groups[k] = el
	} else {
		l.lru.MoveToFront(el)
	}
	f := el.Value.(*failures)
	f.last = now
	// Dropping the oldest by reslicing: append copies the kept times into a new array
	// when the old one is full, so a key never holds more than about 2*keep times.
	f.times = append(f.times, now)
	if len(f.times) > l.keep {
		f.times = f.times[len(f.times)-l.keep:]
	}
}

// expire drops keys whose last failure is a minute old or more. They sit at the back.
func (l *Limiter) expire(now time.Time) {
	for el := l.lru.Back(); el != nil && now.Sub(el.Value.(*failures).last) >= failureWindow; el = l.lru.Back() {
		l.drop(el)
	}
}

func (l *Limiter) drop(el *list.Element) {
	delete(l.groups, el.Value.(*failures).key)
	l.lru.Remove(el)
}

// tracked is the number of keys held, for tests.
func (l *Limiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.groups)
}
