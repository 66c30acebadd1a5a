package jwtauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// verify checks a token completely: signature, registered claims, then the rules.
// It returns the identity with the claims revocation reads, and how long the result
// may be cached.
func (a *Authenticator) verify(ctx context.Context, tok string, now time.Time) (*verified, time.Time, error) {
	var zero time.Time
	// The allowed-algorithms list refuses "none", HMAC and anything not configured
	// before a key is even looked up.
	parsed, err := jwt.ParseSigned(tok, a.algs)
	if err != nil {
		var ua *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &ua) {
			// The log gets the alg, truncated: it is attacker-chosen text.
			return nil, zero, bad("algorithm not allowed", fmt.Errorf("alg %.20q", string(ua.Got)))
		}
		return nil, zero, bad("malformed token", err)
	}
	if len(parsed.Headers) != 1 {
		return nil, zero, bad("malformed token", nil)
	}
	h := parsed.Headers[0]
	if h.KeyID == "" {
		return nil, zero, bad("token has no key ID", nil)
	}
	keys, err := a.keysFor(ctx, h.KeyID, jose.SignatureAlgorithm(h.Algorithm))
	if err != nil {
		return nil, zero, err
	}
	for _, k := range keys {
		if err = parsed.Claims(k.key); err == nil {
			break
		}
	}
	if err != nil {
		return nil, zero, bad("bad signature", err)
	}
	var p payload
	if err := parsed.UnsafeClaimsWithoutVerification(&p); err != nil { // verified just above
		return nil, zero, bad("malformed claims", err)
	}
	c, err := decodeClaims(p)
	if err != nil {
		return nil, zero, err
	}
	exp, err := a.checkRegistered(c, now)
	if err != nil {
		return nil, zero, err
	}
	id, err := identityOf(c)
	if err != nil {
		return nil, zero, err
	}
	if err := a.checkRules(c); err != nil {
		return nil, zero, err
	}
	v := &verified{id: id}
	// jti is a string (RFC 7519); another type was never refused and is not now: such
	// a token has no jti to revoke it by (its subject still can be). iat was checked
	// by checkRegistered.
	v.jti, _, _ = c.str("jti")
	if v.iat, v.hasIat, err = c.date("iat"); err != nil {
		return nil, zero, err
	}
	until := now.Add(maxCacheTTL)
	if exp.Before(until) {
		until = exp // a cached entry never outlives the token
	}
	return v, until, nil
}

// keysFor returns the keys that may verify a token with this kid and alg, fetching the
// key set when there is none yet or the kid is unknown (rate-limited, shared between
// concurrent requests). No key set at all is an outage, answered at once: the fetch
// this starts goes on in the background, since waiting for it would stall every
// request of a provider outage. An unknown kid waits at most a.wait for the refetch;
// still unknown then (or the refetch refused or failed), or a kid whose keys do not fit
// alg (an RSA key for an ES256 token), is a bad token.
func (a *Authenticator) keysFor(ctx context.Context, kid string, alg jose.SignatureAlgorithm) ([]verKey, error) {
	ks := a.keys.Load()
	if ks == nil {
		_ = a.refresh(ctx, true, 0) // start one (rate-limited); never wait
		if ks = a.keys.Load(); ks == nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, a.Ready() // wraps ErrNoKeySet and the last fetch error
		}
	}
	if keys, found := ks.lookup(kid, alg); found {
		return fitOrRefuse(keys)
	}
	err := a.refresh(ctx, true, a.wait)
	ks = a.keys.Load()
	keys, found := ks.lookup(kid, alg)
	if !found {
		if err != nil && !errors.Is(err, errRefreshLimited) {
			return nil, bad("unknown signing key", err)
		}
		return nil, bad("unknown signing key", nil)
	}
	return fitOrRefuse(keys)
}

func fitOrRefuse(keys []verKey) ([]verKey, error) {
	if len(keys) == 0 {
		return nil, bad("signing key does not fit the algorithm", nil)
	}
	return keys, nil
}

// payload captures a verified JWT payload as raw JSON for decodeClaims.
type payload []byte

