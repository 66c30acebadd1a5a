package config

import (
	"testing"
	"time"
)

// withHeaders is a valid document whose one route (public unless auth is given) has the
// response_headers section rh (indented under it).
func withHeaders(rh string) string {
	return withRoutes("  - path: /a/*\n    origin: site\n    public: true\n    response_headers:\n" + rh)
}

func TestParseResponseHeaders(t *testing.T) {
	runOKCases(t, []okCase{
		{name: "every key", src: withHeaders(`      cache_control_private: true
      security:
        strict_transport_security: {max_age: 17520h, include_subdomains: true, preload: true}
        frame_options: SAMEORIGIN
        referrer_policy: strict-origin-when-cross-origin
        content_security_policy: "default-src 'self'"
      custom:
        - {name: X-Robots-Tag, value: noindex}
        - {name: cache-control, value: "max-age=300", override: true}
      remove: [ETag, X-Cache]
      content_disposition:
        - {path: "/a/downloads/*", filename: none}
        - {path: "*.pdf"}
      origin_metadata: [x-amz-meta-author, X-Amz-Meta-Reviewed-By]
`), check: func(t *testing.T, c *Config) {
			rh := c.Routes[0].ResponseHeaders
			eq(t, "private", *rh.CacheControlPrivate, true)
			eq(t, "max_age", rh.Security.StrictTransportSecurity.MaxAge, 2*365*24*time.Hour)
			eq(t, "custom[1]", *rh.Custom[1], CustomHeader{Name: "cache-control", Value: "max-age=300", Override: true})
			eq(t, "filename default", rh.ContentDisposition[1].Filename, DispositionFilenameKey)
			eq(t, "filename none", rh.ContentDisposition[0].Filename, DispositionFilenameNone)
		}},
		{name: "defaults", src: withHeaders("      security:\n        strict_transport_security: {}\n"), check: func(t *testing.T, c *Config) {
			rh := c.Routes[0].ResponseHeaders
			eq(t, "private on a public route", *rh.CacheControlPrivate, false)
			eq(t, "max_age", rh.Security.StrictTransportSecurity.MaxAge, DefaultHSTSMaxAge)
		}},
		{name: "private by default on a route that is not public", src: withRoutes("  - path: /a/*\n    origin: site\n    auth: {}\n    response_headers: {custom: [{name: X-A, value: b}]}\n  - path: /b/*\n    origin: site\n    auth: {}\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, "with a section", c.Routes[0].CacheControlPrivate(), true)
				eq(t, "without one", c.Routes[1].CacheControlPrivate(), true)
			}},
		{name: "opt out", src: withRoutes("  - path: /a/*\n    origin: site\n    auth: {}\n    response_headers: {cache_control_private: false}\n"),
			check: func(t *testing.T, c *Config) { eq(t, "private", c.Routes[0].CacheControlPrivate(), false) }},
		{name: "public route without a section", src: withRoutes("  - path: /a/*\n    origin: site\n    public: true\n"),
			check: func(t *testing.T, c *Config) { eq(t, "private", c.Routes[0].CacheControlPrivate(), false) }},
		{name: "all user metadata", src: withHeaders("      origin_metadata: [x-amz-meta-*]\n")},
	})
	const p = "routes[0].response_headers"
	runErrCases(t, []errCase{
		{name: "unknown key", src: withHeaders("      cache_control: private\n"),
			want: []wantErr{{p + ".cache_control", "cache_control:", "unknown key"}}},
		{name: "frame options", src: withHeaders("      security: {frame_options: ALLOW-FROM}\n"),
			want: []wantErr{{p + ".security.frame_options", "frame_options", `must be one of DENY, SAMEORIGIN, got "ALLOW-FROM"`}}},
		{name: "referrer policy", src: withHeaders("      security:\n        referrer_policy: strict-origin-when-crossorigin\n"),
			want: []wantErr{{p + ".security.referrer_policy", "referrer_policy", `got "strict-origin-when-crossorigin"`}}},
		{name: "hsts fraction of a second", src: withHeaders("      security:\n        strict_transport_security: {max_age: 1500ms}\n"),
			want: []wantErr{{p + ".security.strict_transport_security.max_age", "max_age", "whole number of seconds"}}},
		{name: "hsts negative", src: withHeaders("      security:\n        strict_transport_security: {max_age: -1h}\n"),
			want: []wantErr{{p + ".security.strict_transport_security.max_age", "max_age", "positive"}}},
		{name: "hsts preload rules", src: withHeaders("      security:\n        strict_transport_security:\n          max_age: 24h\n          preload: true\n"),
			want: []wantErr{{p + ".security.strict_transport_security.max_age", "max_age", "at least a year"},
				{p + ".security.strict_transport_security.preload", "preload", "include_subdomains: true"}}},
		{name: "csp with a newline", src: withHeaders("      security: {content_security_policy: \"default-src 'self'\\r\\nSet-Cookie: a=b\"}\n"),
			want: []wantErr{{p + ".security.content_security_policy", "content_security_policy", "control character"}}},
		{name: "custom header problems", src: withHeaders(`      custom:
        - {name: "X Bad", value: v}
        - {name: Content-Length, value: "0"}
        - {name: X-Empty, value: ""}
        - {name: Access-Control-Allow-Origin, value: "*"}
        - {name: Strict-Transport-Security, value: max-age=1}
        - {name: Content-Disposition, value: attachment}
        - {name: X-Dup, value: a}
        - {name: x-dup, value: b}
        - {name: Set-Cookie, value: a=b}
        - {name: x-amz-meta-owner, value: me}
        - ~
`), want: []wantErr{
			{p + ".custom[0].name", `"X Bad"`, "not a valid header name"},
			{p + ".custom[1].name", "Content-Length", "Content-Length cannot be changed by a policy: it describes the body"},
			{p + ".custom[2].value", "X-Empty", "must not be empty"},
			{p + ".custom[3].name", "Access-Control", "set by the route's cors section"},
			{p + ".custom[4].name", "name: Strict-Transport", "set with security.strict_transport_security"},
			{p + ".custom[5].name", "name: Content-Disposition", "use content_disposition"},
			{p + ".custom[7].name", "x-dup", "already set by " + p + ".custom[6]"},
			{p + ".custom[8].name", "Set-Cookie", "would attach a cookie"},
			{p + ".custom[9].name", "x-amz-meta-owner", "never sent unless listed in origin_metadata"},
			{p + ".custom[10]", "- ~", "empty entry"},
		}},
		{name: "remove problems", src: withHeaders(`      security: {frame_options: DENY}
      custom: [{name: X-Keep, value: v}]
      remove:
        - Content-Range
        - Vary
        - X-Frame-Options
        - X-Keep
        - ETag
        - etag
        - x-amz-request-id
        - Transfer-Encoding
`), want: []wantErr{
			{p + ".remove[0]", "- Content-Range", "describes the body"},
			{p + ".remove[1]", "- Vary", "tells caches"},
			{p + ".remove[2]", "- X-Frame-Options", "set by " + p + ".security.frame_options"},
			{p + ".custom[0].name", "X-Keep", "also removed by " + p + ".remove[3]"},
			{p + ".remove[5]", "- etag", "already removed by " + p + ".remove[4]"},
			{p + ".remove[6]", "- x-amz-request-id", "never sent unless listed"},
			{p + ".remove[7]", "- Transfer-Encoding", "connection framing"},
		}},
		{name: "content disposition", src: withHeaders(`      content_disposition:
        - {path: downloads/*}
        - {path: /a/*, filename: original}
        - {filename: key}
`), want: []wantErr{
			{p + ".content_disposition[0].path", "downloads/*", "must start with '/' or '*'"},
			{p + ".content_disposition[1].filename", "original", `must be one of key, none, got "original"`},
			{p + ".content_disposition[2].path", "filename: key", "required"},
		}},
		{name: "origin metadata", src: withHeaders(`      origin_metadata:
        - x-amz-version-id
        - x-amz-meta-a b
        - x-amz-meta-owner
        - X-Amz-Meta-Owner
`), want: []wantErr{
			{p + ".origin_metadata[0]", "x-amz-version-id", "only user metadata"},
			{p + ".origin_metadata[1]", "a b", "not a valid header name"},
			{p + ".origin_metadata[3]", "X-Amz-Meta-Owner", "duplicate"},
		}},
	})
}

// FuzzResponseHeadersConfig feeds arbitrary custom header names and values through the
// whole decode and validate path: it must never panic, and whatever it accepts must be
// a header that cannot split a response.
func FuzzResponseHeadersConfig(f *testing.F) {
	f.Add("X-Robots-Tag", "noindex")
	f.Add("Content-Length", "1")
	f.Add("X-A", "a\r\nb")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, name, value string) {
		src := withRoutes("  - path: /a/*\n    origin: site\n    public: true\n    response_headers:\n      custom:\n        - name: ${N}\n          value: ${V}\n")
		cfg, err := Parse("test.yaml", []byte(src), envMap(map[string]string{"N": name, "V": value}))
		if err != nil {
			return
		}
		h := cfg.Routes[0].ResponseHeaders.Custom[0]
		if !isToken(h.Name) || badHeaderValue(h.Value) != "" {
			t.Fatalf("accepted %q: %q", h.Name, h.Value)
		}
	})
}
