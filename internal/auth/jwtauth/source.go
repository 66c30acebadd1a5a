package jwtauth

import (
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// extract finds the request's token. Sources are tried in order (Authorization header
// unless disabled, query parameter, cookie) and the first one present is used even if
// it is malformed: a client that sent a broken bearer token gets told so rather than
// being judged on a stale cookie. A source holding something this authenticator does
// not understand (another Authorization scheme, an empty cookie left by a logout)
// counts as absent. Nothing found is policy.ErrNoCredentials.
func (a *Authenticator) extract(r *http.Request) (string, error) {
	if a.header {
		tok, found, err := bearerFromHeader(r.Header)
		if found || err != nil {
			return tok, err
		}
	}
	if a.queryParam != "" && r.URL != nil && r.URL.RawQuery != "" {
		vals, ok := r.URL.Query()[a.queryParam]
		if ok {
			if len(vals) != 1 {
				return "", bad("more than one token in the query", nil)
			}
			return checkToken(vals[0])
		}
	}
	if a.cookie != "" {
		var tok string
		n := 0
		for _, c := range r.CookiesNamed(a.cookie) {
			if c.Value != "" {
				tok = c.Value
				n++
			}
		}
		switch {
		case n > 1:
			return "", bad("more than one token cookie", nil)
		case n == 1:
			return checkToken(tok)
		}
	}
	return "", policy.ErrNoCredentials
}

// bearerFromHeader reads "Authorization: Bearer <token>" (scheme case-insensitive).
// found is false when no Authorization header uses the Bearer scheme. Two bearer
// headers are refused: which one a downstream component would pick is unknowable.
func bearerFromHeader(h http.Header) (tok string, found bool, err error) {
	for _, v := range h.Values("Authorization") {
		scheme, rest, _ := strings.Cut(strings.TrimLeft(v, " \t"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		if found {
			return "", true, bad("more than one bearer token", nil)
		}
		found = true
		tok = rest
	}
	if !found {
		return "", false, nil
	}
	tok, err = checkToken(strings.Trim(tok, " \t"))
	return tok, true, err
}

// checkToken refuses empty, oversized and plainly malformed tokens before any
// decoding. A compact JWS is three base64url parts joined by dots; padding is
// tolerated here and rejected by the parser.
func checkToken(tok string) (string, error) {
	if tok == "" {
		return "", bad("empty token", nil)
	}
	if len(tok) > MaxTokenBytes {
		return "", bad("token too large", nil)
	}
	dots := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '=':
		case c == '.':
			dots++
		default:
			return "", bad("malformed token", nil)
		}
	}
	if dots != 2 {
		return "", bad("malformed token", nil)
	}
	return tok, nil
}
