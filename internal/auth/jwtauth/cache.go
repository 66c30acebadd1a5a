package jwtauth

import (
	"crypto/sha256"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/ttlcache"
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
	c *ttlcache.Cache[[32]byte, *policy.Identity] // identities are never handed out; callers get copies
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{c: ttlcache.New[[32]byte, *policy.Identity](max)}
}

func cacheKey(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

// get returns a copy of the cached identity while now is before the entry's deadline.
func (c *verifyCache) get(k [32]byte, now time.Time) (*policy.Identity, bool) {
	id, ok := c.c.Get(k, now)
	if !ok {
		return nil, false
	}
	return cloneIdentity(id), true
}

// put stores an identity until the given deadline (min(exp, now+maxCacheTTL), chosen by
// the caller); now is the authenticator's clock.
func (c *verifyCache) put(k [32]byte, id *policy.Identity, until, now time.Time) {
	c.c.Put(k, id, until, now)
}

// clear forgets everything (after a key was removed from the JWKS).
func (c *verifyCache) clear() { c.c.Clear() }

func (c *verifyCache) len() int { return c.c.Len() }
