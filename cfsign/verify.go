package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"
)

// Reasons a signed request is refused. Verify's errors wrap exactly one of them (match
// with errors.Is) and add the detail for a log line, e.g. "expired at
// 2026-05-01T10:00:00Z". CloudFront answers 403 for all of them.
var (
	// ErrMissing: no signature, or an incomplete one (no Key-Pair-Id, no Signature, or
	// neither Expires nor Policy).
	ErrMissing = errors.New("missing signing parameters")
	// ErrUnknownKey: Key-Pair-Id names no trusted key.
	ErrUnknownKey = errors.New("unknown key")
	// ErrMalformedPolicy: Expires or Policy does not decode or parse, or both were sent.
	ErrMalformedPolicy = errors.New("malformed policy")
	// ErrBadSignature: the signature does not decode or does not match the policy.
	ErrBadSignature = errors.New("bad signature")
	// ErrExpired: the policy's DateLessThan has passed.
	ErrExpired = errors.New("expired")
	// ErrNotYetValid: the policy's DateGreaterThan has not passed yet.
	ErrNotYetValid = errors.New("not yet valid")
	// ErrWrongIP: the client address is outside the policy's IpAddress.
	ErrWrongIP = errors.New("client address not allowed")
	// ErrResourceMismatch: the policy's Resource does not cover the requested URL.
	ErrResourceMismatch = errors.New("resource not covered by policy")
	// ErrUnsupportedHash: Hash-Algorithm is neither SHA1 nor SHA256.
	ErrUnsupportedHash = errors.New("unsupported hash algorithm")
)

// maxSignatureChars bounds the encoded signature decoded at all (RSA-4096 needs 684).
const maxSignatureChars = 1024

// Verifier checks CloudFront signed URLs and cookies against a fixed set of trusted public
// keys. It is safe for concurrent use; a change of keys builds a new Verifier (with a new,
// empty cache), so a removed key stops verifying at once.
type Verifier struct {
	keys     map[string]crypto.PublicKey
	cache    *verifyCache // nil: disabled
	verifies atomic.Uint64
}

// VerifierOptions tune a Verifier.
type VerifierOptions struct {
	// CacheSize bounds the number of remembered verified signatures; 0 or less disables
	// the cache (every request then costs a signature verification).
	CacheSize int
}

// NewVerifier builds a Verifier trusting keys, by key ID (the Key-Pair-Id value). Each
// key must be an *rsa.PublicKey of at least 2048 bits or an *ecdsa.PublicKey on P-256
// (see ParsePublicKeyPEM). The map is copied.
func NewVerifier(keys map[string]crypto.PublicKey, opts VerifierOptions) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	v := &Verifier{keys: make(map[string]crypto.PublicKey, len(keys))}
	for id, k := range keys {
		if err := checkKeyID(id); err != nil {
			return nil, err
		}
		if err := checkPublicKey(k); err != nil {
			return nil, fmt.Errorf("key %s: %w", id, err)
		}
		v.keys[id] = k
	}
	if opts.CacheSize > 0 {
		v.cache = newVerifyCache(opts.CacheSize)
	}
	return v, nil
}

// VerifyInput is one request as a verifier sees it.
type VerifyInput struct {
	// Resource is the URL the client asked for, rebuilt as scheme://host/path, then
	// "?" + StripQuery(rawQuery) when that is not empty: the URL without its signing
	// parameters, the rest of the query in its order and exact encoding.
	Resource string
	// Query holds the signing values from the URL (QueryCredentials); Cookies those from
	// the CloudFront-* cookies (CookieCredentials). When Query holds anything it is used
	// alone and Cookies are ignored: URL parameters win and the two are never mixed.
	Query, Cookies Credentials
	// Client is the client's address; the zero Addr fails any IpAddress condition.
	Client netip.Addr
	// Now is the request time; zero means time.Now().
	Now time.Time
}

// Result describes an accepted signature.
type Result struct {
	KeyID string
	// Policy is the policy that allowed the request; for a canned policy its Resource is
	// the request's resource and only DateLessThan is set.
	Policy      Policy
	Canned      bool        // Expires (canned) rather than Policy (custom)
	FromCookies bool        // read from cookies rather than URL parameters
	Hash        crypto.Hash // crypto.SHA1 or crypto.SHA256
	Cached      bool        // the signature check was skipped: it verified before
	// PolicyBytes is the document the signature covers: the decoded custom Policy as
	// received, or the canned policy JSON rebuilt from the resource and Expires
	// (CannedPolicyJSON). Its SHA-256 identifies the policy (policy revocations).
	PolicyBytes []byte
}

