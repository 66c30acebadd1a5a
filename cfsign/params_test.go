package cfsign

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestBase64(t *testing.T) {
	for _, in := range [][]byte{nil, {0xfb}, {0xfb, 0xff}, {0xfb, 0xff, 0xbf}, []byte("any carnal pleas")} {
		enc := EncodeBase64(in)
		std := base64.StdEncoding.EncodeToString(in)
		if want := strings.NewReplacer("+", "-", "=", "_", "/", "~").Replace(std); enc != want {
			t.Errorf("EncodeBase64(%x) = %q, want %q", in, enc, want)
		}
		out, err := DecodeBase64(enc)
		if err != nil || !bytes.Equal(out, in) {
			t.Errorf("DecodeBase64(%q) = %x, %v", enc, out, err)
		}
	}
	bad := []struct{ name, in string }{
		{"standard plus", "-~+_"},
		{"standard slash", "+/8_"},
		{"standard padding", "+/8="},
		{"missing padding", "-~8"},
		{"missing double padding", "-w"},
		{"non-zero trailing bits", "-x__"},
		{"line break", "-~8_\n"},
		{"carriage return inside", "-~\r8_"},
		{"space", "-~ 8_"},
		{"url-safe alphabet", "-_8_"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := DecodeBase64(tc.in); err == nil {
				t.Errorf("DecodeBase64(%q) = %x, want an error", tc.in, b)
			}
		})
	}
}

func TestStripQuery(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"Expires=1&Signature=s&Key-Pair-Id=K", ""},
		{"version=3&Expires=1&Signature=s&Key-Pair-Id=K", "version=3"},
		{"a=1&Policy=p&b=%20x+y&Signature=s&Key-Pair-Id=K&Hash-Algorithm=SHA256&c", "a=1&b=%20x+y&c"},
		{"z=1&a=2&Expires=1", "z=1&a=2"},                   // order kept, not sorted
		{"a=1&&b=2&Expires=1", "a=1&&b=2"},                 // empty segments kept
		{"expires=1&SIGNATURE=2", "expires=1&SIGNATURE=2"}, // names are case-sensitive
		{"Expire%73=1&Key%2DPair%2DId=K&x=1", "x=1"},       // encoded names are still stripped
		{"Expires", ""},
		{"Expires%zz=1&x", "Expires%zz=1&x"}, // undecodable name: not a signing parameter
		{"a=1;Expires=2", "a=1;Expires=2"},   // ';' is not a separator
	}
	for _, tc := range cases {
		if got := StripQuery(tc.in); got != tc.want {
			t.Errorf("StripQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := SigningParams(); !slices.Equal(got, []string{"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"}) {
		t.Errorf("SigningParams() = %v", got)
	}
}

func TestQueryCredentials(t *testing.T) {
	c, err := QueryCredentials("v=1&Policy=p~-_&Signature=ab%7Ecd&Key-Pair-Id=K1&Hash-Algorithm=SHA256")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Credentials{Policy: "p~-_", Signature: "ab~cd", KeyPairID: "K1", HashAlgorithm: "SHA256"}); c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c, err := QueryCredentials("a=1&b=2"); err != nil || !c.Empty() {
		t.Errorf("no signing params: %+v, %v", c, err)
	}
	bad := []struct {
		query string
		want  error
	}{
		{"Expires=1&Expires=2", ErrMalformedPolicy},
		{"Policy=a&Policy=a", ErrMalformedPolicy},
		{"Signature=a&x=1&Signature=b", ErrBadSignature},
		{"Key-Pair-Id=a&Key%2DPair-Id=b", ErrUnknownKey},
		{"Hash-Algorithm=SHA1&Hash-Algorithm=SHA256", ErrUnsupportedHash},
		{"Signature=ab%zz", ErrBadSignature},
	}
	for _, tc := range bad {
		if _, err := QueryCredentials(tc.query); !errors.Is(err, tc.want) {
			t.Errorf("QueryCredentials(%q): %v, want %v", tc.query, err, tc.want)
		}
	}
}

