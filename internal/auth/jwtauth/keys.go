package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted from a JWKS.
const minRSABits = 2048

// keySet is one loaded JWKS, immutable once built: verification keys by kid.
type keySet struct {
	byKID map[string][]verKey
	count int
}

// verKey is a public key usable for verification. alg is the JWK's "alg", or "" when
// the JWK did not restrict it (the key type still must fit the token's algorithm).
type verKey struct {
	key any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	alg jose.SignatureAlgorithm
}

// lookup returns the keys published under kid; found reports whether any key has that
// kid at all, so the caller can tell "unknown key" (refetch) from "wrong kind of key".
func (s *keySet) lookup(kid string, alg jose.SignatureAlgorithm) (keys []verKey, found bool) {
	all, found := s.byKID[kid]
	for _, k := range all {
		if k.fits(alg) {
			keys = append(keys, k)
		}
	}
	return keys, found
}

// removedFrom reports whether some kid in old is missing from s (a key was revoked or
// rotated out), which invalidates any verification cached under it.
func (s *keySet) removedFrom(old *keySet) bool {
	if old == nil {
		return false
	}
	for kid := range old.byKID {
		if _, ok := s.byKID[kid]; !ok {
			return true
		}
	}
	return false
}

// fits reports whether the key may verify a token signed with alg: the key's type (and
// curve) must be the one alg is defined for, and a JWK that names an alg allows only it.
func (k verKey) fits(alg jose.SignatureAlgorithm) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch pub := k.key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return pub.Curve == elliptic.P256()
		case jose.ES384:
			return pub.Curve == elliptic.P384()
		case jose.ES512:
			return pub.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// parseKeySet decodes a JWKS document. Keys are taken one by one so that a key of an
// unknown type does not spoil the set (RFC 7517 §5 says to ignore such keys). A key is
// ignored, with a debug log line, when it has no kid, its "use" is set and is not "sig",
// it holds private or symmetric material, it is a weak RSA key, its "alg" does not fit
// its type, or it fits none of the allowed algorithms. A set with no usable key is an
// error, so the caller keeps the previous one.
func parseKeySet(body []byte, allowed []jose.SignatureAlgorithm, log *slog.Logger) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	s := &keySet{byKID: map[string][]verKey{}}
	for i, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			log.Debug("ignoring JWKS key", "index", i, "why", err.Error())
			continue
		}
		k, why := usableKey(&jwk, allowed)
		if why != "" {
			log.Debug("ignoring JWKS key", "index", i, "kid", jwk.KeyID, "why", why)
			continue
		}
		s.byKID[jwk.KeyID] = append(s.byKID[jwk.KeyID], k)
		s.count++
	}
	if s.count == 0 {
		return nil, fmt.Errorf("JWKS has no usable signing keys (%d keys published)", len(doc.Keys))
	}
	return s, nil
}

// usableKey returns the verification key for jwk, or a reason to ignore it.
func usableKey(jwk *jose.JSONWebKey, allowed []jose.SignatureAlgorithm) (verKey, string) {
	if jwk.KeyID == "" {
		return verKey{}, "no kid"
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return verKey{}, fmt.Sprintf("use is %q, not sig", jwk.Use)
	}
	k := verKey{alg: jose.SignatureAlgorithm(jwk.Algorithm)}
	switch pub := jwk.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return verKey{}, fmt.Sprintf("RSA key of %d bits is too weak", pub.N.BitLen())
		}
		k.key = pub
	case *ecdsa.PublicKey, ed25519.PublicKey:
		k.key = pub
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		// A published private key is compromised: anyone could sign with it.
		return verKey{}, "private key published in a JWKS"
	default:
		return verKey{}, fmt.Sprintf("unsupported key type %T", jwk.Key)
	}
	if k.alg != "" {
		if !slices.Contains(allowed, k.alg) {
			return verKey{}, fmt.Sprintf("alg %s is not allowed", k.alg)
		}
		if !k.fits(k.alg) {
			return verKey{}, fmt.Sprintf("alg %s does not fit the key type", k.alg)
		}
		return k, ""
	}
	if slices.ContainsFunc(allowed, k.fits) {
		return k, ""
	}
	return verKey{}, "key type fits none of the allowed algorithms"
}
