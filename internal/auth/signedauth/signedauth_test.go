package signedauth

import (
	"bufio"
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var (
	keyOnce    sync.Once
	keyA, keyB crypto.Signer
	keyErr     error
	now        = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clientIP   = netip.MustParseAddr("203.0.113.9")
)

func keys(t *testing.T) (crypto.Signer, crypto.Signer) {
	t.Helper()
	keyOnce.Do(func() {
		if keyA, keyErr = cfsign.GenerateKey("rsa"); keyErr == nil {
			keyB, keyErr = cfsign.GenerateKey("ecdsa")
		}
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyA, keyB
}

func pubPEM(t *testing.T, k crypto.Signer) string {
	t.Helper()
	b, err := cfsign.MarshalPublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// build makes an authenticator trusting KA (inline PEM) and KB (a file).
func build(t *testing.T, cfg *config.SignedAuth) *Authenticator {
	t.Helper()
	a, b := keys(t)
	file := filepath.Join(t.TempDir(), "b.pem")
	if err := os.WriteFile(file, []byte(pubPEM(t, b)), 0o644); err != nil {
		t.Fatal(err)
	}
	groups := map[string]*config.KeyGroup{
		"old": {Keys: []*config.PublicKey{{ID: "KA", PEM: pubPEM(t, a)}}},
		"new": {Keys: []*config.PublicKey{{ID: "KB", File: file}}},
	}
	if cfg.KeyGroups == nil {
		cfg.KeyGroups = []string{"old", "new"}
	}
	auth, err := New("signed", cfg, groups, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

func request(target string, edit func(*http.Request)) *policy.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if edit != nil {
		edit(r)
	}
	scheme := "http"
	if strings.HasPrefix(target, "https:") {
		scheme = "https"
	}
	return &policy.Request{HTTP: r, Client: clientIP, Scheme: scheme}
}

func sign(t *testing.T, raw, keyID string, key crypto.Signer, o cfsign.SignOptions) string {
	t.Helper()
	if o.Expires.IsZero() {
		o.Expires = now.Add(time.Hour)
	}
	s, err := cfsign.SignURL(raw, keyID, key, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthenticate(t *testing.T) {
	a, b := keys(t)
	auth := build(t, &config.SignedAuth{Hosts: []string{"Media.Example.com", "cdn.example.com:8443"}})
	canned := sign(t, "https://media.example.com/private/a%20b.pdf?v=1", "KA", a, cfsign.SignOptions{})
	cookies, err := cfsign.SignCookies("KB", b, cfsign.SignOptions{Resource: "https://media.example.com/gallery/*", Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	withCookies := func(r *http.Request) {
		for _, c := range cookies {
			r.AddCookie(c)
		}
	}
	cases := []struct {
		name    string
		req     *policy.Request
		want    error  // nil: identity
		subject string // for identities
		text    string // substring of the error
	}{
		{"canned URL", request(canned, nil), nil, "key:KA", ""},
		{"host upper case and default port", request(strings.Replace(canned, "media.example.com", "MEDIA.example.com:443", 1), nil), nil, "key:KA", ""},
		{"cookies for a prefix", request("https://media.example.com/gallery/2026/x.jpg?w=200", withCookies), nil, "key:KB", ""},
		{"non-default port", request(sign(t, "https://cdn.example.com:8443/a", "KB", b, cfsign.SignOptions{}), nil), nil, "key:KB", ""},
		{"nothing", request("https://media.example.com/private/a.pdf", nil), policy.ErrNoCredentials, "", ""},
		{"other cookies only", request("https://media.example.com/a", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "session", Value: "x"}) }), policy.ErrNoCredentials, "", ""},
		{"host not listed", request(strings.Replace(canned, "media.example.com", "evil.example.com", 1), nil), policy.ErrForbidden, "", `host "evil.example.com" not signed for`},
		{"path decoded", request(strings.Replace(canned, "a%20b", "a%2520b", 1), nil), cfsign.ErrBadSignature, "", "bad signature"},
		{"scheme", func() *policy.Request { r := request(canned, nil); r.Scheme = "http"; return r }(), cfsign.ErrBadSignature, "", "bad signature"},
		{"expired", request(sign(t, "https://media.example.com/a", "KA", a, cfsign.SignOptions{Expires: now}), nil), cfsign.ErrExpired, "", "expired at 2026-05-01T12:00:00Z"},
		{"unknown key", request(strings.Replace(canned, "Key-Pair-Id=KA", "Key-Pair-Id=KZ", 1), nil), cfsign.ErrUnknownKey, "", `unknown key "KZ"`},
		{"duplicate parameter", request(canned+"&Signature=x", nil), cfsign.ErrBadSignature, "", "sent twice"},
		{"wrong ip", request(sign(t, "https://media.example.com/a", "KA", a, cfsign.SignOptions{IP: netip.MustParsePrefix("192.0.2.0/24")}), nil), cfsign.ErrWrongIP, "", "203.0.113.9 is outside 192.0.2.0/24"},
		{"cookies, other prefix", request("https://media.example.com/private/x.jpg", withCookies), cfsign.ErrResourceMismatch, "", "not covered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := auth.Authenticate(context.Background(), tc.req)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != tc.subject || id.Source != "signed" {
					t.Errorf("identity %+v", id)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want != policy.ErrNoCredentials && !errors.Is(err, policy.ErrForbidden) {
				t.Errorf("%v does not wrap policy.ErrForbidden", err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not say %q", err, tc.text)
			}
		})
	}
}

func TestCookiesDisabled(t *testing.T) {
	_, b := keys(t)
	off := false
	auth := build(t, &config.SignedAuth{Cookies: &off})
	cookies, err := cfsign.SignCookies("KB", b, cfsign.SignOptions{Resource: "https://h/*", Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r := request("https://h/a", func(r *http.Request) {
		for _, c := range cookies {
			r.AddCookie(c)
		}
	})
	if _, err := auth.Authenticate(context.Background(), r); !errors.Is(err, policy.ErrNoCredentials) {
		t.Errorf("cookies disabled: %v", err)
	}
}

// TestDecisionReason: the denial reaches the log as "<name>: <reason>", with 403.
func TestDecisionReason(t *testing.T) {
	a, _ := keys(t)
	auth := build(t, &config.SignedAuth{})
	p := &policy.Policy{Mode: policy.Any, Authenticators: []policy.Authenticator{auth}}
	d := p.Decide(context.Background(), request(sign(t, "https://h/a", "KA", a, cfsign.SignOptions{Expires: now.Add(-time.Minute)}), nil))
	if d.Allow || d.Status != http.StatusForbidden || d.Reason != "signed: expired at 2026-05-01T11:59:00Z" {
		t.Errorf("decision %+v", d)
	}
	// Nothing to challenge with: a route that takes only signed URLs answers 403, as
	// CloudFront does, not a 401 without WWW-Authenticate.
	d = p.Decide(context.Background(), request("https://h/a", nil))
	if d.Status != http.StatusForbidden || len(d.Challenges) != 0 {
		t.Errorf("no credentials: %+v", d)
	}
}

func TestNewErrors(t *testing.T) {
	a, b := keys(t)
	groups := map[string]*config.KeyGroup{
		"g":       {Keys: []*config.PublicKey{{ID: "K1", PEM: pubPEM(t, a)}}},
		"clash":   {Keys: []*config.PublicKey{{ID: "K1", PEM: pubPEM(t, b)}}},
		"same":    {Keys: []*config.PublicKey{{ID: "K1", PEM: pubPEM(t, a)}}},
		"missing": {Keys: []*config.PublicKey{{ID: "KMISSING", File: filepath.Join(t.TempDir(), "nope.pem")}}},
		"badpem":  {Keys: []*config.PublicKey{{ID: "KBAD", PEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}},
	}
	cases := []struct {
		name   string
		cfg    *config.SignedAuth
		errHas string // "" = success
	}{
		{"ok", &config.SignedAuth{KeyGroups: []string{"g"}}, ""},
		{"same key in two groups", &config.SignedAuth{KeyGroups: []string{"g", "same"}}, ""},
		{"nil", nil, "no configuration"},
		{"no groups", &config.SignedAuth{}, "no key groups"},
		{"unknown group", &config.SignedAuth{KeyGroups: []string{"nope"}}, `no key group named "nope"`},
		{"id clash", &config.SignedAuth{KeyGroups: []string{"g", "clash"}}, `key ID K1 names different keys in key groups "g" and "clash"`},
		{"missing file", &config.SignedAuth{KeyGroups: []string{"missing"}}, "key KMISSING: open "},
		{"bad pem", &config.SignedAuth{KeyGroups: []string{"badpem"}}, "key KBAD:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("signed", tc.cfg, groups, Options{})
			if tc.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("got %v, want %q", err, tc.errHas)
			}
		})
	}
}

func TestQueryParams(t *testing.T) {
	if got := QueryParams(); !slices.Equal(got, []string{"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"}) {
		t.Errorf("QueryParams() = %v", got)
	}
}

// TestAWSCLIVectors runs the AWS CLI's signed URLs through the authenticator, as
// requests: allow rows authenticate, deny rows are forbidden.
func TestAWSCLIVectors(t *testing.T) {
	dir := testenv.SharedTestdata(t, "cloudfront")
	keyPEM, err := os.ReadFile(filepath.Join(dir, "public-key-K2JCJMDEHXQW5F.pem"))
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]*config.KeyGroup{"cf": {Keys: []*config.PublicKey{{ID: "K2JCJMDEHXQW5F", PEM: string(keyPEM)}}}}
	auth, err := New("signed", &config.SignedAuth{KeyGroups: []string{"cf"}, Hosts: []string{"media.example.com"}}, groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "aws-cli-signed-urls.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 4 || strings.HasPrefix(cols[0], "#") {
			continue
		}
		t.Run(cols[0], func(t *testing.T) {
			r := request(cols[3], nil)
			r.Client = netip.MustParseAddr(cols[2])
			id, err := auth.Authenticate(context.Background(), r)
			switch cols[1] {
			case "allow":
				if err != nil || id.Subject != "key:K2JCJMDEHXQW5F" {
					t.Errorf("refused: %v", err)
				}
			case "deny":
				if !errors.Is(err, policy.ErrForbidden) {
					t.Errorf("got %v, want forbidden", err)
				}
			}
		})
	}
}