func TestCookieCredentials(t *testing.T) {
	r := &http.Request{Header: http.Header{"Cookie": {
		"session=x; CloudFront-Policy=P1; CloudFront-Signature=S1; CloudFront-Key-Pair-Id=K1; " +
			"CloudFront-Policy=P2; cloudfront-signature=lower; CloudFront-Hash-Algorithm=SHA256; CloudFront-Expires=9",
	}}}
	got := CookieCredentials(r.Cookies())
	want := Credentials{Expires: "9", Policy: "P1", Signature: "S1", KeyPairID: "K1", HashAlgorithm: "SHA256"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !CookieCredentials(nil).Empty() {
		t.Error("no cookies: not empty")
	}
}

// FuzzCookies feeds arbitrary Cookie headers and query strings to the readers and a
// verifier: nothing panics, stripping is idempotent and removes every signing
// parameter, and whatever the input, no request without a real signature is accepted.
func FuzzCookies(f *testing.F) {
	f.Add("CloudFront-Policy=abc; CloudFront-Signature=def; CloudFront-Key-Pair-Id=KAAAAAAAAAAAAA", "a=1&Expires=2")
	f.Add(`CloudFront-Expires="4070908800"; CloudFront-Signature=-~_; CloudFront-Key-Pair-Id=KBBBBBBBBBBBBB`, "")
	f.Add("CloudFront-Hash-Algorithm=SHA256;;; =;CloudFront-Key-Pair-Id", "Key%2DPair-Id=KAAAAAAAAAAAAA&Signature=%7E&Policy=eyJ9_")
	f.Add("", "Expires=4070908800&Signature=AAAA&Key-Pair-Id=KECECECECECECE&Hash-Algorithm=SHA256")
	v := newTestVerifier(f, 16)
	f.Fuzz(func(t *testing.T, cookieHeader, rawQuery string) {
		r := &http.Request{Header: http.Header{"Cookie": {cookieHeader}}}
		cc := CookieCredentials(r.Cookies())
		stripped := StripQuery(rawQuery)
		if StripQuery(stripped) != stripped {
			t.Fatalf("StripQuery not idempotent on %q", rawQuery)
		}
		if qc, err := QueryCredentials(stripped); err != nil || !qc.Empty() {
			t.Fatalf("StripQuery(%q) = %q still has signing parameters: %+v, %v", rawQuery, stripped, qc, err)
		}
		if len(stripped) > len(rawQuery) {
			t.Fatalf("StripQuery grew %q", rawQuery)
		}
		qc, err := QueryCredentials(rawQuery)
		if err != nil {
			return
		}
		resource := "https://h/a"
		if stripped != "" {
			resource += "?" + stripped
		}
		_, err = v.Verify(VerifyInput{Resource: resource, Query: qc, Cookies: cc, Client: testClient, Now: testNow})
		if err == nil {
			t.Fatalf("accepted cookies %q query %q", cookieHeader, rawQuery)
		}
		if qc.Empty() && cc.Empty() && !errors.Is(err, ErrMissing) {
			t.Fatalf("no credentials but %v", err)
		}
	})
}

// FuzzQueryCredentials: values are those url.QueryUnescape gives (read without it when
// there is nothing to unescape), and a value it refuses is an error.
func FuzzQueryCredentials(f *testing.F) {
	f.Add("Expires=1700000000&Signature=ab-~_&Key-Pair-Id=K1")
	f.Add("Policy=a%2Bb+c&Signature=%zz")
	f.Add("Hash-Algorithm=SHA256&Expire%73=1&x=%")
	f.Fuzz(func(t *testing.T, q string) {
		c, err := QueryCredentials(q)
		want := map[string]string{}
		var wantErr bool
		for seg := range strings.SplitSeq(q, "&") {
			name, raw, ok := splitParam(seg)
			if !ok || !isSigningParam(name) {
				continue
			}
			if _, dup := want[name]; dup {
				wantErr = true
				break
			}
			v, uerr := url.QueryUnescape(raw)
			if uerr != nil {
				wantErr = true
				break
			}
			want[name] = v
		}
		if wantErr {
			if err == nil {
				t.Fatalf("%q: no error", q)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		got := map[string]string{ParamExpires: c.Expires, ParamPolicy: c.Policy, ParamSignature: c.Signature,
			ParamKeyPairID: c.KeyPairID, ParamHashAlgorithm: c.HashAlgorithm}
		for name, v := range got {
			if v != want[name] {
				t.Fatalf("%q: %s = %q, want %q", q, name, v, want[name])
			}
		}
	})
}
