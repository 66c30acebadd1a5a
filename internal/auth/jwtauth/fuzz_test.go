package jwtauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// FuzzTokenParse feeds arbitrary strings as bearer tokens through Authenticate. It must
// never panic, never report an outage once keys are loaded, and never allow anything
// but the genuinely signed seed tokens (up to base64 spellings that decode to the
// same signed bytes).
func FuzzTokenParse(f *testing.F) {
	testKeys(f)
	is := newIssuer(f, pub("A", rsaA, "RS256"), pub("E", ecKey, "ES256"))
	clk := newClock()
	cfg := baseConfig(is)
	cfg.Algorithms = []string{"RS256", "ES256"}
	a := newAuth(f, cfg, clk, func(o *Options) { o.disableCache = true })
	claims := idClaims(is, clk)
	good := mint(f, rsaA, "A", jose.RS256, claims)
	goodES := mint(f, ecKey, "E", jose.ES256, claims)
	genuine := [][3][]byte{decodeParts(good), decodeParts(goodES)}
	p := strings.Split(good, ".")
	for _, s := range []string{
		good,
		goodES,
		mint(f, ecKey, "A", jose.ES256, claims),
		mint(f, rsaB, "A", jose.RS256, claims),
		b64(`{"alg":"none","kid":"A"}`) + "." + p[1] + ".",
		b64(`{"alg":"HS256","kid":"A"}`) + "." + p[1] + "." + p[2],
		b64(`{"alg":"RS256","kid":"A","crit":["exp"]}`) + "." + p[1] + "." + p[2],
		b64(`{"alg":"RS256","kid":"A","jwk":{"kty":"oct","k":"AAAA"}}`) + "." + p[1] + "." + p[2],
		p[0] + "." + b64(`{"exp":1e999}`) + "." + p[2],
		"", ".", "..", "...", "a.b.c", "eyJ.eyJ.", "\x00.\xff.\n",
		strings.Repeat("A", 100) + "." + strings.Repeat("B", 100) + "." + strings.Repeat("C", 100),
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		r := &http.Request{Header: http.Header{"Authorization": {"Bearer " + s}}, URL: &url.URL{}}
		id, err := a.Authenticate(ctx, &policy.Request{HTTP: r})
		if err == nil {
			if id == nil || id.Subject != "0b1c-user-1" {
				t.Fatalf("allowed with identity %+v", id)
			}
			got := decodeParts(s)
			for _, g := range genuine {
				if bytes.Equal(got[0], g[0]) && bytes.Equal(got[1], g[1]) && bytes.Equal(got[2], g[2]) {
					return
				}
			}
			t.Fatalf("allowed a token that is not a signed one: %q", s)
		}
		if id != nil {
			t.Fatalf("identity with error %v", err)
		}
		if !errors.Is(err, policy.ErrBadCredentials) && !errors.Is(err, policy.ErrNoCredentials) && !errors.Is(err, policy.ErrForbidden) {
			t.Fatalf("outage-class error with keys loaded: %v", err)
		}
		if c := a.Challenge(err); strings.ContainsAny(c, "\r\n") {
			t.Fatalf("challenge with line break: %q", c)
		}
	})
}

// decodeParts base64url-decodes the three parts of a compact JWS (nil where invalid).
func decodeParts(s string) [3][]byte {
	var out [3][]byte
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return out
	}
	for i, p := range parts {
		if b, err := base64.RawURLEncoding.DecodeString(p); err == nil {
			out[i] = b
		}
	}
	return out
}

// FuzzTokenSource feeds arbitrary Authorization headers, query strings and Cookie
// headers to the token extraction. It must never panic, return only tokens that passed
// the shape check and came from one of the inputs, and fail only with no or bad
// credentials.
func FuzzTokenSource(f *testing.F) {
	a, err := New("jwt", &config.JWTAuth{
		Issuer: "https://issuer.example.com", Audiences: []string{"x"},
		QueryParam: "access_token", Cookie: "id_token",
	}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = a.Close() })
	for _, s := range [][3]string{
		{"Bearer a.b.c", "", ""},
		{"bearer  a.b.c  ", "", ""},
		{"Bearer", "access_token=a.b.c", ""},
		{"Basic eDp5", "", "id_token=a.b.c"},
		{"", "access_token=a.b.c&access_token=d.e.f", "id_token=x; id_token=y"},
		{"Bearer a.b.c\r\nX: y", "access_token=%00.%2e.c", "id_token=\"a.b.c\""},
		{"\tBearer\t a.b.c", "access_token", "id_token="},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, authz, rawQuery, cookie string) {
		h := http.Header{}
		if authz != "" {
			h["Authorization"] = []string{authz}
		}
		if cookie != "" {
			h["Cookie"] = []string{cookie}
		}
		r := &http.Request{Header: h, URL: &url.URL{RawQuery: rawQuery}}
		tok, err := a.extract(r)
		if err != nil {
			if tok != "" {
				t.Fatal("token returned with an error")
			}
			if !errors.Is(err, policy.ErrNoCredentials) && !errors.Is(err, policy.ErrBadCredentials) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if _, err := checkToken(tok); err != nil || tok == "" || len(tok) > MaxTokenBytes {
			t.Fatalf("returned token %q fails the shape check", tok)
		}
		q, _ := url.ParseQuery(rawQuery)
		if !strings.Contains(authz, tok) && !strings.Contains(cookie, tok) && !contains1(q["access_token"], tok) {
			t.Fatalf("token %q came from nowhere", tok)
		}
	})
}

func contains1(vals []string, s string) bool {
	return len(vals) == 1 && vals[0] == s
}
