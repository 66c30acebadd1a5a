package upload

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

func TestParsePresign(t *testing.T) {
	for _, tc := range []struct {
		method, ct, query, body string
		status                  int // 0: accepted
		want                    presignRequest
	}{
		{"POST", "application/json", "", `{"filename":"a.txt","size":3,"method":"PUT"}`, 0, presignRequest{Filename: "a.txt", Method: "PUT"}},
		{"POST", "application/json; charset=utf-8", "", `{"key":"/u/a"}`, 0, presignRequest{Key: "/u/a"}},
		{"POST", "application/x-www-form-urlencoded", "", `filename=a.txt&content_type=text%2Fplain`, 0, presignRequest{Filename: "a.txt", ContentType: "text/plain"}},
		{"GET", "", "key=%2Fu%2Fa&size=0", "", 0, presignRequest{Key: "/u/a"}},
		{"GET", "", "key=a&key=b", "", 400, presignRequest{}},
		{"GET", "", "size=-1", "", 400, presignRequest{}},
		{"GET", "", "size=+1", "", 400, presignRequest{}},
		{"GET", "", "size=99999999999999999999", "", 400, presignRequest{}},
		{"GET", "", "other=1", "", 400, presignRequest{}},
		{"GET", "", "%zz", "", 400, presignRequest{}},
		{"GET", "", "", "body", 400, presignRequest{}},
		{"POST", "application/json", "", `{"size":-5}`, 400, presignRequest{}},
		{"POST", "application/json", "", `{"unknown":1}`, 400, presignRequest{}},
		{"POST", "application/json", "", `{"key":"a"} {"key":"b"}`, 400, presignRequest{}},
		{"POST", "application/json", "x=1", `{}`, 400, presignRequest{}},
		{"POST", "text/plain", "", `{}`, 415, presignRequest{}},
		{"POST", "", "", `{}`, 415, presignRequest{}},
		{"PUT", "application/json", "", `{}`, 405, presignRequest{}},
	} {
		got, err := parsePresign(tc.method, tc.ct, tc.query, []byte(tc.body))
		var pe *errPresign
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("%s %q %q: %v", tc.method, tc.query, tc.body, err)
		case tc.status != 0 && (!errors.As(err, &pe) || pe.status != tc.status):
			t.Errorf("%s %q %q: %v, want %d", tc.method, tc.query, tc.body, err, tc.status)
		case tc.status == 0 && (got.Key != tc.want.Key || got.Filename != tc.want.Filename || got.ContentType != tc.want.ContentType || got.Method != tc.want.Method):
			t.Errorf("%s %q %q: %+v", tc.method, tc.query, tc.body, got)
		}
	}
}

// FuzzParsePresign: whatever a caller sends, parsing returns a request or a 4xx
// refusal, never a panic, and an accepted size is never negative.
func FuzzParsePresign(f *testing.F) {
	f.Add("POST", "application/json", "", []byte(`{"filename":"a.txt","size":3}`))
	f.Add("POST", "application/x-www-form-urlencoded", "", []byte("key=%2Fa&method=POST"))
	f.Add("GET", "", "key=/a&size=10&content_type=text/plain", []byte(nil))
	f.Fuzz(func(t *testing.T, method, ct, query string, body []byte) {
		pr, err := parsePresign(method, ct, query, body)
		if err != nil {
			var pe *errPresign
			if !errors.As(err, &pe) || pe.status < 400 || pe.status > 499 {
				t.Fatalf("refusal %v is not a 4xx", err)
			}
			return
		}
		if pr.Size != nil && *pr.Size < 0 {
			t.Fatalf("negative size accepted: %d", *pr.Size)
		}
	})
}

func grantQuery(s *Signer, g Grant) string { return s.Sign(g).Encode() }

