package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

func TestPrivateCacheControl(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "private"},
		{"max-age=60", "private, max-age=60"},
		{"public, max-age=60", "private, max-age=60"},
		{"PUBLIC,max-age=60 , s-maxage=600, proxy-revalidate", "private, max-age=60"},
		{`private="Set-Cookie", max-age=5`, "private, max-age=5"},
		{"private", "private"},
		{"no-store", "private, no-store"},
		{`no-cache="a, public", must-revalidate`, `private, no-cache="a, public", must-revalidate`},
		{"max-age=31536000, immutable", "private, max-age=31536000, immutable"},
		{", ,", "private"},
		{`x="open, public`, `private, x="open, public`},
	} {
		if got := gateway.PrivateCacheControl(tc.in); got != tc.want {
			t.Errorf("PrivateCacheControl(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzPrivateCacheControl: whatever Cache-Control an origin sends, the merged value
// starts with private, carries no directive that lets a shared cache store it, and
// merging again changes nothing.
func FuzzPrivateCacheControl(f *testing.F) {
	for _, s := range []string{"", "public, max-age=60", `no-cache="a,b", s-maxage=1`, `x="\"`, "private=\"x\",public"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := gateway.PrivateCacheControl(in)
		if !strings.HasPrefix(out, "private") {
			t.Fatalf("%q -> %q", in, out)
		}
		if again := gateway.PrivateCacheControl(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		for _, d := range strings.Split(out, ",") {
			name, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "=")
			if (name == "public" || name == "s-maxage") && !strings.Contains(in, `"`) {
				t.Fatalf("%q -> %q keeps %s", in, out, name)
			}
		}
	})
}

// headersConfig has an ip-allowed route (the test client's address), a public route, a
// cached ip-allowed route and a route with a full response headers policy, all on bucket
// assets under hdr/.
const headersConfig = `
cache: {memory: {max_size: 64MiB}, slice_size: 1MiB}
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /office/*
    origin: assets
    strip_prefix: /office
    auth: {methods: [{name: office, ip: {cidrs: [127.0.0.0/8, "::1"]}}]}
    error_pages:
      404: {builtin: denied, status: 404, cache_seconds: 60}
  - path: /cached/*
    origin: assets
    strip_prefix: /cached
    cache: {policy: optimized}
    auth: {methods: [{name: office, ip: {cidrs: [127.0.0.0/8, "::1"]}}]}
  - path: /optout/*
    origin: assets
    strip_prefix: /optout
    auth: {methods: [{name: office, ip: {cidrs: [127.0.0.0/8, "::1"]}}]}
    response_headers: {cache_control_private: false}
  - path: /closed/*
    origin: assets
    strip_prefix: /closed
    auth: {methods: [{name: elsewhere, ip: {cidrs: [192.0.2.0/24]}}]}
    response_headers:
      security: {strict_transport_security: {}}
  - path: /pub/*
    origin: assets
    strip_prefix: /pub
    public: true
  - path: /policy/*
    origin: assets
    strip_prefix: /policy
    public: true
    cors: {allowed_origins: [https://app.example.com]}
    response_headers:
      security:
        strict_transport_security: {max_age: 17520h, include_subdomains: true, preload: true}
        frame_options: DENY
        referrer_policy: strict-origin-when-cross-origin
        content_security_policy: "default-src 'self'"
      custom:
        - {name: X-Robots-Tag, value: noindex}
        - {name: Content-Language, value: de}
        - {name: Content-Type, value: application/octet-stream, override: true}
      remove: [ETag, Accept-Ranges]
      content_disposition:
        - {path: /policy/hdr/dl/*}
        - {path: /policy/hdr/anon/*, filename: none}
      origin_metadata: [x-amz-meta-author]
`

func headersGateway(t *testing.T) *gw {
	t.Helper()
	needMinIO(t)
	meta := func(in *s3.PutObjectInput) {
		in.Metadata = map[string]string{"author": "ana", "internal-note": "do not leak"}
		in.ContentLanguage = aws.String("en")
		in.ContentType = aws.String("text/plain")
	}
	putObject(t, "assets", "hdr/plain.txt", "no cache-control here", meta)
	putObject(t, "assets", "hdr/shared.txt", "origin says public", func(in *s3.PutObjectInput) {
		meta(in)
		in.CacheControl = aws.String("public, max-age=60, s-maxage=600")
	})
	putObject(t, "assets", "hdr/dl/report.pdf", "%PDF", func(in *s3.PutObjectInput) {
		in.ContentDisposition = aws.String("inline")
	})
	putObject(t, "assets", "hdr/anon/x.bin", "x", nil)
	return startGateway(t, headersConfig, map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})
}

// TestRegression_PrivateObjectCacheableByShared: an object allowed by the ip
// authenticator used to go out with Last-Modified and no Cache-Control, which lets a
// shared cache in front of gatehouse store it and serve it to anyone. Object responses
// of routes that are not public now say private (merged with the origin's directives),
// on GET, HEAD, 206 and 304 alike, cached routes included; the edge cache still stores
// and hits as before; public routes keep the origin's header untouched.
func TestRegression_PrivateObjectCacheableByShared(t *testing.T) {
	g := headersGateway(t)
	for _, tc := range []struct {
		method, path string
		hdr          []string
		status       int
		want         string
	}{
		{"GET", "/office/hdr/plain.txt", nil, 200, "private"},
		{"HEAD", "/office/hdr/plain.txt", nil, 200, "private"},
		{"GET", "/office/hdr/plain.txt", []string{"Range: bytes=0-1"}, 206, "private"},
		{"GET", "/office/hdr/shared.txt", nil, 200, "private, max-age=60"},
		{"GET", "/cached/hdr/shared.txt", nil, 200, "private, max-age=60"},
		{"GET", "/optout/hdr/shared.txt", nil, 200, "public, max-age=60, s-maxage=600"},
		{"GET", "/optout/hdr/plain.txt", nil, 200, ""},
		{"GET", "/pub/hdr/shared.txt", nil, 200, "public, max-age=60, s-maxage=600"},
		{"GET", "/pub/hdr/plain.txt", nil, 200, ""},
	} {
		resp, _ := g.do(t, tc.method, tc.path, tc.hdr...)
		wantStatus(t, resp, tc.status)
		wantHeader(t, resp, "Cache-Control", tc.want)
		if resp.Header.Get("Last-Modified") == "" {
			t.Errorf("%s %s: no Last-Modified", tc.method, tc.path)
		}
	}
	// 304s, from the origin and from the edge cache, say the same.
	for _, p := range []string{"/office/hdr/shared.txt", "/cached/hdr/shared.txt"} {
		resp, _ := g.do(t, "GET", p)
		resp, _ = g.do(t, "GET", p, "If-None-Match: "+resp.Header.Get("ETag"))
		wantStatus(t, resp, 304)
		wantHeader(t, resp, "Cache-Control", "private, max-age=60")
	}
	// The edge cache's own behaviour is unchanged: the origin's public max-age still
	// lets it store the object, and hits carry the private header too.
	resp, _ := g.do(t, "GET", "/cached/hdr/shared.txt")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	wantHeader(t, resp, "Cache-Control", "private, max-age=60")
}

// TestGatehouseResponsesNoStore: every response gatehouse writes itself says no-store,
// except an error page with cache_seconds, which on a private route is private too.
func TestGatehouseResponsesNoStore(t *testing.T) {
	g := headersGateway(t)
	for _, tc := range []struct {
		method, path string
		hdr          []string
		status       int
		want         string
	}{
		{"GET", "/nowhere", nil, 404, "no-store"},
		{"GET", "/pub/%2e%2e/x", nil, 400, "no-store"},
		{"GET", "/closed/hdr/plain.txt", nil, 403, "no-store"},
		{"POST", "/pub/hdr/plain.txt", nil, 405, "no-store"},
		{"GET", "/pub/hdr/missing.txt", nil, 404, "no-store"},
		{"GET", "/pub/hdr/plain.txt", []string{"Range: bytes=100-"}, 416, "no-store"},
		{"OPTIONS", "/policy/hdr/plain.txt", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: GET"}, 204, "no-store"},
		{"OPTIONS", "/policy/hdr/plain.txt", nil, 204, "no-store"},
		{"GET", "/office/hdr/missing.txt", nil, 404, "private, max-age=60"},
	} {
		resp, _ := g.do(t, tc.method, tc.path, tc.hdr...)
		wantStatus(t, resp, tc.status)
		wantHeader(t, resp, "Cache-Control", tc.want)
		wantHeader(t, resp, "X-Content-Type-Options", "nosniff")
	}
}

// TestResponseHeadersPolicy runs a full policy through the gateway: security headers on
// every response of the route, custom headers with and without override, remove,
// Content-Disposition for matching paths, and origin metadata passed on only when
// listed.
func TestResponseHeadersPolicy(t *testing.T) {
	g := headersGateway(t)
	security := map[string]string{
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
		"X-Frame-Options":           "DENY",
		"Referrer-Policy":           "strict-origin-when-cross-origin",
		"Content-Security-Policy":   "default-src 'self'",
		"X-Content-Type-Options":    "nosniff",
	}
	for _, m := range []string{"GET", "HEAD"} {
		resp, _ := g.do(t, m, "/policy/hdr/plain.txt")
		wantStatus(t, resp, 200)
		for k, v := range security {
			wantHeader(t, resp, k, v)
		}
		wantHeader(t, resp, "X-Robots-Tag", "noindex")
		wantHeader(t, resp, "Content-Language", "en") // the origin's: no override
		wantHeader(t, resp, "Content-Type", "application/octet-stream")
		wantHeader(t, resp, "ETag", "")
		wantHeader(t, resp, "Accept-Ranges", "")
		wantHeader(t, resp, "Cache-Control", "")
		wantHeader(t, resp, "X-Amz-Meta-Author", "ana")
		wantHeader(t, resp, "X-Amz-Meta-Internal-Note", "")
		wantHeader(t, resp, "Content-Disposition", "")
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-") && k != "X-Amz-Meta-Author" {
				t.Errorf("%s leaked", k)
			}
		}
	}
	// Without a policy, no origin metadata at all.
	resp, _ := g.do(t, "GET", "/pub/hdr/plain.txt")
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			t.Errorf("%s leaked on a route without origin_metadata", k)
		}
	}
	resp, _ = g.do(t, "GET", "/policy/hdr/dl/report.pdf")
	wantHeader(t, resp, "Content-Disposition", `attachment; filename=report.pdf`)
	resp, _ = g.do(t, "GET", "/policy/hdr/anon/x.bin")
	wantHeader(t, resp, "Content-Disposition", "attachment")
	// Security headers on the route's errors and preflights too; not on other routes.
	for _, tc := range []struct {
		method, path string
		hdr          []string
		status       int
	}{
		{"GET", "/policy/hdr/missing.txt", nil, 404},
		{"OPTIONS", "/policy/hdr/plain.txt", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: GET"}, 204},
	} {
		resp, _ := g.do(t, tc.method, tc.path, tc.hdr...)
		wantStatus(t, resp, tc.status)
		for k, v := range security {
			wantHeader(t, resp, k, v)
		}
		wantHeader(t, resp, "X-Robots-Tag", "") // custom headers are for objects only
	}
	resp, _ = g.do(t, "GET", "/closed/hdr/plain.txt")
	wantStatus(t, resp, http.StatusForbidden)
	wantHeader(t, resp, "Strict-Transport-Security", "max-age=31536000")
	resp, _ = g.do(t, "GET", "/pub/hdr/plain.txt")
	wantHeader(t, resp, "Strict-Transport-Security", "")
	wantHeader(t, resp, "Content-Language", "en")
}
