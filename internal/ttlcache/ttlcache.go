// Package ttlcache is a small, bounded map whose entries each expire at their own
// deadline. gatehouse uses it for verification results keyed by a digest (signatures,
// tokens, passwords): a hit is one map lookup under a mutex.
//
// It is hand-written rather than taken from a cache library because what these callers
// need is narrow (a per-entry deadline such as a token's exp, a hard size bound, no
// background goroutines) and eviction quality hardly matters: a miss costs one signature
// or hash check, not an origin fetch. When the map is full, Put first drops expired
// entries and, if that frees too little, arbitrary ones until an eighth of the room is
// free (Go's map order is randomised, so this is random eviction at constant amortised
// cost).
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values until a deadline. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	max     int
	entries map[K]entry[V]
}

type entry[V any] struct {
	val   V
	until time.Time
}

// New returns a cache holding at most max entries (at least 1).
func New[K comparable, V any](max int) *Cache[K, V] {
	max = maxInt(max, 1)
	return &Cache[K, V]{max: max, entries: make(map[K]entry[V], minInt(max, 1024))}
}

// Get returns the value stored under k if its deadline is after now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.val, true
}

// Put stores v under k until the deadline; a deadline not after now stores nothing.
func (c *Cache[K, V]) Put(k K, v V, until, now time.Time) {
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for key, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, key)
			}
		}
		for key := range c.entries {
			if len(c.entries) < c.max-c.max/8 {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = entry[V]{val: v, until: until}
}

// Delete removes k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// Clear removes every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// Len is the number of entries, expired ones included until they are evicted.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}
