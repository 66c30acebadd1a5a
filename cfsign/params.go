package cfsign

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Query parameter names CloudFront reads from a signed URL. Names are case-sensitive.
const (
	ParamExpires       = "Expires"
	ParamPolicy        = "Policy"
	ParamSignature     = "Signature"
	ParamKeyPairID     = "Key-Pair-Id"
	ParamHashAlgorithm = "Hash-Algorithm"
)

// Cookie names CloudFront reads for signed cookies. Names are case-sensitive.
const (
	CookieExpires       = "CloudFront-Expires"
	CookiePolicy        = "CloudFront-Policy"
	CookieSignature     = "CloudFront-Signature"
	CookieKeyPairID     = "CloudFront-Key-Pair-Id"
	CookieHashAlgorithm = "CloudFront-Hash-Algorithm"
)

// SigningParams returns the query parameter names that carry a signature (Expires,
// Policy, Signature, Key-Pair-Id, Hash-Algorithm), in that order. They are never part of
// the signed resource and must not reach an origin or a cache key. The slice is a
// fresh copy on every call.
func SigningParams() []string {
	return []string{ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHashAlgorithm}
}

// cfEncoding is CloudFront's base64: the standard alphabet with '+' written '-', '/'
// written '~', and the padding '=' written '_'.
var cfEncoding = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~").
	WithPadding('_').Strict()

// EncodeBase64 encodes b as CloudFront writes Policy and Signature values: standard
// base64 (padded) with '+' → '-', '=' → '_' and '/' → '~'. The result needs no escaping in
// a query string or a cookie.
func EncodeBase64(b []byte) string { return cfEncoding.EncodeToString(b) }

// DecodeBase64 decodes a CloudFront base64 value. It is strict, and documents so rather
// than guessing what CloudFront tolerates: the padding ('_') is required, characters of
// the standard alphabet ('+', '/', '=') and line breaks are rejected, and so are non-zero
// trailing bits. Every AWS signer emits exactly this form, and each byte string has
// exactly one accepted encoding.
func DecodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") { // the base64 package would skip them silently
		return nil, errors.New("line break in base64 value")
	}
	b, err := cfEncoding.DecodeString(s)
	if err != nil {
		if strings.ContainsAny(s, "+/=") {
			return nil, errors.New("standard base64 alphabet ('+', '/', '='); CloudFront values use '-', '~', '_'")
		}
		return nil, fmt.Errorf("not CloudFront base64: %v", err)
	}
	return b, nil
}

// Credentials are the signing values one request carries in one place: either its query
// string or its cookies, never a mix of the two. Values are as sent (query values after
// URL decoding); an empty field was not sent.
type Credentials struct {
	Expires       string // canned policy: the expiry, seconds since the epoch
	Policy        string // custom policy, CloudFront base64
	Signature     string // CloudFront base64
	KeyPairID     string
	HashAlgorithm string // "", "SHA1" or "SHA256"
}

// Empty reports whether no signing value at all was sent.
func (c Credentials) Empty() bool { return c == Credentials{} }

// splitParam returns a query segment's decoded name and raw value; ok is false when the
// name does not decode (such a segment is never a signing parameter).
func splitParam(seg string) (name, rawValue string, ok bool) {
	name, rawValue, _ = strings.Cut(seg, "=")
	if strings.ContainsAny(name, "%+") {
		n, err := url.QueryUnescape(name)
		if err != nil {
			return "", "", false
		}
		name = n
	}
	return name, rawValue, true
}

func isSigningParam(name string) bool {
	switch name {
	case ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHashAlgorithm:
		return true
	}
	return false
}

// StripQuery returns rawQuery without its signing parameters, keeping the caller's own
// parameters in their order and exact encoding (segments are split on '&' only). A
// segment is a signing parameter when its name, URL-decoded, is exactly one of
// SigningParams; so "Expire%73=1" is removed too, and an origin that decodes names never
// sees one. The result is what a signer signed: a canned policy's Resource is
// scheme://host/path, then "?" + StripQuery(query) when that is not empty.
func StripQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var b strings.Builder
	first := true
	for seg := range strings.SplitSeq(rawQuery, "&") {
		if name, _, ok := splitParam(seg); ok && isSigningParam(name) {
			continue
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(seg)
	}
	return b.String()
}

// QueryCredentials reads the signing parameters from a raw query string (names matched
// as StripQuery does, values URL-decoded). A signing parameter sent twice, or a value
// that does not URL-decode, is an error wrapping the reason its parameter belongs to
// (ErrMalformedPolicy for Expires and Policy, ErrBadSignature, ErrUnknownKey,
// ErrUnsupportedHash): an ambiguous request is refused rather than guessed at.
func QueryCredentials(rawQuery string) (Credentials, error) {
	var c Credentials
	if rawQuery == "" {
		return c, nil
	}
	seen := 0
	for seg := range strings.SplitSeq(rawQuery, "&") {
		name, raw, ok := splitParam(seg)
		if !ok || !isSigningParam(name) {
			continue
		}
		bit, field := paramField(&c, name)
		if seen&bit != 0 {
			return Credentials{}, fmt.Errorf("%w: %s parameter sent twice", paramReason(name), name)
		}
		seen |= bit
		v := raw // CloudFront base64 needs no escaping: most values decode to themselves
		if strings.IndexByte(raw, '%') >= 0 || strings.IndexByte(raw, '+') >= 0 {
			var err error
			if v, err = url.QueryUnescape(raw); err != nil {
				return Credentials{}, fmt.Errorf("%w: %s parameter is not URL-encoded correctly", paramReason(name), name)
			}
		}
		*field = v
	}
	return c, nil
}

func paramField(c *Credentials, name string) (int, *string) {
	switch name {
	case ParamExpires:
		return 1, &c.Expires
	case ParamPolicy:
		return 2, &c.Policy
	case ParamSignature:
		return 4, &c.Signature
	case ParamKeyPairID:
		return 8, &c.KeyPairID
	}
	return 16, &c.HashAlgorithm
}

// paramReason is the failure reason a problem with the named parameter reports.
func paramReason(name string) error {
	switch name {
	case ParamExpires, ParamPolicy, CookieExpires, CookiePolicy:
		return ErrMalformedPolicy
	case ParamSignature, CookieSignature:
		return ErrBadSignature
	case ParamKeyPairID, CookieKeyPairID:
		return ErrUnknownKey
	}
	return ErrUnsupportedHash
}

// CookieCredentials reads the CloudFront-* signed cookies (names are case-sensitive).
// When a name occurs more than once the first occurrence wins: browsers send the cookie
// set for the most specific path first. Mixing values from different cookie sets can
// only fail verification, never widen access, since the signature covers the policy.
func CookieCredentials(cookies []*http.Cookie) Credentials {
	var c Credentials
	for _, k := range cookies {
		var field *string
		switch k.Name {
		case CookieExpires:
			field = &c.Expires
		case CookiePolicy:
			field = &c.Policy
		case CookieSignature:
			field = &c.Signature
		case CookieKeyPairID:
			field = &c.KeyPairID
		case CookieHashAlgorithm:
			field = &c.HashAlgorithm
		default:
			continue
		}
		if *field == "" {
			*field = k.Value
		}
	}
	return c
}
