package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzEnv is the fixed environment every fuzz input sees.
var fuzzEnv = envMap(map[string]string{
	"A":         "alpha",
	"EMPTY":     "",
	"N":         "3",
	"BOOL":      "true",
	"DUR":       "5s",
	"ROOT":      "/srv/site",
	"BUCKET":    "bkt",
	"LISTEN":    "127.0.0.1:8081",
	"DOLLAR":    "$$",
	"REF":       "${A}",
	"MULTILINE": "a\nb: c",
})

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; it returns either a
// Config that keeps every invariant validation promises, or a non-empty, sorted Errors.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		fullConfig,
		minimalConfig,
		withRoutes("  - path: /a/*\n    origin: site\n    auth: {}\n  - path: /a/b/*\n    origin: b\n    public: true\n"),
		withS3("bucket: ${BUCKET}", "max_attempts: ${N}", "path_style: ${BOOL}", "region: ${MISSING:-x}", "endpoint: $${A}"),
		withOrigins("  site:\n    timeout: ${DUR}\n    dir: {root: ${ROOT}}\n"),
		"server:\n  listen: ${LISTEN}\n  trusted_proxies: [10.0.0.0/8, 10.1.2.3/8, x]\n  client_ip_header: x-forwarded-for\n" + originsDoc + oneRoute,
		"origins:\n  site: &o\n    dir: {root: /srv}\n  other: *o\n" + oneRoute,
		"origins:\n  &n site:\n    dir: {root: /a}\n  *n :\n    dir: {root: /b}\n" + oneRoute,
		"origins:\n  ? [a, b]\n  : {dir: {root: /a}}\n" + oneRoute,
		"origins:\n  <<: {dir: {root: /a}}\n" + oneRoute,
		"server: [a]\nadmin: x\nlog: {level: 1}\norigins: {a: {s3: {}, dir: {}}}\nroutes: [~, {}, x]\n",
		`{origins: {site: {dir: {root: /srv}}}, routes: [{path: "*", origin: site, public: true}]}`,
		"",
		"~",
		"a: [\n",
		"---\n...\n",
		"%YAML 1.2\n---\n" + minimalConfig,
		"!!map {}\n",
		"routes: !!seq\n- !!map {path: !!str /a, origin: b, public: !!bool true}\norigins: {b: {dir: {root: /x}}}\n",
		"origins:\n  b:\n    s3:\n      bucket: b\n      max_attempts: !!str 5\n" + oneRoute,
		"origins:\n  b:\n    timeout: !!binary AAAA\n    dir: {root: /x}\n" + oneRoute,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, fuzzEnv)
		if err != nil {
			checkFuzzErrors(t, cfg, err)
		} else {
			checkFuzzConfig(t, cfg)
		}
		// Parse is deterministic: the same bytes give the same answer.
		cfg2, err2 := Parse("fuzz.yaml", data, fuzzEnv)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("two parses differ:\n%v\n---\n%v", err, err2)
		}
		if err == nil && !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("two parses give different configs")
		}
	})
}

