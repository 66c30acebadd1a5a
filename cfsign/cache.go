package cfsign

import (
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// verifyCache remembers signatures that verified, so a page whose hundred images share
// one cookie set costs one RSA or ECDSA verification. Entries hold the parsed policy;
// the time, address and resource conditions are still checked on every request. Keys
// are SHA-256 digests of (hash, key ID, signature, policy bytes), so the cache holds no
// usable credentials, and an entry is only ever found by the exact bytes that verified.
type verifyCache struct {
	mu      sync.RWMutex
	max     int
	entries map[[32]byte]cacheEntry
}

type cacheEntry struct {
	policy *Policy // immutable once cached
	until  time.Time
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, entries: make(map[[32]byte]cacheEntry, min(max, 1024))}
}

// cacheKey digests what a verification depends on. Fields are length-prefixed, so no
// two different inputs share a digest input.
func cacheKey(hash crypto.Hash, keyID string, sig, policy []byte) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, f := range [][]byte{{byte(hash)}, []byte(keyID), sig, policy} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns the cached policy while now is before the entry's deadline (the policy's
// DateLessThan: an entry never outlives the signature it stands for).
func (c *verifyCache) get(k [32]byte, now time.Time) (*Policy, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.policy, true
}

// put stores a verified policy until its expiry. When the cache is full it first drops
// expired entries and, if that frees too little, arbitrary ones until an eighth is free
// (Go's map order is random, so this is random eviction: cheap, and fair enough for a
// cache whose misses cost one signature check). The amortised cost per put is constant.
func (c *verifyCache) put(k [32]byte, p *Policy, now time.Time) {
	if !now.Before(p.DateLessThan) {
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
	c.entries[k] = cacheEntry{policy: p, until: p.DateLessThan}
}

func (c *verifyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func (c *verifyCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
