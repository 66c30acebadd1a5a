package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test keys are generated once per test binary: RSA generation is slow under -race.
var (
	keysOnce           sync.Once
	rsaA, rsaB         *rsa.PrivateKey
	ecKey              *ecdsa.PrivateKey
	keysErr            error
	testNow            = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	testExpiry         = testNow.Add(time.Hour)
	testClient         = netip.MustParseAddr("203.0.113.9")
	testKeyA, testKeyB = "KAAAAAAAAAAAAA", "KBBBBBBBBBBBBB"
	testKeyEC          = "KECECECECECECE"
)

func loadKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var k crypto.Signer
		if k, keysErr = GenerateKey("rsa"); keysErr != nil {
			return
		}
		rsaA = k.(*rsa.PrivateKey)
		if k, keysErr = GenerateKey("rsa"); keysErr != nil {
			return
		}
		rsaB = k.(*rsa.PrivateKey)
		if k, keysErr = GenerateKey("ecdsa"); keysErr != nil {
			return
		}
		ecKey = k.(*ecdsa.PrivateKey)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
}

// newTestVerifier trusts A, B and the ECDSA key.
func newTestVerifier(t testing.TB, cacheSize int) *Verifier {
	t.Helper()
	loadKeys(t)
	v, err := NewVerifier(map[string]crypto.PublicKey{
		testKeyA: &rsaA.PublicKey, testKeyB: &rsaB.PublicKey, testKeyEC: &ecKey.PublicKey,
	}, VerifierOptions{CacheSize: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// urlInput splits a signed URL as a server would: the resource without the signing
// parameters, and the parameters.
func urlInput(t testing.TB, signed string) VerifyInput {
	t.Helper()
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	res := u.Scheme + "://" + u.Host + u.EscapedPath()
	if q := StripQuery(u.RawQuery); q != "" {
		res += "?" + q
	}
	creds, err := QueryCredentials(u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	return VerifyInput{Resource: res, Query: creds, Client: testClient, Now: testNow}
}

// cookieInput is a request for resource carrying cookies.
func cookieInput(resource string, cookies []*http.Cookie) VerifyInput {
	// Round-trip through a Cookie header, as a browser would send them.
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	r := &http.Request{Header: http.Header{"Cookie": {strings.Join(parts, "; ")}}}
	return VerifyInput{Resource: resource, Cookies: CookieCredentials(r.Cookies()), Client: testClient, Now: testNow}
}

func mustSignURL(t testing.TB, raw, keyID string, key crypto.Signer, o SignOptions) string {
	t.Helper()
	s, err := SignURL(raw, keyID, key, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
