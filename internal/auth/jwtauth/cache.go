package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

const (
	// defaultCacheEntries bounds the verification cache.
	defaultCacheEntries = 4096
	// maxCacheTTL is the longest a verified token is trusted without re-verifying, so
	// a key removed from the JWKS stops being honoured soon even for cached tokens
	// (removal also clears the cache outright).
	maxCacheTTL = 5 * time.Minute
)

// verifyCache remembers tokens that passed every check (signature, times, issuer,
// audience, claim rules: all fixed per authenticator) with the identity they yield.
// Keys are SHA-256 digests, so the cache holds no usable tokens.
type verifyCache struct {
	mu      sync.RWMutex
	max     int
	entries map[[32]byte]cacheEntry
}

type cacheEntry struct {
	id    *policy.Identity // never handed out; callers get copies
	until time.Time        // min(exp, verification time + maxCacheTTL)
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, entries: make(map[[32]byte]cacheEntry, 64)}
}

func cacheKey(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

// get returns a copy of the cached identity while now is before the entry's deadline.
func (c *verifyCache) get(k [32]byte, now time.Time) (*policy.Identity, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return cloneIdentity(e.id), true
}

// put stores an identity until the given deadline; now is the authenticator's clock. When the cache is full it first
// drops expired entries and, if that frees too little, an arbitrary eighth of the rest
// (Go's map order is randomised, so this is random eviction: cheap, and fair enough for
// a cache whose misses cost one signature check).
func (c *verifyCache) put(k [32]byte, id *policy.Identity, until, now time.Time) {
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
	c.entries[k] = cacheEntry{id: id, until: until}
}

// clear forgets everything (after a key was removed from the JWKS).
func (c *verifyCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

func (c *verifyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
