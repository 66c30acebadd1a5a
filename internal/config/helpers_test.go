package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------------------
// helpers

// envMap is a LookupEnv backed by a map, so tests never depend on the process environment.
func envMap(m map[string]string) LookupEnv {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// lineNo returns the 1-based number of the first line of src that contains needle, or 0
// when needle is empty. It fails the test when needle is absent, so a typo in a test
// cannot silently turn into "line 0".
func lineNo(t *testing.T, src, needle string) int {
	t.Helper()
	if needle == "" {
		return 0
	}
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	t.Fatalf("test bug: %q is not in the source", needle)
	return 0
}

// mustParse parses src (named test.yaml) and fails the test on any error.
func mustParse(t *testing.T, src string, env map[string]string) *Config {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(src), envMap(env))
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	if cfg == nil {
		t.Fatal("Parse returned a nil Config and no error")
	}
	return cfg
}

// parseErrors parses src, requires it to fail with a non-empty Errors, and checks the
// invariants every failure keeps: no Config, every error in the named file, sorted by
// line.
func parseErrors(t *testing.T, src string, env map[string]string) Errors {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(src), envMap(env))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors; config: %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a Config along with an error")
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error is %T (%v), want config.Errors", err, err)
	}
	if len(errs) == 0 {
		t.Fatal("Parse returned an empty Errors")
	}
	for i, e := range errs {
		if e.File != "test.yaml" {
			t.Errorf("errs[%d].File = %q, want test.yaml", i, e.File)
		}
		if i > 0 && errs[i-1].Line > e.Line {
			t.Errorf("errors not sorted by line: %d (%s) before %d (%s)", errs[i-1].Line, errs[i-1].Path, e.Line, e.Path)
		}
	}
	return errs
}

// wantErr describes one expected FieldError: its exact path, the line it stands on
// (given as text found on that line of the source; "" means line 0) and a substring of
// its message.
type wantErr struct {
	path string
	at   string
	msg  string
}

// checkErrs requires errs to hold exactly the wanted errors, in any order.
func checkErrs(t *testing.T, src string, errs Errors, want []wantErr) {
	t.Helper()
	used := make([]bool, len(errs))
	for _, w := range want {
		line := lineNo(t, src, w.at)
		found := false
		for i, e := range errs {
			if !used[i] && e.Path == w.path && e.Line == line && strings.Contains(e.Msg, w.msg) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing error: line %d, path %q, message containing %q", line, w.path, w.msg)
		}
	}
	for i, e := range errs {
		if !used[i] {
			t.Errorf("unexpected error: %v", e)
		}
	}
	if t.Failed() {
		t.Logf("all errors:\n%v", errs)
	}
}

// errCase is a table entry for a document that must fail with exactly want.
type errCase struct {
	name string
	src  string
	env  map[string]string
	want []wantErr
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrors(t, tc.src, tc.env)
			checkErrs(t, tc.src, errs, tc.want)
		})
	}
}

// okCase is a table entry for a document that must parse; check inspects the result.
type okCase struct {
	name  string
	src   string
	env   map[string]string
	check func(t *testing.T, c *Config)
}

func runOKCases(t *testing.T, cases []okCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.src, tc.env)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// originsDoc is an origins section with a dir origin "site" and an S3 origin "b".
const originsDoc = `origins:
  site:
    dir:
      root: /srv/site
  b:
    s3:
      bucket: bkt
`

// withRoutes is a valid document apart from the routes given (indented as list items).
func withRoutes(routes string) string { return originsDoc + "routes:\n" + routes }

// oneRoute is a single public route to origin "site".
const oneRoute = `routes:
  - path: /
    origin: site
    public: true
`

// withOrigins is a valid document apart from the origins given (indented under origins).
func withOrigins(origins string) string { return "origins:\n" + origins + oneRoute }

// withS3 is a valid document whose only origin is S3 origin "site" with the given fields
// (each a "key: value" line, indented here).
func withS3(fields ...string) string {
	var b strings.Builder
	b.WriteString("origins:\n  site:\n    s3:\n")
	for _, f := range fields {
		b.WriteString("      " + f + "\n")
	}
	return b.String() + oneRoute
}

// withTop is a valid document with the given top-level sections before origins.
func withTop(top string) string { return top + originsDoc + oneRoute }

// ---------------------------------------------------------------------------------------
// documents shared by the tests here and fuzz_test.go

const fullConfig = `# a complete configuration
server:
  listen: 0.0.0.0:8443
  trusted_proxies:
    - 10.0.0.0/8
    - 192.168.1.1
    - "2001:db8::/32"
  client_ip_header: cloudfront-viewer-address
  idle_timeout: 1m
  shutdown_timeout: 45s
admin:
  listen: 127.0.0.1:9090
log:
  level: debug
  format: text
  access: "off"
origins:
  media:
    timeout: 5s
    s3:
      bucket: media-bucket
      region: eu-west-1
      endpoint: ${S3_ENDPOINT:-http://127.0.0.1:9000}
      path_style: true
      access_key_id: ${AWS_KEY}
      secret_access_key: ${AWS_SECRET}
      max_attempts: 5
  site:
    dir:
      root: ${SITE_ROOT}
routes:
  - path: /
    origin: site
    index: index.html
    public: true
  - name: media
    path: /media/*
    origin: media
    strip_prefix: /media
    add_prefix: assets/
    methods: [GET]
    auth:
      mode: all
  - path: /private/*
    origin: site
    auth: {}
  - path: "*"
    origin: site
    index: index.html
    methods: [HEAD, GET]
    auth:
      mode: any
`

var fullEnv = map[string]string{"AWS_KEY": "AKIAEXAMPLE", "AWS_SECRET": "s3cr3t", "SITE_ROOT": "/srv/site"}

const minimalConfig = `origins:
  b:
    s3:
      bucket: bkt
routes:
  - path: /files/*
    origin: b
    public: true
`