func TestSignerVerify(t *testing.T) {
	s := NewSigner([]byte(strings.Repeat("k", 32)))
	now := time.Unix(1_800_000_000, 0)
	g := Grant{Route: "r", Key: "u/alice/a.txt", MaxSize: 10, ContentType: "text/plain", Expires: now.Add(time.Minute), User: "alice", Email: "a@example.com"}
	q := grantQuery(s, g)
	got, err := s.Verify(q, "r", "u/alice/a.txt", now)
	if err != nil || got.User != "alice" || got.Email != "a@example.com" || got.MaxSize != 10 || got.ContentType != "text/plain" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	set := func(name, v string) string {
		vals, _ := url.ParseQuery(q)
		vals.Set(name, v)
		return vals.Encode()
	}
	for name, tc := range map[string]struct{ q, route, key string }{
		"other route":    {q, "r2", "u/alice/a.txt"},
		"other key":      {q, "r", "u/alice/b.txt"},
		"size":           {set(paramMaxSize, "11"), "r", "u/alice/a.txt"},
		"type":           {set(paramType, "text/html"), "r", "u/alice/a.txt"},
		"user":           {set(paramUser, "bob"), "r", "u/alice/a.txt"},
		"email":          {set(paramEmail, "b@example.com"), "r", "u/alice/a.txt"},
		"expiry":         {set(paramExpires, "1900000000"), "r", "u/alice/a.txt"},
		"repeated":       {q + "&" + paramMaxSize + "=10", "r", "u/alice/a.txt"},
		"no signature":   {strings.Replace(q, paramSignature, "x", 1), "r", "u/alice/a.txt"},
		"short sig":      {set(paramSignature, "AAAA"), "r", "u/alice/a.txt"},
		"signed number+": {set(paramMaxSize, "+10"), "r", "u/alice/a.txt"},
	} {
		if _, err := s.Verify(tc.q, tc.route, tc.key, now); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := s.Verify(q, "r", "u/alice/a.txt", now.Add(time.Minute)); err == nil {
		t.Error("expired grant verified")
	}
	if _, err := NewSigner([]byte(strings.Repeat("x", 32))).Verify(q, "r", "u/alice/a.txt", now); err == nil {
		t.Error("another key verified")
	}
}

// FuzzParseGrant: a parsed grant carries a 32-byte signature and a non-negative size,
// and a grant that verifies is one Sign made (any query Sign made verifies).
func FuzzParseGrant(f *testing.F) {
	s := NewSigner([]byte(strings.Repeat("k", 32)))
	f.Add(grantQuery(s, Grant{Route: "r", Key: "k", MaxSize: 5, Expires: time.Unix(2_000_000_000, 0), User: "alice"}))
	f.Add("X-Gatehouse-Expires=1&X-Gatehouse-Max-Size=1&X-Gatehouse-Signature=x")
	f.Fuzz(func(t *testing.T, q string) {
		g, sig, err := parseGrant(q)
		if err != nil {
			return
		}
		if len(sig) != 32 || g.MaxSize < 0 {
			t.Fatalf("accepted %+v with %d-byte signature", g, len(sig))
		}
		if v, err := s.Verify(q, "r", "k", time.Unix(0, 0)); err == nil {
			again := s.Sign(Grant{Route: "r", Key: "k", MaxSize: v.MaxSize, ContentType: v.ContentType, Expires: v.Expires, User: v.User, Email: v.Email})
			if again.Get(paramSignature) != base64.RawURLEncoding.EncodeToString(sig) {
				t.Fatalf("verified a grant Sign would not make: %q", q)
			}
		}
	})
}

// TestGatewayAuth: the authenticator identifies only a PUT of the signed key within its
// limits, as the original caller; everything else gets no identity.
func TestGatewayAuth(t *testing.T) {
	s := NewSigner([]byte(strings.Repeat("k", 32)))
	now := time.Unix(1_800_000_000, 0)
	a := &GatewayAuth{Route: "r", Keys: route.KeyMap{StripPrefix: "/u", AddPrefix: "up/"}, Signer: s, Now: func() time.Time { return now }}
	q := grantQuery(s, Grant{Route: "r", Key: "up/alice/a.txt", MaxSize: 5, ContentType: "text/plain", Expires: now.Add(time.Minute), User: "alice"})
	req := func(method, target string, n int64, ct ...string) *policy.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(strings.Repeat("x", int(max(n, 0)))))
		r.ContentLength = n
		for _, c := range ct {
			r.Header.Add("Content-Type", c)
		}
		return &policy.Request{HTTP: r}
	}
	id, err := a.Authenticate(context.Background(), req("PUT", "/u/alice/a.txt?"+q, 5, "text/plain"))
	if err != nil || id.User != "alice" || id.Source != "presigned-upload" {
		t.Fatalf("good PUT: %+v %v", id, err)
	}
	for name, r := range map[string]*policy.Request{
		"no grant":     req("PUT", "/u/alice/a.txt", 5, "text/plain"),
		"GET":          req("GET", "/u/alice/a.txt?"+q, 0),
		"HEAD":         req("HEAD", "/u/alice/a.txt?"+q, 0),
		"DELETE":       req("DELETE", "/u/alice/a.txt?"+q, 0),
		"other key":    req("PUT", "/u/alice/b.txt?"+q, 5, "text/plain"),
		"too big":      req("PUT", "/u/alice/a.txt?"+q, 6, "text/plain"),
		"chunked":      req("PUT", "/u/alice/a.txt?"+q, -1, "text/plain"),
		"other type":   req("PUT", "/u/alice/a.txt?"+q, 5, "text/html"),
		"no type":      req("PUT", "/u/alice/a.txt?"+q, 5),
		"two types":    req("PUT", "/u/alice/a.txt?"+q, 5, "text/plain", "text/html"),
		"folder":       req("PUT", "/u/alice/?"+q, 5, "text/plain"),
		"encoded path": req("PUT", "/u/alice%2fa.txt?"+q, 5, "text/plain"),
	} {
		if id, err := a.Authenticate(context.Background(), r); err == nil || id != nil {
			t.Errorf("%s: identified %+v", name, id)
		} else if f := new(policy.Failure); !errors.As(err, &f) {
			t.Errorf("%s: %v is not a failure (an outage)", name, err)
		}
	}
	now = now.Add(time.Minute)
	if _, err := a.Authenticate(context.Background(), req("PUT", "/u/alice/a.txt?"+q, 5, "text/plain")); !errors.Is(err, policy.ErrBadCredentials) {
		t.Errorf("expired: %v", err)
	}
}

