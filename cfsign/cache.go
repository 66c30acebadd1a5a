package cfsign

import (
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/ttlcache"
)

// verifyCache remembers signatures that verified, so a page whose hundred images share
// one cookie set costs one RSA or ECDSA verification. Entries hold the parsed policy;
// the time, address and resource conditions are still checked on every request. Keys
// are SHA-256 digests of (hash, key ID, encoded signature, policy bytes), so the cache
// holds no usable credentials, and an entry is only ever found by the exact bytes that
// verified.
type verifyCache struct {
	c *ttlcache.Cache[[32]byte, *Policy] // policies are immutable once cached
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{c: ttlcache.New[[32]byte, *Policy](max)}
}

// cacheKey digests what a verification depends on: the signature as encoded (strict
// base64: one encoding per byte string), so a hit needs no decoding. Fields are
// length-prefixed, so no two different inputs share a digest input. The input is built
// on the stack for signatures and policies of ordinary size.
func cacheKey(hash crypto.Hash, keyID, sig string, policy []byte) [32]byte {
	var buf [1536]byte
	b := buf[:0]
	field := func(f string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = append(binary.BigEndian.AppendUint64(b, 1), byte(hash))
	field(keyID)
	field(sig)
	b = binary.BigEndian.AppendUint64(b, uint64(len(policy)))
	b = append(b, policy...)
	return sha256.Sum256(b)
}

// get returns the cached policy while now is before the entry's deadline (the policy's
// DateLessThan: an entry never outlives the signature it stands for).
func (c *verifyCache) get(k [32]byte, now time.Time) (*Policy, bool) { return c.c.Get(k, now) }

// put stores a verified policy until its expiry (see ttlcache for eviction).
func (c *verifyCache) put(k [32]byte, p *Policy, now time.Time) { c.c.Put(k, p, p.DateLessThan, now) }

func (c *verifyCache) len() int { return c.c.Len() }

func (c *verifyCache) clear() { c.c.Clear() }