// Verify checks one request: which credentials to use (URL over cookies), the hash
// algorithm, the key, then the signature (over the canned policy rebuilt byte for byte
// from Resource and Expires, or over the decoded custom Policy bytes as received), and
// only then parses the policy and checks its conditions (Policy.Check). Errors wrap one
// of the Err* reasons. A signature that verified before is found in the cache and not
// verified again, but the conditions are checked on every call.
func (v *Verifier) Verify(in VerifyInput) (Result, error) {
	c, fromCookies := in.Query, false
	if c.Empty() {
		c, fromCookies = in.Cookies, true
	}
	name := func(param, cookie string) string {
		if fromCookies {
			return cookie + " cookie"
		}
		return param + " query parameter"
	}
	switch {
	case c.Empty():
		return Result{}, fmt.Errorf("%w: no signed URL parameters or CloudFront cookies", ErrMissing)
	case c.KeyPairID == "":
		return Result{}, fmt.Errorf("%w: no %s", ErrMissing, name(ParamKeyPairID, CookieKeyPairID))
	case c.Signature == "":
		return Result{}, fmt.Errorf("%w: no %s", ErrMissing, name(ParamSignature, CookieSignature))
	case c.Expires == "" && c.Policy == "":
		return Result{}, fmt.Errorf("%w: no %s or %s", ErrMissing, name(ParamExpires, CookieExpires), name(ParamPolicy, CookiePolicy))
	case c.Expires != "" && c.Policy != "":
		return Result{}, fmt.Errorf("%w: both %s and %s sent", ErrMalformedPolicy, name(ParamExpires, CookieExpires), name(ParamPolicy, CookiePolicy))
	}
	res := Result{KeyID: c.KeyPairID, FromCookies: fromCookies, Canned: c.Expires != ""}
	switch c.HashAlgorithm {
	case "", HashSHA1:
		res.Hash = crypto.SHA1
	case HashSHA256:
		res.Hash = crypto.SHA256
	default:
		return Result{}, fmt.Errorf("%w %s (want SHA1 or SHA256)", ErrUnsupportedHash, clip(c.HashAlgorithm))
	}
	pub, ok := v.keys[c.KeyPairID]
	if !ok {
		return Result{}, fmt.Errorf("%w %s", ErrUnknownKey, clip(c.KeyPairID))
	}
	if len(c.Signature) > maxSignatureChars {
		return Result{}, fmt.Errorf("%w: %d characters is too long", ErrBadSignature, len(c.Signature))
	}
	// The signature is decoded only when it is to be verified: the cache is keyed on its
	// encoding, which names exactly one byte string (DecodeBase64 is strict). A request
	// failing on both its signature's encoding and its policy is refused for the
	// signature, as it always was.
	var sig []byte
	decodeSig := func() error {
		var err error
		if sig, err = DecodeBase64(c.Signature); err != nil {
			return fmt.Errorf("%w: Signature: %v", ErrBadSignature, err)
		}
		return nil
	}
	var polBytes []byte
	var canned *Policy
	if res.Canned {
		n, ok := parseEpoch(c.Expires)
		if !ok {
			if err := decodeSig(); err != nil {
				return Result{}, err
			}
			return Result{}, fmt.Errorf("%w: Expires %s is not a whole number of seconds", ErrMalformedPolicy, clip(c.Expires))
		}
		canned = &Policy{Resource: in.Resource, DateLessThan: time.Unix(n, 0).UTC()}
		polBytes = CannedPolicyJSON(in.Resource, canned.DateLessThan)
	} else if pb, err := customPolicyBytes(c.Policy); err != nil {
		if err := decodeSig(); err != nil {
			return Result{}, err
		}
		return Result{}, err
	} else {
		polBytes = pb
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	var pol *Policy
	var key [32]byte
	if v.cache != nil {
		key = cacheKey(res.Hash, c.KeyPairID, c.Signature, polBytes)
		pol, res.Cached = v.cache.get(key, now)
	}
	if !res.Cached {
		if err := decodeSig(); err != nil {
			return Result{}, err
		}
		v.verifies.Add(1)
		if err := verifySignature(pub, res.Hash, polBytes, sig); err != nil {
			return Result{}, fmt.Errorf("%w (key %s, %s): %v", ErrBadSignature, c.KeyPairID, hashLabel(res.Hash), err)
		}
		var err error
		if canned != nil {
			pol = canned
		} else if pol, err = ParsePolicy(polBytes); err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrMalformedPolicy, err)
		}
		if v.cache != nil {
			v.cache.put(key, pol, now)
		}
	}
	res.Policy, res.PolicyBytes = *pol, polBytes
	if err := pol.check(in.Resource, in.Client, now, !res.Canned); err != nil {
		return Result{}, err
	}
	return res, nil
}

// customPolicyBytes decodes a custom Policy value within MaxPolicyBytes.
func customPolicyBytes(p string) ([]byte, error) {
	if len(p) > cfEncoding.EncodedLen(MaxPolicyBytes) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrMalformedPolicy, MaxPolicyBytes)
	}
	b, err := DecodeBase64(p)
	if err != nil {
		return nil, fmt.Errorf("%w: Policy: %v", ErrMalformedPolicy, err)
	}
	if len(b) > MaxPolicyBytes {
		return nil, fmt.Errorf("%w: %d bytes is more than the %d allowed", ErrMalformedPolicy, len(b), MaxPolicyBytes)
	}
	return b, nil
}

func hashLabel(h crypto.Hash) string {
	if h == crypto.SHA256 {
		return "SHA-256"
	}
	return "SHA-1"
}

// verifySignature checks an RSA PKCS#1 v1.5 or ECDSA ASN.1 DER signature over msg.
func verifySignature(pub crypto.PublicKey, hash crypto.Hash, msg, sig []byte) error {
	h := hash.New()
	h.Write(msg)
	digest := h.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, hash, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ecdsa: verification error")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", pub)
}