// TestWithGatewayAuth: the combined policy allows what the route's policy allows and
// what the authenticator identifies; the route's policy is left as it was.
func TestWithGatewayAuth(t *testing.T) {
	deny := stubAuth{err: policy.ErrNoCredentials}
	allow := stubAuth{id: &policy.Identity{Subject: "x"}}
	g := stubAuth{id: &policy.Identity{Subject: "g"}}
	r := &policy.Request{HTTP: httptest.NewRequest("PUT", "/", nil)}
	for _, mode := range []policy.Mode{policy.Any, policy.All} {
		p := &policy.Policy{Mode: mode, Authenticators: []policy.Authenticator{allow, deny}}
		if d := p.Decide(context.Background(), r); mode == policy.All && d.Allow {
			t.Errorf("mode %d: a denied all-policy allowed", mode)
		}
		combined := withAuth(p, g)
		if d := combined.Decide(context.Background(), r); !d.Allow || d.Identity == nil {
			t.Errorf("mode %d: %+v", mode, d)
		}
		if len(p.Authenticators) != 2 {
			t.Errorf("mode %d: the route's policy changed", mode)
		}
	}
}

type stubAuth struct {
	id  *policy.Identity
	err error
}

func (s stubAuth) Name() string { return "stub" }
func (s stubAuth) Authenticate(context.Context, *policy.Request) (*policy.Identity, error) {
	return s.id, s.err
}

// TestRegression_GatewayAuthTwoContentTypes: a gateway-signed PUT sending the signed
// Content-Type and then another one was identified (Header.Get read only the first),
// and the write path then stored the body; exactly one Content-Type is required now.
func TestRegression_GatewayAuthTwoContentTypes(t *testing.T) {
	s := NewSigner([]byte(strings.Repeat("k", 32)))
	now := time.Unix(1_800_000_000, 0)
	a := &GatewayAuth{Route: "r", Signer: s, Now: func() time.Time { return now }}
	q := grantQuery(s, Grant{Route: "r", Key: "a.txt", MaxSize: 5, ContentType: "text/plain", Expires: now.Add(time.Minute)})
	r := httptest.NewRequest("PUT", "/a.txt?"+q, strings.NewReader("hello"))
	r.Header.Add("Content-Type", "text/plain")
	r.Header.Add("Content-Type", "text/html")
	if id, err := a.Authenticate(context.Background(), &policy.Request{HTTP: r}); err == nil {
		t.Fatalf("two Content-Types identified as %+v", id)
	}
}
