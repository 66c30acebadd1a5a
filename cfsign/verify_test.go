package cfsign

import (
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// replaceParam swaps one query parameter's raw value.
func replaceParam(t *testing.T, signed, name, value string) string {
	t.Helper()
	i := strings.Index(signed, name+"=")
	if i < 0 {
		t.Fatalf("no %s in %s", name, signed)
	}
	j := strings.IndexByte(signed[i:], '&')
	if j < 0 {
		j = len(signed) - i
	}
	return signed[:i] + name + "=" + value + signed[i+j:]
}

func param(t *testing.T, signed, name string) string {
	t.Helper()
	return urlValue(t, signed, name)
}

func urlValue(t *testing.T, signed, name string) string {
	t.Helper()
	i := strings.Index(signed, name+"=")
	if i < 0 {
		t.Fatalf("no %s", name)
	}
	v := signed[i+len(name)+1:]
	if j := strings.IndexByte(v, '&'); j >= 0 {
		v = v[:j]
	}
	return v
}

// flip changes one character of a base64 value in the middle.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestVerifyTampering(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 0)
	canned := mustSignURL(t, "https://media.example.com/private/a.pdf?v=1", testKeyA, rsaA, SignOptions{Expires: testExpiry})
	custom := mustSignURL(t, "https://media.example.com/private/a.pdf", testKeyA, rsaA, SignOptions{
		Expires: testExpiry, Resource: "https://media.example.com/private/*"})
	otherPolicy, _ := CustomPolicyJSON(Policy{Resource: "https://media.example.com/*", DateLessThan: testExpiry})
	cases := []struct {
		name   string
		signed string
		want   error
	}{
		{"canned untouched", canned, nil},
		{"custom untouched", custom, nil},
		{"canned resource path", strings.Replace(canned, "/a.pdf", "/b.pdf", 1), ErrBadSignature},
		{"canned resource own query", strings.Replace(canned, "v=1", "v=2", 1), ErrBadSignature},
		{"canned resource host", strings.Replace(canned, "media.", "cdn.", 1), ErrBadSignature},
		{"canned resource scheme", strings.Replace(canned, "https:", "http:", 1), ErrBadSignature},
		{"canned parameter added", strings.Replace(canned, "?v=1", "?v=1&admin=1", 1), ErrBadSignature},
		{"custom resource outside", strings.Replace(custom, "/private/", "/public/", 1), ErrResourceMismatch},
		{"Expires", replaceParam(t, canned, "Expires", fmt.Sprint(testExpiry.Unix()+3600)), ErrBadSignature},
		{"Expires not a number", replaceParam(t, canned, "Expires", "soon"), ErrMalformedPolicy},
		{"Expires leading zero", replaceParam(t, canned, "Expires", "0"+fmt.Sprint(testExpiry.Unix())), ErrMalformedPolicy},
		{"Policy swapped", replaceParam(t, custom, "Policy", EncodeBase64(otherPolicy)), ErrBadSignature},
		{"Policy corrupted", replaceParam(t, custom, "Policy", flip(param(t, custom, "Policy"))), ErrBadSignature},
		{"Policy not base64", replaceParam(t, custom, "Policy", "a!b"), ErrMalformedPolicy},
		{"Policy standard base64", replaceParam(t, custom, "Policy", strings.NewReplacer("-", "%2B", "~", "/", "_", "=").Replace(param(t, custom, "Policy"))), ErrMalformedPolicy},
		{"Signature corrupted", replaceParam(t, canned, "Signature", flip(param(t, canned, "Signature"))), ErrBadSignature},
		{"Signature standard base64", replaceParam(t, canned, "Signature", strings.NewReplacer("-", "%2B", "~", "/", "_", "=").Replace(param(t, canned, "Signature"))), ErrBadSignature},
		{"Signature unpadded", replaceParam(t, canned, "Signature", strings.TrimRight(param(t, canned, "Signature"), "_")), ErrBadSignature},
		{"Signature too long", replaceParam(t, canned, "Signature", strings.Repeat("A", 2000)), ErrBadSignature},
		{"Signature percent-encoded tilde", replaceParam(t, canned, "Signature", strings.ReplaceAll(param(t, canned, "Signature"), "~", "%7E")), nil},
		{"Key-Pair-Id unknown", replaceParam(t, canned, "Key-Pair-Id", "KZZZZZZZZZZZZZ"), ErrUnknownKey},
		{"Key-Pair-Id other trusted key", replaceParam(t, canned, "Key-Pair-Id", testKeyB), ErrBadSignature},
		{"Key-Pair-Id empty", replaceParam(t, canned, "Key-Pair-Id", ""), ErrMissing},
		{"Hash-Algorithm added", canned + "&Hash-Algorithm=SHA256", ErrBadSignature},
		{"Hash-Algorithm SHA1 explicit", canned + "&Hash-Algorithm=SHA1", nil},
		{"Hash-Algorithm unknown", canned + "&Hash-Algorithm=MD5", ErrUnsupportedHash},
		{"Hash-Algorithm lower case", canned + "&Hash-Algorithm=sha256", ErrUnsupportedHash},
		{"no Signature", strings.Replace(canned, "&Signature=", "&Sig=", 1), ErrMissing},
		{"both Expires and Policy", canned + "&Policy=" + param(t, custom, "Policy"), ErrMalformedPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(urlInput(t, tc.signed))
			if (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifySignedButMalformed: the signature is checked before the policy is parsed,
// and a policy is refused as malformed only once its signature holds (or, when it is
// oversized, before any signature check).
func TestVerifySignedButMalformed(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 10)
	exp := fmt.Sprint(testExpiry.Unix())
	cases := []struct {
		name   string
		policy string
		good   bool // signed correctly
		want   error
	}{
		{"valid", `{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":` + exp + `}}}]}`, true, nil},
		{"garbage, signed", `not json`, true, ErrMalformedPolicy},
		{"garbage, unsigned", `not json`, false, ErrBadSignature},
		{"two statements, signed", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":` + exp + `}}},{"Condition":{"DateLessThan":{"AWS:EpochTime":` + exp + `}}}]}`, true, ErrMalformedPolicy},
		{"unknown key, signed", `{"Statement":[{"Resource":"https://h/*","Effect":"Allow","Condition":{"DateLessThan":{"AWS:EpochTime":` + exp + `}}}]}`, true, ErrMalformedPolicy},
		{"oversized, signed", `{"Statement":[{"Resource":"https://h/` + strings.Repeat("a", MaxPolicyBytes) + `","Condition":{"DateLessThan":{"AWS:EpochTime":` + exp + `}}}]}`, true, ErrMalformedPolicy},
		{"huge", strings.Repeat("x", 3*MaxPolicyBytes), true, ErrMalformedPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := Sign([]byte(tc.policy), rsaA, crypto.SHA1)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.good {
				sig, _ = Sign([]byte(tc.policy+" "), rsaA, crypto.SHA1)
			}
			before := v.verifies.Load()
			_, err = v.Verify(VerifyInput{Resource: "https://h/a", Now: testNow,
				Query: Credentials{Policy: EncodeBase64([]byte(tc.policy)), Signature: sig, KeyPairID: testKeyA}})
			if (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if len(tc.policy) > MaxPolicyBytes && v.verifies.Load() != before {
				t.Error("an oversized policy cost a signature check")
			}
		})
	}
}

func TestVerifyMissing(t *testing.T) {
	v := newTestVerifier(t, 0)
	cases := []struct {
		name    string
		q, c    Credentials
		wantMsg string
	}{
		{"nothing", Credentials{}, Credentials{}, "missing signing parameters: no signed URL parameters or CloudFront cookies"},
		{"no key id", Credentials{Expires: "1", Signature: "AA__"}, Credentials{}, "missing signing parameters: no Key-Pair-Id query parameter"},
		{"no signature", Credentials{Expires: "1", KeyPairID: testKeyA}, Credentials{}, "missing signing parameters: no Signature query parameter"},
		{"no policy", Credentials{}, Credentials{Signature: "AA__", KeyPairID: testKeyA}, "missing signing parameters: no CloudFront-Expires cookie or CloudFront-Policy cookie"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(VerifyInput{Resource: "https://h/a", Query: tc.q, Cookies: tc.c, Now: testNow})
			if !errors.Is(err, ErrMissing) || err.Error() != tc.wantMsg {
				t.Errorf("got %q, want %q", err, tc.wantMsg)
			}
		})
	}
}

// TestVerifyURLWinsOverCookies: URL parameters are used alone when present; a URL's
// Signature is never combined with a cookie's Policy.
func TestVerifyURLWinsOverCookies(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 0)
	good, err := SignCookies(testKeyA, rsaA, SignOptions{Resource: "https://h/*", Expires: testExpiry})
	if err != nil {
		t.Fatal(err)
	}
	in := cookieInput("https://h/a.jpg", good)
	if _, err := v.Verify(in); err != nil {
		t.Fatalf("cookies alone: %v", err)
	}
	// A bad signed URL is not rescued by good cookies.
	bad := in
	bad.Query = Credentials{Expires: fmt.Sprint(testExpiry.Unix()), Signature: "AAAA", KeyPairID: testKeyA}
	if _, err := v.Verify(bad); !errors.Is(err, ErrBadSignature) {
		t.Errorf("bad URL with good cookies: %v", err)
	}
	// The URL's Signature with the cookie's Policy: incomplete URL parameters.
	mixed := in
	mixed.Query = Credentials{Signature: in.Cookies.Signature, KeyPairID: testKeyA}
	if _, err := v.Verify(mixed); !errors.Is(err, ErrMissing) {
		t.Errorf("mixed: %v", err)
	}
	// A good signed URL wins over bad cookies.
	signed := mustSignURL(t, "https://h/a.jpg", testKeyB, rsaB, SignOptions{Expires: testExpiry})
	u := urlInput(t, signed)
	u.Cookies = Credentials{Policy: "junk", Signature: "junk", KeyPairID: "nobody"}
	res, err := v.Verify(u)
	if err != nil || res.FromCookies || res.KeyID != testKeyB || !res.Canned {
		t.Errorf("URL over bad cookies: %+v, %v", res, err)
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	loadKeys(t)
	both, err := NewVerifier(map[string]crypto.PublicKey{testKeyA: &rsaA.PublicKey, testKeyB: &rsaB.PublicKey}, VerifierOptions{CacheSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	onlyB, err := NewVerifier(map[string]crypto.PublicKey{testKeyB: &rsaB.PublicKey}, VerifierOptions{CacheSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	byA := urlInput(t, mustSignURL(t, "https://h/a", testKeyA, rsaA, SignOptions{Expires: testExpiry}))
	byB := urlInput(t, mustSignURL(t, "https://h/a", testKeyB, rsaB, SignOptions{Expires: testExpiry}))
	for name, in := range map[string]VerifyInput{"old key": byA, "new key": byB} {
		if _, err := both.Verify(in); err != nil {
			t.Errorf("%s during rotation: %v", name, err)
		}
	}
	if _, err := onlyB.Verify(byA); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("removed key: %v", err)
	}
	if _, err := onlyB.Verify(byB); err != nil {
		t.Errorf("remaining key: %v", err)
	}
}

func TestVerifyAlgorithms(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 0)
	cases := []struct {
		name  string
		keyID string
		key   crypto.Signer
		hash  crypto.Hash
	}{
		{"rsa sha1", testKeyA, rsaA, crypto.SHA1},
		{"rsa sha256", testKeyA, rsaA, crypto.SHA256},
		{"ecdsa sha1", testKeyEC, ecKey, crypto.SHA1},
		{"ecdsa sha256", testKeyEC, ecKey, crypto.SHA256},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, o := range []SignOptions{
				{Expires: testExpiry, Hash: tc.hash},
				{Expires: testExpiry, Hash: tc.hash, Resource: "https://h/v/*", IP: netip.MustParsePrefix("203.0.113.0/24")},
			} {
				signed := mustSignURL(t, "https://h/v/a.ts", tc.keyID, tc.key, o)
				if got := strings.Contains(signed, "&Hash-Algorithm=SHA256"); got != (tc.hash == crypto.SHA256) {
					t.Errorf("Hash-Algorithm parameter present = %v in %s", got, signed)
				}
				res, err := v.Verify(urlInput(t, signed))
				if err != nil || res.Hash != tc.hash {
					t.Errorf("URL %s: %+v, %v", signed, res, err)
				}
				// The same signature announced with the other hash fails.
				in := urlInput(t, signed)
				in.Query.HashAlgorithm = map[bool]string{true: "", false: "SHA256"}[tc.hash == crypto.SHA256]
				if _, err := v.Verify(in); !errors.Is(err, ErrBadSignature) {
					t.Errorf("wrong hash announced: %v", err)
				}
				o.Resource = "https://h/v/*"
				cookies, err := SignCookies(tc.keyID, tc.key, o)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.Verify(cookieInput("https://h/v/b.ts", cookies)); err != nil {
					t.Errorf("cookies: %v", err)
				}
			}
		})
	}
}

func TestSignCookies(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 0)
	names := func(cs []*http.Cookie) string {
		var n []string
		for _, c := range cs {
			n = append(n, c.Name)
			if c.Path != "/" || !c.Secure || !c.HttpOnly {
				t.Errorf("cookie attributes %s", c)
			}
		}
		return strings.Join(n, ",")
	}
	canned, err := SignCookies(testKeyA, rsaA, SignOptions{Resource: "https://h/one.mp4", Expires: testExpiry})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(canned); got != "CloudFront-Expires,CloudFront-Signature,CloudFront-Key-Pair-Id" {
		t.Errorf("canned cookies %s", got)
	}
	if res, err := v.Verify(cookieInput("https://h/one.mp4", canned)); err != nil || !res.Canned || !res.FromCookies {
		t.Errorf("canned cookies: %+v %v", res, err)
	}
	if _, err := v.Verify(cookieInput("https://h/two.mp4", canned)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("canned cookies, other URL: %v", err)
	}
	custom, err := SignCookies(testKeyA, rsaA, SignOptions{Resource: "https://h/*", Expires: testExpiry, Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(custom); got != "CloudFront-Policy,CloudFront-Signature,CloudFront-Key-Pair-Id,CloudFront-Hash-Algorithm" {
		t.Errorf("custom cookies %s", got)
	}
	for _, bad := range []SignOptions{{Expires: testExpiry}, {Resource: "h/a", Expires: testExpiry}, {Resource: "https://h/*"}, {Resource: "https://h/*", Expires: testExpiry, Hash: crypto.MD5}} {
		if _, err := SignCookies(testKeyA, rsaA, bad); err == nil {
			t.Errorf("SignCookies(%+v) succeeded", bad)
		}
	}
}

func TestSignURLErrors(t *testing.T) {
	loadKeys(t)
	o := SignOptions{Expires: testExpiry}
	cases := []struct{ name, url, keyID string }{
		{"relative", "/a", testKeyA},
		{"ftp", "ftp://h/a", testKeyA},
		{"no host", "https:///a", testKeyA},
		{"fragment", "https://h/a#x", testKeyA},
		{"user", "https://u:p@h/a", testKeyA},
		{"space", "https://h/a b", testKeyA},
		{"non-ascii", "https://h/é", testKeyA},
		{"already signed", "https://h/a?Expires=1", testKeyA},
		{"bad key id", "https://h/a", "K 1"},
		{"no key id", "https://h/a", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := SignURL(tc.url, tc.keyID, rsaA, o); err == nil {
				t.Errorf("signed: %s", s)
			}
		})
	}
	if _, err := SignURL("https://h/a", testKeyA, rsaA, SignOptions{Expires: testExpiry, Resource: "https://h/b/*"}); err == nil {
		t.Error("resource not covering the URL accepted")
	}
	if _, err := SignURL("https://h/a", testKeyA, rsaA, SignOptions{}); err == nil {
		t.Error("no expiry accepted")
	}
	s := mustSignURL(t, "https://h/a?", testKeyA, rsaA, o)
	if !strings.HasPrefix(s, "https://h/a?Expires=") {
		t.Errorf("trailing '?' not dropped: %s", s)
	}
}

// TestVerifyCache: one verification per distinct signature; the conditions still apply
// to cached signatures; entries end with the policy; the cache stays bounded.
func TestVerifyCache(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 1000)
	cookies, err := SignCookies(testKeyA, rsaA, SignOptions{Resource: "https://h/gallery/*", Expires: testExpiry, IP: netip.MustParsePrefix("203.0.113.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		res, err := v.Verify(cookieInput(fmt.Sprintf("https://h/gallery/img-%03d.jpg", i), cookies))
		if err != nil {
			t.Fatal(err)
		}
		if res.Cached != (i > 0) {
			t.Errorf("request %d: Cached = %v", i, res.Cached)
		}
	}
	if n := v.verifies.Load(); n != 1 {
		t.Errorf("a page of 100 images cost %d signature checks, want 1", n)
	}
	in := cookieInput("https://h/gallery/x.jpg", cookies)
	cases := []struct {
		name string
		edit func(*VerifyInput)
		want error
	}{
		{"expired", func(in *VerifyInput) { in.Now = testExpiry }, ErrExpired},
		{"wrong ip", func(in *VerifyInput) { in.Client = netip.MustParseAddr("198.51.100.1") }, ErrWrongIP},
		{"other resource", func(in *VerifyInput) { in.Resource = "https://h/private/x" }, ErrResourceMismatch},
		{"other key id", func(in *VerifyInput) { in.Cookies.KeyPairID = testKeyB }, ErrBadSignature},
		{"other hash", func(in *VerifyInput) { in.Cookies.HashAlgorithm = "SHA256" }, ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			tc.edit(&in)
			if _, err := v.Verify(in); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Entries never outlive the policy.
	k := cacheKey(crypto.SHA1, testKeyA, "", []byte("p"))
	v.cache.put(k, &Policy{DateLessThan: testNow.Add(time.Second)}, testNow)
	if _, ok := v.cache.get(k, testNow.Add(time.Second)); ok {
		t.Error("entry outlived its DateLessThan")
	}
	k2 := cacheKey(crypto.SHA1, testKeyA, "", []byte("p2"))
	v.cache.put(k2, &Policy{DateLessThan: testNow}, testNow)
	if _, ok := v.cache.get(k2, testNow.Add(-time.Hour)); ok {
		t.Error("an expired policy was cached")
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	c := newVerifyCache(10)
	for i := range 100 {
		c.put(cacheKey(crypto.SHA1, "K", "", []byte{byte(i)}), &Policy{DateLessThan: testExpiry}, testNow)
		if n := c.len(); n > 10 {
			t.Fatalf("cache grew to %d", n)
		}
	}
	// Expired entries go first.
	c.clear()
	for i := range 10 {
		c.put(cacheKey(crypto.SHA1, "K", "", []byte{byte(i)}), &Policy{DateLessThan: testNow.Add(time.Duration(i+1) * time.Second)}, testNow)
	}
	later := testNow.Add(5 * time.Second)
	c.put(cacheKey(crypto.SHA1, "K", "", []byte("new")), &Policy{DateLessThan: testExpiry}, later)
	if n := c.len(); n != 6 {
		t.Errorf("after sweeping expired entries: %d, want 6", n)
	}
}

func TestVerifyCacheDisabled(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 0)
	in := urlInput(t, mustSignURL(t, "https://h/a", testKeyA, rsaA, SignOptions{Expires: testExpiry}))
	for range 3 {
		if res, err := v.Verify(in); err != nil || res.Cached {
			t.Fatalf("%+v %v", res, err)
		}
	}
	if n := v.verifies.Load(); n != 3 {
		t.Errorf("%d verifications, want 3", n)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 8)
	var inputs []VerifyInput
	for i := range 20 {
		inputs = append(inputs, urlInput(t, mustSignURL(t, fmt.Sprintf("https://h/%d", i), testKeyA, rsaA, SignOptions{Expires: testExpiry})))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if _, err := v.Verify(inputs[(i+g)%len(inputs)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewVerifierErrors(t *testing.T) {
	loadKeys(t)
	if _, err := NewVerifier(nil, VerifierOptions{}); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := NewVerifier(map[string]crypto.PublicKey{"bad id": &rsaA.PublicKey}, VerifierOptions{}); err == nil {
		t.Error("bad key ID accepted")
	}
	if _, err := NewVerifier(map[string]crypto.PublicKey{"K1": "not a key"}, VerifierOptions{}); err == nil {
		t.Error("bad key accepted")
	}
}

// TestVerifyCacheKeyedOnEncoding: the cache is keyed on the signature as sent, so a
// cached signature with one character changed, or in another alphabet, is verified
// (and refused) rather than found; and a request whose signature does not decode and
// whose policy is malformed is refused for its signature, with a cache or without.
func TestVerifyCacheKeyedOnEncoding(t *testing.T) {
	loadKeys(t)
	for _, size := range []int{0, 1000} {
		v := newTestVerifier(t, size)
		cookies, err := SignCookies(testKeyA, rsaA, SignOptions{Resource: "https://h/*", Expires: testExpiry})
		if err != nil {
			t.Fatal(err)
		}
		in := cookieInput("https://h/a", cookies)
		for range 2 {
			if _, err := v.Verify(in); err != nil {
				t.Fatal(err)
			}
		}
		sig := in.Cookies.Signature
		flip := []byte(sig)
		flip[10] ^= 1
		std := strings.NewReplacer("-", "+", "~", "/", "_", "=").Replace(sig)
		for _, bad := range []string{string(flip), std, sig + "A"} {
			in2 := in
			in2.Cookies.Signature = bad
			if _, err := v.Verify(in2); !errors.Is(err, ErrBadSignature) {
				t.Errorf("cache %d: signature %q: %v, want ErrBadSignature", size, bad, err)
			}
		}
		in3 := in
		in3.Cookies.Signature, in3.Cookies.Policy = "!!!", "%%%"
		if _, err := v.Verify(in3); !errors.Is(err, ErrBadSignature) {
			t.Errorf("cache %d: bad signature and bad policy: %v, want ErrBadSignature", size, err)
		}
		in4 := VerifyInput{Resource: "https://h/a", Query: Credentials{Expires: "soon", Signature: "!!!", KeyPairID: testKeyA}, Now: testNow}
		if _, err := v.Verify(in4); !errors.Is(err, ErrBadSignature) {
			t.Errorf("cache %d: bad signature and bad Expires: %v, want ErrBadSignature", size, err)
		}
	}
}
