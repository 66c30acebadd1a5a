package config

import (
	"strings"
	"testing"
	"time"
)

// rateLimitSrc is a configuration with one route whose rate_limit is rl (YAML flow
// mapping) and whose policy is auth (public: true or an auth section).
func rateLimitSrc(rl, auth string) string {
	return `
origins:
  o: {dir: {root: /tmp}}
routes:
  - name: api
    path: /api/*
    origin: o
    ` + auth + `
    rate_limit: ` + rl + `
`
}

const basicAuth = `auth: {methods: [{basic: {users: {a: "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."}}}]}`

// TestRateLimitParses: defaults (by client) and canonical header names.
func TestRateLimitParses(t *testing.T) {
	cfg := mustParse(t, rateLimitSrc(`{requests: 100, per: 1m}`, "public: true"), nil)
	rl := cfg.Routes[0].RateLimit
	if rl == nil || rl.Requests != 100 || rl.Per != time.Minute || rl.By != RateByClient || rl.Header != "" {
		t.Fatalf("rate_limit = %+v", rl)
	}
	cfg = mustParse(t, rateLimitSrc(`{requests: 5, per: 1s, by: header, header: x-api-key}`, "public: true"), nil)
	if rl := cfg.Routes[0].RateLimit; rl.By != RateByHeader || rl.Header != "X-Api-Key" {
		t.Fatalf("rate_limit = %+v", rl)
	}
	cfg = mustParse(t, rateLimitSrc(`{requests: 1, per: 24h, by: identity}`, basicAuth), nil)
	if rl := cfg.Routes[0].RateLimit; rl.By != RateByIdentity || rl.Per != 24*time.Hour {
		t.Fatalf("rate_limit = %+v", rl)
	}
}

// TestRateLimitErrors: every refusal names its field and the line it stands on.
func TestRateLimitErrors(t *testing.T) {
	for _, tc := range []struct {
		rl, auth, path, msg string
	}{
		{`{per: 1m}`, "public: true", "routes[0].rate_limit.requests", "required"},
		{`{requests: 0, per: 1m}`, "public: true", "routes[0].rate_limit.requests", "from 1"},
		{`{requests: -3, per: 1m}`, "public: true", "routes[0].rate_limit.requests", "got -3"},
		{`{requests: 2000000000, per: 1m}`, "public: true", "routes[0].rate_limit.requests", "1000000000"},
		{`{requests: 10}`, "public: true", "routes[0].rate_limit.per", "required"},
		{`{requests: 10, per: 500ms}`, "public: true", "routes[0].rate_limit.per", "between 1s and 24h"},
		{`{requests: 10, per: 25h}`, "public: true", "routes[0].rate_limit.per", "between 1s and 24h"},
		{`{requests: 10, per: 1m, by: ip}`, "public: true", "routes[0].rate_limit.by", `"ip"`},
		{`{requests: 10, per: 1m, by: header}`, "public: true", "routes[0].rate_limit.header", "required with by: header"},
		{`{requests: 10, per: 1m, by: header, header: "X Key"}`, "public: true", "routes[0].rate_limit.header", "not a header name"},
		{`{requests: 10, per: 1m, header: X-Api-Key}`, "public: true", "routes[0].rate_limit.header", "only with by: header"},
		{`{requests: 10, per: 1m, by: identity}`, "public: true", "routes[0].rate_limit.by", "public route"},
		{`{requests: 10, per: 1m, burst: 5}`, "public: true", "routes[0].rate_limit.burst", ""},
	} {
		t.Run(tc.path+" "+tc.rl, func(t *testing.T) {
			src := rateLimitSrc(tc.rl, tc.auth)
			errs := parseErrors(t, src, nil)
			for _, e := range errs {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					if want := lineNo(t, src, "rate_limit:"); e.Line != want {
						t.Errorf("%s: line %d, want %d", e.Path, e.Line, want)
					}
					return
				}
			}
			t.Errorf("no error at %s containing %q; got %v", tc.path, tc.msg, errs)
		})
	}
}