func checkFuzzErrors(t *testing.T, cfg *Config, err error) {
	t.Helper()
	if cfg != nil {
		t.Fatalf("Parse returned a Config along with %v", err)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	if len(errs) == 0 {
		t.Fatal("empty Errors")
	}
	for i, e := range errs {
		if e.File != "fuzz.yaml" || e.Line < 0 || e.Msg == "" {
			t.Fatalf("bad error %d: %+v", i, e)
		}
		if i > 0 && errs[i-1].Line > e.Line {
			t.Fatalf("errors not sorted by line:\n%v", errs)
		}
	}
}

func checkFuzzConfig(t *testing.T, c *Config) {
	t.Helper()
	if c == nil {
		t.Fatal("nil Config and nil error")
	}
	if len(c.Routes) == 0 || len(c.Origins) == 0 {
		t.Fatalf("valid config with %d routes and %d origins", len(c.Routes), len(c.Origins))
	}
	s := c.Server
	if s.Listen == "" || s.ReadHeaderTimeout <= 0 || s.IdleTimeout <= 0 || s.ShutdownTimeout <= 0 {
		t.Fatalf("server not defaulted or validated: %+v", s)
	}
	if s.ClientIPHeader != HeaderXForwardedFor && s.ClientIPHeader != HeaderCloudFrontViewer {
		t.Fatalf("client_ip_header %q not canonical", s.ClientIPHeader)
	}
	for _, p := range s.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			t.Fatalf("trusted proxy %q accepted: %v", p, err)
		}
	}
	if c.Admin.Listen != "" && c.Admin.Listen == s.Listen && !strings.HasSuffix(s.Listen, ":0") {
		t.Fatalf("admin.listen equals server.listen %q", s.Listen)
	}
	for name, o := range c.Origins {
		if o == nil || (o.S3 == nil) == (o.Dir == nil) || o.Timeout <= 0 {
			t.Fatalf("origin %q invalid: %+v", name, o)
		}
		if !originName.MatchString(name) {
			t.Fatalf("origin name %q accepted", name)
		}
		if o.S3 != nil && (o.S3.Bucket == "" || o.S3.MaxAttempts < 1 || o.S3.MaxAttempts > 10) {
			t.Fatalf("s3 origin %q invalid: %+v", name, o.S3)
		}
		if o.Dir != nil && o.Dir.Root == "" {
			t.Fatalf("dir origin %q without root", name)
		}
	}
	names := map[string]bool{}
	for i, r := range c.Routes {
		if r == nil {
			t.Fatalf("routes[%d] is nil", i)
		}
		if r.Path == "" || r.Name == "" || names[r.Name] {
			t.Fatalf("routes[%d] path %q name %q (duplicate: %v)", i, r.Path, r.Name, names[r.Name])
		}
		names[r.Name] = true
		if c.Origins[r.Origin] == nil {
			t.Fatalf("routes[%d] points at missing origin %q", i, r.Origin)
		}
		if len(r.Methods) == 0 {
			t.Fatalf("routes[%d] has no methods", i)
		}
		for _, m := range r.Methods {
			if m != "GET" && m != "HEAD" {
				t.Fatalf("routes[%d] method %q accepted", i, m)
			}
		}
		if r.Public == (r.Auth != nil) {
			t.Fatalf("routes[%d]: public %v with auth %+v", i, r.Public, r.Auth)
		}
		if r.Auth != nil && !slices.Contains([]string{"any", "all"}, r.Auth.Mode) {
			t.Fatalf("routes[%d]: auth mode %q", i, r.Auth.Mode)
		}
		for j, earlier := range c.Routes[:i] {
			if shadows(earlier.Path, r.Path) {
				t.Fatalf("routes[%d] %q shadowed by routes[%d] %q but accepted", i, r.Path, j, earlier.Path)
			}
		}
		// Errorf works for any path, present or not.
		if e := c.Errorf("routes["+string(rune('0'+i%10))+"].path", "x"); e.File != "fuzz.yaml" || e.Line < 0 {
			t.Fatalf("Errorf: %+v", e)
		}
	}
}

// FuzzExpandEnv checks expandEnv never panics and keeps its contract: text without '$'
// is unchanged, errors need a "${", and escaping every '$' as "$$" gives the text back.
func FuzzExpandEnv(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "$", "$$", "$$$", "${A}", "${A:-x}", "${Z:-}", "${EMPTY}", "${EMPTY:-d}",
		"${", "${A", "${}", "${9}", "${A}${", "$${A}", "${REF}", "${DOLLAR}", "a${A}b${N}c",
		"${A:-${B}}", "${Z:-}}", "\x00${A}\xff", "${Ä}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expandEnv(s, fuzzEnv)
		if !strings.Contains(s, "$") && (err != nil || out != s) {
			t.Fatalf("expandEnv(%q) = %q, %v; want it unchanged", s, out, err)
		}
		if err != nil && !strings.Contains(s, "${") {
			t.Fatalf("expandEnv(%q) failed without a ${: %v", s, err)
		}
		if err != nil && out != "" {
			t.Fatalf("expandEnv(%q) returned %q along with %v", s, out, err)
		}
		escaped := strings.ReplaceAll(s, "$", "$$")
		if back, err := expandEnv(escaped, fuzzEnv); err != nil || back != s {
			t.Fatalf("expandEnv(%q) = %q, %v; want %q", escaped, back, err, s)
		}
		// Without "${" there is nothing to look up: only "$$" escapes change the text.
		if !strings.Contains(s, "${") && (err != nil || out != unescapeDollars(s)) {
			t.Fatalf("expandEnv(%q) = %q, %v; want %q", s, out, err, unescapeDollars(s))
		}
	})
}

// unescapeDollars replaces each "$$" with "$", scanning left to right as expandEnv does.
func unescapeDollars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '$' {
			i++
		}
	}
	return b.String()
}
