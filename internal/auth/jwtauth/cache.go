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
// audience, claim rules: all fixed per authenticator) with the identity they yield and
// the claims revocation checks read (those are not cached: a revocation applies to
// cached tokens at once). Keys are SHA-256 digests, so the cache holds no usable tokens.
type verifyCache struct {
	c *ttlcache.Cache[[32]byte, *verified] // identities are never handed out; callers get copies
}

// verified is what a token that passed every check yields.
type verified struct {
	id     *policy.Identity
	jti    string    // "" without a jti claim
	iat    time.Time // valid when hasIat
	hasIat bool
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{c: ttlcache.New[[32]byte, *verified](max)}
}

func cacheKey(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

// get returns the cached entry, with a copy of its identity, while now is before the
// entry's deadline.
func (c *verifyCache) get(k [32]byte, now time.Time) (verified, bool) {
	v, ok := c.c.Get(k, now)
	if !ok {
		return verified{}, false
	}
	out := *v
	out.id = cloneIdentity(v.id)
	return out, true
}

// put stores an identity until the given deadline (min(exp, now+maxCacheTTL), chosen by
// the caller); now is the authenticator's clock.
func (c *verifyCache) put(k [32]byte, v *verified, until, now time.Time) {
	c.c.Put(k, v, until, now)
}

// clear forgets everything (after a key was removed from the JWKS).
func (c *verifyCache) clear() { c.c.Clear() }

func (c *verifyCache) len() int { return c.c.Len() }
