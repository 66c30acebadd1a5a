package basicauth

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// Success cache settings.
const (
	cacheTTL  = 5 * time.Minute
	cacheSize = 1024
)

// successCache remembers recent successful checks, so that a client sending the same
// credentials with every request pays for bcrypt or argon2id (60-250 ms of CPU on
// purpose) once per cacheTTL instead of on every request.
//
// The trade-off: the cache holds SHA-256 digests of (user, password, stored hash). Someone
// who can read the process's memory could test password guesses for cached users at
// SHA-256 speed instead of bcrypt speed; they could equally read passwords from request
// buffers, so this adds little. Nothing else gets weaker:
//   - only successes are cached, so every wrong password still costs a full check (and
//     counts towards the failure limit); a cache hit needs the exact right password;
//   - the stored hash is part of the key, and each reload of the users starts an empty
//     cache, so a changed password or a removed user takes effect at once, not after
//     the TTL;
//   - it is bounded (cacheSize entries, oldest inserted evicted first) and entries expire
//     after cacheTTL whether used or not.
//
// Digests are looked up with a map, not compared in constant time: a lookup's timing
// could at most reveal something about a SHA-256 digest, which does not help find the
// password behind it.
type successCache struct {
	mu      sync.Mutex
	expires map[[32]byte]time.Time
	order   [][32]byte // insertion ring; order[next] is evicted next when full
	next    int
}

func newSuccessCache(size int) *successCache {
	size = max(size, 1)
	return &successCache{expires: make(map[[32]byte]time.Time, size), order: make([][32]byte, 0, size)}
}

// cacheKey digests the credentials with the stored hash, each length-prefixed so that
// no two different triples give the same input.
func cacheKey(user, password string, h *hash) [32]byte {
	var stack [256]byte
	b := stack[:0]
	for _, s := range [...]string{user, password} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(h.raw)))
	b = append(b, h.raw...)
	k := sha256.Sum256(b)
	clear(b) // the password was in it
	return k
}

// ok reports whether k was stored less than cacheTTL before now.
func (c *successCache) ok(k [32]byte, now time.Time) bool {
	c.mu.Lock()
	exp, found := c.expires[k]
	c.mu.Unlock()
	return found && now.Before(exp)
}

// add stores k until now+cacheTTL.
func (c *successCache) add(k [32]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, found := c.expires[k]; found {
		c.expires[k] = now.Add(cacheTTL)
		return
	}
	if len(c.order) < cap(c.order) {
		c.order = append(c.order, k)
	} else {
		delete(c.expires, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % len(c.order)
	}
	c.expires[k] = now.Add(cacheTTL)
}