func (p *payload) UnmarshalJSON(b []byte) error {
	*p = append((*p)[:0], b...)
	return nil
}

// claims is a payload decoded one level deep. Names are matched exactly: encoding/json
// would fold the case of struct field names, and "ISS" is not "iss".
type claims map[string]json.RawMessage

func decodeClaims(p payload) (claims, error) {
	var c claims
	if err := json.Unmarshal(p, &c); err != nil || c == nil {
		return nil, bad("malformed claims", err)
	}
	return c, nil
}

// str returns a string claim; present is false when it is absent or null.
func (c claims) str(name string) (s string, present bool, err error) {
	raw, ok := c[name]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, bad("invalid "+name+" claim", nil)
	}
	return s, true, nil
}

// date returns a NumericDate claim (seconds since the epoch, possibly fractional).
func (c claims) date(name string) (t time.Time, present bool, err error) {
	raw, ok := c[name]
	if !ok || isNull(raw) {
		return t, false, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) {
		return t, true, bad("invalid "+name+" claim", nil)
	}
	const limit = 1 << 40 // about year 36800; keeps the conversion in range
	f = max(min(f, limit), -limit)
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// strs returns a claim that is a string or an array of strings (aud, groups).
func (c claims) strs(name string) (v []string, present bool, err error) {
	raw, ok := c[name]
	if !ok || isNull(raw) {
		return nil, false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return []string{s}, true, nil
		}
	} else if err := json.Unmarshal(raw, &v); err == nil {
		return v, true, nil
	}
	return nil, true, bad("invalid "+name+" claim", nil)
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || bytes.Equal(raw, []byte("null")) }

// checkRegistered checks iss, the audience, exp, nbf and iat: failures are bad
// credentials. It returns exp.
func (a *Authenticator) checkRegistered(c claims, now time.Time) (time.Time, error) {
	iss, ok, err := c.str("iss")
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, bad("token has no iss claim", nil)
	}
	if iss != a.issuer && (a.issuerAlt == "" || iss != a.issuerAlt) {
		return time.Time{}, bad("wrong issuer", nil)
	}
	exp, ok, err := c.date("exp")
	switch {
	case err != nil:
		return exp, err
	case !ok:
		return exp, bad("token has no exp claim", nil)
	case !now.Before(exp.Add(a.leeway)):
		return exp, bad("token expired", nil)
	}
	if nbf, ok, err := c.date("nbf"); err != nil {
		return exp, err
	} else if ok && now.Add(a.leeway).Before(nbf) {
		return exp, bad("token not yet valid", nil)
	}
	if iat, ok, err := c.date("iat"); err != nil {
		return exp, err
	} else if ok && now.Add(a.leeway).Before(iat) {
		return exp, bad("token issued in the future", nil)
	}
	aud, hasAud, err := c.strs("aud")
	if err != nil {
		return exp, err
	}
	if !slices.ContainsFunc(aud, func(s string) bool { return slices.Contains(a.audiences, s) }) {
		// Cognito access tokens carry no aud; the app client is in client_id.
		cid, hasCID, err := c.str("client_id")
		switch {
		case err != nil:
			return exp, err
		case !hasAud && !hasCID:
			return exp, bad("token has no aud or client_id claim", nil)
		case !hasCID || !slices.Contains(a.clientIDs, cid):
			return exp, bad("wrong audience", nil)
		}
	}
	return exp, nil
}

// identityOf builds the identity: sub is required; groups come from cognito:groups or,
// failing that, groups (arrays of strings; anything else is ignored, since groups are
// informational here and the claim rules read the claims themselves).
func identityOf(c claims) (*policy.Identity, error) {
	sub, _, err := c.str("sub")
	if err != nil {
		return nil, err
	}
	if sub == "" {
		return nil, bad("token has no sub claim", nil)
	}
	id := &policy.Identity{Subject: sub, User: sub, Source: "jwt"}
	if email, _, err := c.str("email"); err == nil {
		id.Email = email
	}
	for _, name := range []string{"cognito:groups", "groups"} {
		if g, ok, err := c.strs(name); ok && err == nil {
			id.Groups = g
			break
		}
	}
	return id, nil
}
