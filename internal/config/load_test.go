package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
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
// valid documents

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

func TestParseValid(t *testing.T) {
	runOKCases(t, []okCase{
		{name: "full", src: fullConfig, env: fullEnv, check: func(t *testing.T, c *Config) {
			eq(t, "server.listen", c.Server.Listen, "0.0.0.0:8443")
			eq(t, "server.trusted_proxies", c.Server.TrustedProxies, []string{"10.0.0.0/8", "192.168.1.1", "2001:db8::/32"})
			eq(t, "server.client_ip_header (canonicalized)", c.Server.ClientIPHeader, HeaderCloudFrontViewer)
			eq(t, "server.idle_timeout", c.Server.IdleTimeout, time.Minute)
			eq(t, "server.shutdown_timeout", c.Server.ShutdownTimeout, 45*time.Second)
			eq(t, "server.read_header_timeout (default)", c.Server.ReadHeaderTimeout, DefaultReadHeaderTimeout)
			if c.Server.TLS != nil {
				t.Errorf("server.tls = %+v, want nil", c.Server.TLS)
			}
			eq(t, "admin.listen", c.Admin.Listen, "127.0.0.1:9090")
			eq(t, "log", c.Log, Log{Level: "debug", Format: "text", Access: "off"})

			if len(c.Origins) != 2 {
				t.Fatalf("got %d origins, want 2", len(c.Origins))
			}
			media := c.Origins["media"]
			if media == nil || media.S3 == nil || media.Dir != nil {
				t.Fatalf("origins.media = %+v, want an s3 origin", media)
			}
			eq(t, "origins.media.timeout", media.Timeout, 5*time.Second)
			eq(t, "origins.media.s3", *media.S3, S3Origin{
				Bucket: "media-bucket", Region: "eu-west-1", Endpoint: "http://127.0.0.1:9000", PathStyle: true,
				AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s3cr3t", MaxAttempts: 5,
			})
			site := c.Origins["site"]
			if site == nil || site.Dir == nil || site.S3 != nil {
				t.Fatalf("origins.site = %+v, want a dir origin", site)
			}
			eq(t, "origins.site.dir.root", site.Dir.Root, "/srv/site")
			eq(t, "origins.site.timeout (default)", site.Timeout, DefaultOriginTimeout)

			if len(c.Routes) != 4 {
				t.Fatalf("got %d routes, want 4", len(c.Routes))
			}
			eq(t, "routes[0]", *c.Routes[0], Route{Name: "/", Path: "/", Origin: "site", Index: "index.html", Methods: []string{"GET", "HEAD"}, Public: true})
			eq(t, "routes[1]", *c.Routes[1], Route{Name: "media", Path: "/media/*", Origin: "media", StripPrefix: "/media", AddPrefix: "assets/",
				Methods: []string{"GET"}, Auth: &Auth{Mode: "all"}})
			eq(t, "routes[2]", *c.Routes[2], Route{Name: "/private/*", Path: "/private/*", Origin: "site", Methods: []string{"GET", "HEAD"}, Auth: &Auth{Mode: "any"}})
			eq(t, "routes[3]", *c.Routes[3], Route{Name: "*", Path: "*", Origin: "site", Index: "index.html", Methods: []string{"HEAD", "GET"}, Auth: &Auth{Mode: "any"}})
		}},
		{name: "endpoint from the environment beats the default", src: fullConfig,
			env: map[string]string{"AWS_KEY": "k", "AWS_SECRET": "s", "SITE_ROOT": "/r", "S3_ENDPOINT": "https://minio.internal"},
			check: func(t *testing.T, c *Config) {
				eq(t, "origins.media.s3.endpoint", c.Origins["media"].S3.Endpoint, "https://minio.internal")
			}},
		{name: "minimal: every default applied", src: minimalConfig, check: func(t *testing.T, c *Config) {
			eq(t, "server", c.Server, Server{
				Listen: DefaultListen, ClientIPHeader: HeaderXForwardedFor, ReadHeaderTimeout: DefaultReadHeaderTimeout,
				IdleTimeout: DefaultIdleTimeout, ShutdownTimeout: DefaultShutdownTimeout,
			})
			eq(t, "admin", c.Admin, Admin{})
			eq(t, "log", c.Log, Log{Level: "info", Format: "json", Access: "stdout"})
			b := c.Origins["b"]
			eq(t, "origins.b.timeout", b.Timeout, DefaultOriginTimeout)
			eq(t, "origins.b.s3", *b.S3, S3Origin{Bucket: "bkt", MaxAttempts: DefaultS3MaxAttempts})
			eq(t, "routes[0]", *c.Routes[0], Route{Name: "/files/*", Path: "/files/*", Origin: "b", Methods: []string{"GET", "HEAD"}, Public: true})
		}},
		{name: "empty methods list gets the default", src: withRoutes("  - path: /\n    origin: site\n    methods: []\n    public: true\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, "routes[0].methods", c.Routes[0].Methods, []string{"GET", "HEAD"})
			}},
		{name: "explicit empty auth mode gets the default", src: withRoutes("  - path: /\n    origin: site\n    auth:\n      mode: \"\"\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, "routes[0].auth", c.Routes[0].Auth, &Auth{Mode: "any"})
			}},
		{name: "tls with both files", src: withTop("server:\n  tls:\n    cert_file: /c.pem\n    key_file: /k.pem\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, "server.tls", c.Server.TLS, &TLS{CertFile: "/c.pem", KeyFile: "/k.pem"})
			}},
		{name: "s3 profile and session keys", src: withS3("bucket: b", "profile: dev", "region: ap-south-1"),
			check: func(t *testing.T, c *Config) {
				eq(t, "origins.site.s3.profile", c.Origins["site"].S3.Profile, "dev")
			}},
		{name: "s3 explicit keys with session token", src: withS3("bucket: b", "access_key_id: k", "secret_access_key: s", "session_token: tok", "max_attempts: 1"),
			check: func(t *testing.T, c *Config) {
				eq(t, "origins.site.s3.session_token", c.Origins["site"].S3.SessionToken, "tok")
				eq(t, "origins.site.s3.max_attempts", c.Origins["site"].S3.MaxAttempts, 1)
			}},
		{name: "numbers and booleans are accepted as strings", src: withS3("bucket: 12345", "region: true"),
			check: func(t *testing.T, c *Config) {
				eq(t, "origins.site.s3.bucket", c.Origins["site"].S3.Bucket, "12345")
				eq(t, "origins.site.s3.region", c.Origins["site"].S3.Region, "true")
			}},
		{name: "yaml 1.1 booleans for a bool field", src: withS3("bucket: b", "path_style: yes"),
			check: func(t *testing.T, c *Config) {
				eq(t, "origins.site.s3.path_style", c.Origins["site"].S3.PathStyle, true)
			}},
		{name: "null sections are absent", src: "server: ~\nadmin:\nlog: null\n" + originsDoc + oneRoute,
			check: func(t *testing.T, c *Config) {
				eq(t, "server.listen", c.Server.Listen, DefaultListen)
			}},
		{name: "flow style", src: `{origins: {site: {dir: {root: /srv}}}, routes: [{path: /x, origin: site, public: true}]}`,
			check: func(t *testing.T, c *Config) {
				eq(t, "routes[0].path", c.Routes[0].Path, "/x")
			}},
		{name: "origin names with dots, dashes and underscores", src: withOrigins("  a.b_c-1:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			check: func(t *testing.T, c *Config) {
				if c.Origins["a.b_c-1"] == nil {
					t.Errorf("origin a.b_c-1 missing: %v", c.Origins)
				}
			}},
		{name: "only the first YAML document counts", src: minimalConfig + "---\nbogus: true\n"},
	})
}

// ---------------------------------------------------------------------------------------
// decoding: unknown keys, types

func TestParseUnknownKeys(t *testing.T) {
	const src = `server:
  listen: 127.0.0.1:8080
  listne: 127.0.0.1:8081
colour: blue
origins:
  media:
    s3:
      bucket: b
      bukket: c
routes:
  - path: /a
    origin: media
    public: true
  - path: /b
    origin: media
    publik: true
    auth:
      mode: any
      users: [alice]
`
	errs := parseErrors(t, src, nil)
	want := []struct {
		line int
		path string
		msg  string
	}{
		{3, "server.listne", `unknown key "listne" (known keys: client_ip_header, idle_timeout, listen, max_connections, read_header_timeout, shutdown_timeout, tls, trusted_proxies)`},
		{4, "colour", `unknown key "colour" (known keys: admin, cache, key_groups, log, origins, pages, routes, server)`},
		{9, "origins.media.s3.bukket", `unknown key "bukket" (known keys: access_key_id, bucket, endpoint, max_attempts, path_style, profile, region, secret_access_key, session_token)`},
		{16, "routes[1].publik", `unknown key "publik" (known keys: add_prefix, auth, cache, cors, error_pages, index, methods, name, origin, path, public, response_headers, strip_prefix)`},
		{19, "routes[1].auth.users", `unknown key "users" (known keys: methods, mode)`},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, w := range want {
		t.Run(w.path, func(t *testing.T) {
			e := errs[i]
			if e.Path != w.path || e.Line != w.line || e.Msg != w.msg {
				t.Errorf("errs[%d] = {Line: %d, Path: %q, Msg: %q}\nwant      {Line: %d, Path: %q, Msg: %q}", i, e.Line, e.Path, e.Msg, w.line, w.path, w.msg)
			}
		})
	}
}

func TestParseTypeErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "duration abc", src: withTop("server:\n  read_header_timeout: abc\n"),
			want: []wantErr{{"server.read_header_timeout", "read_header_timeout:", `want a duration such as 30s or 5m, got "abc"`}}},
		{name: "duration without a unit", src: withOrigins("  site:\n    timeout: 30\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.site.timeout", "timeout:", `want a duration such as 30s or 5m, got "30"`}}},
		{name: "bool maybe", src: withS3("bucket: b", "path_style: maybe"),
			want: []wantErr{{"origins.site.s3.path_style", "path_style:", `want true or false, got "maybe"`}}},
		{name: "int x", src: withS3("bucket: b", "max_attempts: x"),
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", `want a whole number, got "x"`}}},
		{name: "list where a mapping of keys is expected", src: withTop("server: [a, b]\n"),
			want: []wantErr{{"server", "server:", "want a mapping of keys, got a list"}}},
		{name: "list where an origin mapping is expected", src: withOrigins("  site:\n    - dir\n"),
			want: []wantErr{{"origins.site", "site:", "want a mapping of keys, got a list"}}},
		{name: "list where a mapping of names is expected", src: "origins: [site]\n" + oneRoute,
			want: []wantErr{{"origins", "origins:", "want a mapping of names, got a list"}}},
		{name: "scalar where a mapping is expected", src: withRoutes("  - path: /\n    origin: site\n    auth: yes\n"),
			want: []wantErr{{"routes[0].auth", "auth:", `want a mapping of keys, got "yes"`}}},
		{name: "mapping where a list is expected", src: originsDoc + "routes:\n  path: /\n",
			want: []wantErr{{"routes", "routes:", "want a list, got a mapping"}}},
		{name: "scalar where a list is expected", src: withTop("server:\n  trusted_proxies: 10.0.0.0/8\n"),
			want: []wantErr{{"server.trusted_proxies", "trusted_proxies:", `want a list, got "10.0.0.0/8"`}}},
		{name: "mapping where a single value is expected", src: withTop("server:\n  listen: {host: a, port: 1}\n"),
			want: []wantErr{{"server.listen", "listen:", "want a single value, got a mapping"}}},
		{name: "list where a single value is expected", src: withRoutes("  - path: /\n    origin: site\n    public: true\n    methods:\n      - [GET]\n"),
			want: []wantErr{{"routes[0].methods[0]", "- [GET]", "want a single value, got a list"}}},
		{name: "scalar route", src: withRoutes("  - /robots.txt\n"),
			want: []wantErr{{"routes[0]", "- /robots.txt", `want a mapping of keys, got "/robots.txt"`}}},
		{name: "all reported in one pass", src: `server:
  idle_timeout: soon
admin: [x]
origins:
  site:
    timeout: 1
    s3:
      bucket: b
      path_style: perhaps
      max_attempts: many
routes:
  path: /
`, want: []wantErr{
			{"server.idle_timeout", "idle_timeout:", `got "soon"`},
			{"admin", "admin:", "want a mapping of keys, got a list"},
			{"origins.site.timeout", "timeout: 1", `got "1"`},
			{"origins.site.s3.path_style", "path_style:", `got "perhaps"`},
			{"origins.site.s3.max_attempts", "max_attempts:", `got "many"`},
			{"routes", "routes:", "want a list, got a mapping"},
		}},
	})
}

// A field documented as "a whole number" must not take a fraction and silently truncate it.
func TestParseFractionForInt(t *testing.T) {
	for _, v := range []string{"2.5", "1e1", "0x5", ".inf"} {
		t.Run(v, func(t *testing.T) {
			src := withS3("bucket: b", "max_attempts: "+v)
			cfg, err := Parse("test.yaml", []byte(src), nil)
			switch {
			case v == "0x5":
				// a whole number in hex is still a whole number
				if err != nil || cfg.Origins["site"].S3.MaxAttempts != 5 {
					t.Errorf("Parse = %v, want max_attempts 5", err)
				}
			case v == "1e1" && err == nil:
				t.Fatalf("regression (load.go, walk): max_attempts: %s (a float) is accepted as %d", v, cfg.Origins["site"].S3.MaxAttempts)
			case v == "2.5" && err == nil:
				t.Fatalf("regression (load.go, walk): max_attempts: %s is truncated to %d instead of being rejected as not a whole number", v, cfg.Origins["site"].S3.MaxAttempts)
			case err == nil:
				t.Errorf("max_attempts: %s accepted as %d", v, cfg.Origins["site"].S3.MaxAttempts)
			default:
				var errs Errors
				if !errors.As(err, &errs) || errs[0].Path != "origins.site.s3.max_attempts" || !strings.Contains(errs[0].Msg, "whole number") {
					t.Errorf("got %v, want a whole-number error at origins.site.s3.max_attempts", err)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// ${ENV} expansion

func TestParseEnv(t *testing.T) {
	s3 := func(t *testing.T, c *Config) *S3Origin {
		t.Helper()
		return c.Origins["site"].S3
	}
	runOKCases(t, []okCase{
		{name: "plain reference", src: withS3("bucket: ${BUCKET}"), env: map[string]string{"BUCKET": "from-env"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "from-env") }},
		{name: "default when unset", src: withS3("bucket: b", "region: ${REGION:-us-west-2}"),
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "us-west-2") }},
		{name: "default when empty", src: withS3("bucket: b", "region: ${REGION:-us-west-2}"), env: map[string]string{"REGION": ""},
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "us-west-2") }},
		{name: "default ignored when set", src: withS3("bucket: b", "region: ${REGION:-us-west-2}"), env: map[string]string{"REGION": "eu-north-1"},
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "eu-north-1") }},
		{name: "empty default", src: withS3("bucket: b", "region: ${REGION:-}"),
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "") }},
		{name: "default containing a colon", src: withS3("bucket: b", "endpoint: ${EP:-http://127.0.0.1:9000}"),
			check: func(t *testing.T, c *Config) { eq(t, "endpoint", s3(t, c).Endpoint, "http://127.0.0.1:9000") }},
		{name: "several references in one value", src: withS3("bucket: b", "endpoint: http://${HOST}:${PORT}/"),
			env:   map[string]string{"HOST": "minio", "PORT": "9000"},
			check: func(t *testing.T, c *Config) { eq(t, "endpoint", s3(t, c).Endpoint, "http://minio:9000/") }},
		{name: "$$ escapes a dollar", src: withS3("bucket: price$$5"),
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "price$5") }},
		{name: "$${ is not a reference", src: withS3("bucket: $${NOT_A_REF}"),
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "${NOT_A_REF}") }},
		{name: "lone dollars are literal", src: withS3("bucket: a$b$"),
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "a$b$") }},
		{name: "quoted reference", src: withS3(`bucket: "${BUCKET}"`), env: map[string]string{"BUCKET": "q"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "q") }},
		{name: "values are not expanded twice", src: withS3("bucket: ${BUCKET}"), env: map[string]string{"BUCKET": "${OTHER}$$"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "${OTHER}$$") }},
		{name: "string field keeps a numeric-looking value", src: withS3("bucket: ${BUCKET}"), env: map[string]string{"BUCKET": "007"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "007") }},
		{name: "int field", src: withS3("bucket: b", "max_attempts: ${N}"), env: map[string]string{"N": "7"},
			check: func(t *testing.T, c *Config) { eq(t, "max_attempts", s3(t, c).MaxAttempts, 7) }},
		{name: "quoted int field", src: withS3("bucket: b", `max_attempts: "${N}"`), env: map[string]string{"N": "7"},
			check: func(t *testing.T, c *Config) { eq(t, "max_attempts", s3(t, c).MaxAttempts, 7) }},
		{name: "int field from a default", src: withS3("bucket: b", "max_attempts: ${N:-2}"),
			check: func(t *testing.T, c *Config) { eq(t, "max_attempts", s3(t, c).MaxAttempts, 2) }},
		{name: "bool field", src: withS3("bucket: b", "path_style: ${PS}"), env: map[string]string{"PS": "true"},
			check: func(t *testing.T, c *Config) { eq(t, "path_style", s3(t, c).PathStyle, true) }},
		{name: "duration field", src: withOrigins("  site:\n    timeout: ${T}\n    dir: {root: /srv}\n"), env: map[string]string{"T": "2s"},
			check: func(t *testing.T, c *Config) { eq(t, "timeout", c.Origins["site"].Timeout, 2*time.Second) }},
		{name: "list item", src: withTop("server:\n  trusted_proxies: [\"${LB}\"]\n"), env: map[string]string{"LB": "10.1.0.0/16"},
			check: func(t *testing.T, c *Config) {
				eq(t, "trusted_proxies", c.Server.TrustedProxies, []string{"10.1.0.0/16"})
			}},
	})
	runErrCases(t, []errCase{
		{name: "missing variable", src: withS3("bucket: b", "access_key_id: ${AWS_KEY}", "secret_access_key: x"),
			want: []wantErr{{"origins.site.s3.access_key_id", "access_key_id:", "environment variable AWS_KEY is not set"}}},
		{name: "empty variable", src: withS3("bucket: b", "access_key_id: ${AWS_KEY}", "secret_access_key: x"), env: map[string]string{"AWS_KEY": ""},
			want: []wantErr{{"origins.site.s3.access_key_id", "access_key_id:", "environment variable AWS_KEY is empty"}}},
		{name: "invalid name: leading digit", src: withS3("bucket: ${1BUCKET}"),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `invalid environment variable name "1BUCKET"`}}},
		{name: "invalid name: dash", src: withS3("bucket: ${MY-BUCKET}"),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `invalid environment variable name "MY-BUCKET"`}}},
		{name: "invalid name: empty", src: withS3("bucket: a${}b"),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `invalid environment variable name ""`}}},
		{name: "unterminated", src: withS3("bucket: ${BUCKET"), env: map[string]string{"BUCKET": "b"},
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `unterminated ${ in "${BUCKET"`}}},
		{name: "expanded int that is not a number", src: withS3("bucket: b", "max_attempts: ${N}"), env: map[string]string{"N": "seven"},
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", `want a whole number, got "seven"`}}},
		{name: "expanded int out of range is validated", src: withS3("bucket: b", "max_attempts: ${N}"), env: map[string]string{"N": "50"},
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", "must be between 1 and 10, got 50"}}},
		{name: "every missing variable reported", src: "server:\n  listen: ${LISTEN}\n" + withS3("bucket: ${BUCKET}", "region: ${REGION}"),
			want: []wantErr{
				{"server.listen", "listen:", "environment variable LISTEN is not set"},
				{"origins.site.s3.bucket", "bucket:", "environment variable BUCKET is not set"},
				{"origins.site.s3.region", "region:", "environment variable REGION is not set"},
			}},
	})
}

func TestParseEnvNeverInKeys(t *testing.T) {
	var looked []string
	env := func(name string) (string, bool) {
		looked = append(looked, name)
		return map[string]string{"TOP": "server", "NAME": "site", "KEY": "root"}[name], true
	}
	t.Run("top-level key", func(t *testing.T) {
		looked = nil
		src := "${TOP}:\n  listen: 127.0.0.1:1\n" + originsDoc + oneRoute
		_, err := Parse("test.yaml", []byte(src), env)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "${TOP}" || errs[0].Line != 1 ||
			!strings.Contains(errs[0].Msg, `unknown key "${TOP}"`) {
			t.Errorf("got %v, want one unknown-key error for ${TOP} on line 1", err)
		}
		if len(looked) != 0 {
			t.Errorf("environment consulted for %v", looked)
		}
	})
	t.Run("origin name and field key", func(t *testing.T) {
		looked = nil
		src := "origins:\n  ${NAME}:\n    dir:\n      ${KEY}: /srv\n  site:\n    dir: {root: /srv}\n" + oneRoute
		_, err := Parse("test.yaml", []byte(src), env)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "origins.${NAME}.dir.${KEY}" || errs[0].Line != 4 {
			t.Errorf("got %v, want one unknown-key error at origins.${NAME}.dir.${KEY} on line 4", err)
		}
		if len(looked) != 0 {
			t.Errorf("environment consulted for %v", looked)
		}
	})
	t.Run("origin name is validated literally", func(t *testing.T) {
		looked = nil
		src := "origins:\n  ${NAME}:\n    dir: {root: /srv}\n" + oneRoute
		errs := parseErrors(t, src, nil)
		checkErrs(t, src, errs, []wantErr{
			{"origins.${NAME}", "${NAME}:", `origin name "${NAME}" must start with a letter or digit`},
			{"routes[0].origin", "origin: site", `no origin named "site"`},
		})
	})
}

func TestExpandEnv(t *testing.T) {
	env := envMap(map[string]string{"A": "alpha", "B": "", "N_1": "n", "_X": "x", "D": "$$", "R": "${A}"})
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "<${A}>", want: "<alpha>"},
		{in: "${A}${A}", want: "alphaalpha"},
		{in: "${N_1}${_X}", want: "nx"},
		{in: "${A:-d}", want: "alpha"},
		{in: "${Z:-d}", want: "d"},
		{in: "${B:-d}", want: "d"},
		{in: "${Z:-}", want: ""},
		{in: "${Z:-a:-b}", want: "a:-b"},
		{in: "${Z:-{x}", want: "{x"},
		{in: "${Z:-x}}", want: "x}"},
		{in: "${Z:-$${A}}", want: "$${A}"}, // the default is used literally and ends at the first '}'
		{in: "$$", want: "$"},
		{in: "$$$$", want: "$$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "$", want: "$"},
		{in: "a$", want: "a$"},
		{in: "$A", want: "$A"},
		{in: "$}", want: "$}"},
		{in: "${D}", want: "$$"},
		{in: "${R}", want: "${A}"},
		{in: "${Z}", err: "environment variable Z is not set"},
		{in: "x${B}", err: "environment variable B is empty"},
		{in: "${}", err: `invalid environment variable name ""`},
		{in: "${:-d}", err: `invalid environment variable name ""`},
		{in: "${9A}", err: `invalid environment variable name "9A"`},
		{in: "${A B}", err: `invalid environment variable name "A B"`},
		{in: "${A.B}", err: `invalid environment variable name "A.B"`},
		{in: "${", err: `unterminated ${ in "${"`},
		{in: "${A", err: `unterminated ${ in "${A"`},
		{in: "${A}${B", err: `unterminated ${ in "${A}${B"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := expandEnv(tc.in, env)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("expandEnv(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("expandEnv(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// validation

func TestParseAuth(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "neither auth nor public", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n  - name: secret\n    path: /b\n    origin: site\n"),
			want: []wantErr{{"routes[1]", "- name: secret", `route "secret" has no auth section: add one, or set public: true to serve it to anyone`}}},
		{name: "unnamed route is named by its path", src: withRoutes("  - path: /b\n    origin: site\n"),
			want: []wantErr{{"routes[0]", "- path: /b", `route "/b" has no auth section`}}},
		{name: "public: false without auth", src: withRoutes("  - path: /b\n    origin: site\n    public: false\n"),
			want: []wantErr{{"routes[0]", "- path: /b", "has no auth section"}}},
		{name: "null auth counts as none", src: withRoutes("  - path: /b\n    origin: site\n    auth: ~\n"),
			want: []wantErr{{"routes[0]", "- path: /b", "has no auth section"}}},
		{name: "public and auth", src: withRoutes("  - path: /b\n    origin: site\n    public: true\n    auth: {}\n"),
			want: []wantErr{{"routes[0].auth", "auth:", "a route is either public: true or has an auth section, not both"}}},
		{name: "unknown mode", src: withRoutes("  - path: /b\n    origin: site\n    auth:\n      mode: some\n"),
			want: []wantErr{{"routes[0].auth.mode", "mode:", `must be one of any, all, got "some"`}}},
		{name: "mode is case-sensitive", src: withRoutes("  - path: /b\n    origin: site\n    auth:\n      mode: ALL\n"),
			want: []wantErr{{"routes[0].auth.mode", "mode:", `got "ALL"`}}},
	})
	runOKCases(t, []okCase{
		{name: "empty auth denies everything and defaults to any", src: withRoutes("  - path: /b\n    origin: site\n    auth: {}\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, "routes[0].auth", c.Routes[0].Auth, &Auth{Mode: "any"})
				eq(t, "routes[0].public", c.Routes[0].Public, false)
			}},
		{name: "public: false with auth", src: withRoutes("  - path: /b\n    origin: site\n    public: false\n    auth:\n      mode: all\n"),
			check: func(t *testing.T, c *Config) { eq(t, "routes[0].auth", c.Routes[0].Auth, &Auth{Mode: "all"}) }},
	})
}

func TestParseOrigins(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "both s3 and dir", src: withOrigins("  site:\n    s3: {bucket: b}\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.site", "site:", "set exactly one of s3 and dir, not both"}}},
		{name: "neither s3 nor dir", src: withOrigins("  site:\n    timeout: 5s\n"),
			want: []wantErr{{"origins.site", "site:", "set one of s3 or dir"}}},
		{name: "empty origin", src: withOrigins("  site:\n"),
			want: []wantErr{{"origins.site", "site:", "empty origin: set s3 or dir"}}},
		{name: "empty origin mapping", src: withOrigins("  site: {}\n"),
			want: []wantErr{{"origins.site", "site:", "set one of s3 or dir"}}},
		{name: "no origins", src: "origins: {}\n" + oneRoute,
			want: []wantErr{
				{"origins", "origins:", "at least one origin is required"},
				{"routes[0].origin", "origin: site", `no origin named "site"`},
			}},
		{name: "origins absent", src: oneRoute,
			want: []wantErr{
				{"origins", "", "at least one origin is required"},
				{"routes[0].origin", "origin: site", `no origin named "site"`},
			}},
		{name: "missing bucket", src: withS3("region: eu-west-1"),
			want: []wantErr{{"origins.site.s3.bucket", "s3:", "required"}}},
		{name: "empty bucket", src: withS3(`bucket: ""`),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", "required"}}},
		{name: "endpoint with another scheme", src: withS3("bucket: b", "endpoint: ftp://minio:9000"),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `want an http:// or https:// URL, got "ftp://minio:9000"`}}},
		{name: "endpoint without a scheme", src: withS3("bucket: b", "endpoint: minio:9000"),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `got "minio:9000"`}}},
		{name: "endpoint without a host", src: withS3("bucket: b", "endpoint: http://"),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `got "http://"`}}},
		{name: "endpoint that does not parse", src: withS3("bucket: b", `endpoint: "http://[::1"`),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `got "http://[::1"`}}},
		{name: "access key without secret", src: withS3("bucket: b", "access_key_id: k"),
			want: []wantErr{{"origins.site.s3", "s3:", "access_key_id and secret_access_key go together: set both or neither"}}},
		{name: "secret without access key", src: withS3("bucket: b", "secret_access_key: s"),
			want: []wantErr{{"origins.site.s3", "s3:", "access_key_id and secret_access_key go together"}}},
		{name: "session token without keys", src: withS3("bucket: b", "session_token: t"),
			want: []wantErr{{"origins.site.s3.session_token", "session_token:", "needs access_key_id and secret_access_key"}}},
		{name: "profile and keys", src: withS3("bucket: b", "profile: p", "access_key_id: k", "secret_access_key: s"),
			want: []wantErr{{"origins.site.s3.profile", "profile:", "set either profile or explicit keys, not both"}}},
		{name: "max_attempts too high", src: withS3("bucket: b", "max_attempts: 11"),
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", "must be between 1 and 10, got 11"}}},
		{name: "max_attempts negative", src: withS3("bucket: b", "max_attempts: -1"),
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", "got -1"}}},
		{name: "dir without root", src: withOrigins("  site:\n    dir: {}\n"),
			want: []wantErr{{"origins.site.dir.root", "dir:", "required"}}},
		{name: "negative timeout", src: withOrigins("  site:\n    timeout: -5s\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.site.timeout", "timeout:", "must be positive"}}},
		{name: "name starting with a dash", src: withOrigins("  -site:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.-site", "-site:", `origin name "-site" must start with a letter or digit and hold only letters, digits, '.', '_' and '-'`}}},
		{name: "name with a space", src: withOrigins("  my site:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.my site", "my site:", `origin name "my site"`}}},
		{name: "name with a slash", src: withOrigins("  a/b:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.a/b", "a/b:", `origin name "a/b"`}}},
		{name: "non-ASCII name", src: withOrigins("  sité:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.sité", "sité:", `origin name "sité"`}}},
		{name: "bad name and empty origin both reported", src: withOrigins("  _x:\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{
				{"origins._x", "_x:", "origin name"},
				{"origins._x", "_x:", "empty origin"},
			}},
		{name: "every origin problem at once", src: `origins:
  a:
    s3:
      endpoint: gopher://x
      access_key_id: k
      max_attempts: 0x10
  b:
    dir: {}
  c: {}
` + oneRoute[:len("routes:\n")] + "  - path: /\n    origin: a\n    public: true\n",
			want: []wantErr{
				{"origins.a.s3.bucket", "s3:", "required"},
				{"origins.a.s3", "s3:", "go together"},
				{"origins.a.s3.endpoint", "endpoint:", "http:// or https://"},
				{"origins.a.s3.max_attempts", "max_attempts:", "got 16"},
				{"origins.b.dir.root", "dir:", "required"},
				{"origins.c", "c: {}", "set one of s3 or dir"},
			}},
	})
}

func TestParseRoutes(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "unknown origin", src: withRoutes("  - path: /\n    origin: nope\n    public: true\n"),
			want: []wantErr{{"routes[0].origin", "origin: nope", `no origin named "nope"`}}},
		{name: "origin missing", src: withRoutes("  - path: /\n    public: true\n"),
			want: []wantErr{{"routes[0].origin", "- path: /", "required"}}},
		{name: "path missing", src: withRoutes("  - origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].path", "- origin: site", "required"}}},
		{name: "relative path", src: withRoutes("  - path: a/b\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].path", "path: a/b", `must start with '/' or '*', got "a/b"`}}},
		{name: "dot-dot segment", src: withRoutes("  - path: /a/../b\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].path", "path: /a/../b", "must not contain '..' segments, backslashes or NUL"}}},
		{name: "trailing dot-dot", src: withRoutes("  - path: /a/..\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].path", "path: /a/..", "'..'"}}},
		{name: "backslash", src: withRoutes("  - path: '/a\\b'\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].path", "path: '/a", "backslashes"}}},
		{name: "NUL", src: withRoutes("  - path: \"/a\\0\"\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].path", "path: \"/a", "NUL"}}},
		{name: "strip_prefix not a prefix of the pattern", src: withRoutes("  - path: /media/*\n    strip_prefix: /static\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].strip_prefix", "strip_prefix:", `"/static" is not a prefix of every path "/media/*" matches, so it would not always apply`}}},
		{name: "strip_prefix longer than the literal part", src: withRoutes("  - path: /media*\n    strip_prefix: /media/\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].strip_prefix", "strip_prefix:", "is not a prefix"}}},
		{name: "strip_prefix on a catch-all", src: withRoutes("  - path: \"*\"\n    strip_prefix: /a\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].strip_prefix", "strip_prefix:", "is not a prefix"}}},
		{name: "strip_prefix without a slash", src: withRoutes("  - path: /media/*\n    strip_prefix: media\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].strip_prefix", "strip_prefix:", "must start with '/'"}}},
		{name: "add_prefix starting with a slash", src: withRoutes("  - path: /a/*\n    add_prefix: /www/\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].add_prefix", "add_prefix:", "must not start with '/' (object keys are relative)"}}},
		{name: "add_prefix with dot-dot", src: withRoutes("  - path: /a/*\n    add_prefix: ../secret/\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].add_prefix", "add_prefix:", "must not contain '..' segments or backslashes"}}},
		{name: "add_prefix with a backslash", src: withRoutes("  - path: /a/*\n    add_prefix: 'a\\b/'\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].add_prefix", "add_prefix:", "backslashes"}}},
		{name: "index with a slash", src: withRoutes("  - path: /a/*\n    index: a/index.html\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].index", "index:", "must be a plain file name such as index.html"}}},
		{name: "index dot-dot", src: withRoutes("  - path: /a/*\n    index: ..\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[0].index", "index:", "plain file name"}}},
		{name: "method PUT", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    methods: [GET, PUT]\n"),
			want: []wantErr{{"routes[0].methods[1]", "methods:", "PUT is not supported by this version of gatehouse (GET and HEAD are)"}}},
		{name: "lowercase get", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    methods:\n      - HEAD\n      - get\n"),
			want: []wantErr{{"routes[0].methods[1]", "- get", `unknown method "get" (methods are upper case: GET, HEAD)`}}},
		{name: "duplicate method", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    methods:\n      - GET\n      - GET # again\n"),
			want: []wantErr{{"routes[0].methods[1]", "# again", "duplicate method GET"}}},
		{name: "duplicate route names", src: withRoutes("  - name: files\n    path: /a\n    origin: site\n    public: true\n  - name: files # again\n    path: /b\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[1].name", "# again", `route name "files" is already used by routes[0]`}}},
		{name: "name clashing with a defaulted name", src: withRoutes("  - path: /b\n    origin: site\n    public: true\n  - name: /b\n    path: /c\n    origin: site\n    public: true\n"),
			want: []wantErr{{"routes[1].name", "name: /b", `route name "/b" is already used by routes[0]`}}},
		{name: "empty route", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n  - ~\n"),
			want: []wantErr{{"routes[1]", "- ~", "empty route"}}},
		{name: "no routes", src: originsDoc + "routes: []\n",
			want: []wantErr{{"routes", "routes:", "at least one route is required"}}},
		{name: "routes absent", src: originsDoc,
			want: []wantErr{{"routes", "", "at least one route is required"}}},
	})
	runOKCases(t, []okCase{
		{name: "strip_prefix equal to the literal part", src: withRoutes("  - path: /media/*\n    strip_prefix: /media/\n    origin: site\n    public: true\n")},
		{name: "strip_prefix shorter than the literal part", src: withRoutes("  - path: /media/*.jpg\n    strip_prefix: /med\n    origin: site\n    public: true\n")},
		{name: "strip_prefix of an exact path", src: withRoutes("  - path: /robots.txt\n    strip_prefix: /robots.txt\n    index: robots.txt\n    origin: site\n    public: true\n")},
		{name: "strip_prefix / applies to every path", src: withRoutes("  - path: \"*\"\n    strip_prefix: /\n    origin: site\n    public: true\n")},
		{name: "path starting with a wildcard", src: withRoutes("  - path: \"*.jpg\"\n    origin: site\n    public: true\n")},
		{name: "add_prefix with dots that are not a segment", src: withRoutes("  - path: /a/*\n    add_prefix: v1..2/\n    origin: site\n    public: true\n")},
	})
}

func TestParseShadowedRoutes(t *testing.T) {
	routes := func(paths ...string) string {
		var b strings.Builder
		for i, p := range paths {
			b.WriteString("  - name: r" + string(rune('0'+i)) + "\n    path: \"" + p + "\" # r" + string(rune('0'+i)) + "\n    origin: site\n    public: true\n")
		}
		return withRoutes(b.String())
	}
	tests := []struct {
		name    string
		paths   []string
		later   int    // index of the unreachable route, -1 for none
		earlier string // the pattern named as shadowing it
	}{
		{"prefix then longer prefix", []string{"/a/*", "/a/b/*"}, 1, `routes[0] ("/a/*")`},
		{"prefix then exact path under it", []string{"/a/*", "/a/b.txt"}, 1, `routes[0] ("/a/*")`},
		{"prefix then the prefix itself", []string{"/a/*", "/a/"}, 1, `routes[0] ("/a/*")`},
		{"prefix then glob under it", []string{"/a*", "/a?/*.jpg"}, 1, `routes[0] ("/a*")`},
		{"catch-all then anything", []string{"*", "/x"}, 1, `routes[0] ("*")`},
		{"catch-all then catch-all", []string{"*", "*"}, 1, `routes[0] ("*")`},
		{"same exact path twice", []string{"/x", "/x"}, 1, `routes[0] ("/x")`},
		{"same glob twice", []string{"/a/*.jpg", "/a/*.jpg"}, 1, `routes[0] ("/a/*.jpg")`},
		{"shadowed by the first of several", []string{"/a/*", "/b", "/a/c"}, 2, `routes[0] ("/a/*")`},
		{"longer prefix first is fine", []string{"/a/b/*", "/a/*"}, -1, ""},
		{"siblings are fine", []string{"/a/*", "/b/*"}, -1, ""},
		{"exact then prefix is fine", []string{"/a", "/a*"}, -1, ""},
		{"anything then catch-all is fine", []string{"/x", "*"}, -1, ""},
		{"prefix does not cover a sibling with a common stem", []string{"/ab/*", "/a/*"}, -1, ""},
		{"inner wildcards are not proven", []string{"/a/*/c", "/a/x/c"}, -1, ""},
		{"question marks are not proven", []string{"/a?", "/ab"}, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := routes(tc.paths...)
			if tc.later < 0 {
				mustParse(t, src, nil)
				return
			}
			errs := parseErrors(t, src, nil)
			k := string(rune('0' + tc.later))
			checkErrs(t, src, errs, []wantErr{{
				path: "routes[" + k + "].path",
				at:   "path: \"" + tc.paths[tc.later] + "\" # r" + k,
				msg:  "unreachable: " + tc.earlier + " comes first and matches every path this one does",
			}})
		})
	}
}

func TestParseServer(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "admin.listen equal to server.listen", src: withTop("server:\n  listen: 127.0.0.1:8000\nadmin:\n  listen: 127.0.0.1:8000 # admin\n"),
			want: []wantErr{{"admin.listen", "# admin", "must differ from server.listen"}}},
		{name: "admin.listen equal to the default server.listen", src: withTop("admin:\n  listen: " + DefaultListen + "\n"),
			want: []wantErr{{"admin.listen", "listen:", "must differ from server.listen"}}},
		{name: "admin.listen without a port", src: withTop("admin:\n  listen: 127.0.0.1\n"),
			want: []wantErr{{"admin.listen", "listen:", `want host:port such as 127.0.0.1:8080, got "127.0.0.1"`}}},
		{name: "server.listen with an empty port", src: withTop("server:\n  listen: \"localhost:\"\n"),
			want: []wantErr{{"server.listen", "listen:", `got "localhost:"`}}},
		{name: "trusted proxy not a CIDR", src: withTop("server:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n"),
			want: []wantErr{{"server.trusted_proxies[1]", "10.0.0.0/33", `want a CIDR such as 10.0.0.0/8, got "10.0.0.0/33"`}}},
		{name: "trusted proxy with host bits set", src: withTop("server:\n  trusted_proxies:\n    - 10.1.2.3/8\n"),
			want: []wantErr{{"server.trusted_proxies[0]", "10.1.2.3/8", `"10.1.2.3/8" has host bits set; did you mean 10.0.0.0/8?`}}},
		{name: "trusted proxy not an address", src: withTop("server:\n  trusted_proxies:\n    - 127.0.0.1\n    - proxy.internal\n"),
			want: []wantErr{{"server.trusted_proxies[1]", "proxy.internal", `want an address or CIDR, got "proxy.internal"`}}},
		{name: "every bad trusted proxy in a flow list", src: withTop("server:\n  trusted_proxies: [\"fd00::1/8\", x, 10.0.0.0/8]\n"),
			want: []wantErr{
				{"server.trusted_proxies[0]", "trusted_proxies:", "has host bits set; did you mean fd00::/8?"},
				{"server.trusted_proxies[1]", "trusted_proxies:", `got "x"`},
			}},
		{name: "client_ip_header other value", src: withTop("server:\n  client_ip_header: X-Real-IP\n"),
			want: []wantErr{{"server.client_ip_header", "client_ip_header:", `must be X-Forwarded-For or CloudFront-Viewer-Address, got "X-Real-IP"`}}},
		{name: "tls without files", src: withTop("server:\n  tls: {}\n"),
			want: []wantErr{
				{"server.tls.cert_file", "tls:", "required when tls is set"},
				{"server.tls.key_file", "tls:", "required when tls is set"},
			}},
		{name: "tls without key", src: withTop("server:\n  tls:\n    cert_file: c.pem\n"),
			want: []wantErr{{"server.tls.key_file", "tls:", "required when tls is set"}}},
		{name: "negative timeouts", src: withTop("server:\n  read_header_timeout: -1s\n  idle_timeout: -1ms\n  shutdown_timeout: -1h\n"),
			want: []wantErr{
				{"server.read_header_timeout", "read_header_timeout:", "must be positive"},
				{"server.idle_timeout", "idle_timeout:", "must be positive"},
				{"server.shutdown_timeout", "shutdown_timeout:", "must be positive"},
			}},
		{name: "negative max_connections", src: withTop("server:\n  max_connections: -1\n"),
			want: []wantErr{{"server.max_connections", "max_connections:", "must be 0 (half the open-file limit) or a positive number, got -1"}}},
		{name: "log level and format", src: withTop("log:\n  level: verbose\n  format: xml\n"),
			want: []wantErr{
				{"log.level", "level:", `must be one of debug, info, warn, error, got "verbose"`},
				{"log.format", "format:", `must be one of json, text, got "xml"`},
			}},
	})

	for _, h := range []struct{ in, want string }{
		{"X-Forwarded-For", HeaderXForwardedFor},
		{"x-forwarded-for", HeaderXForwardedFor},
		{"X-FORWARDED-FOR", HeaderXForwardedFor},
		{"CloudFront-Viewer-Address", HeaderCloudFrontViewer},
		{"cloudfront-viewer-address", HeaderCloudFrontViewer},
	} {
		t.Run("client_ip_header "+h.in, func(t *testing.T) {
			c := mustParse(t, withTop("server:\n  client_ip_header: "+h.in+"\n"), nil)
			eq(t, "server.client_ip_header", c.Server.ClientIPHeader, h.want)
		})
	}
	t.Run("zero timeouts mean the defaults", func(t *testing.T) {
		c := mustParse(t, withTop("server:\n  read_header_timeout: 0s\n  idle_timeout: 0s\n  shutdown_timeout: 0s\n"), nil)
		eq(t, "read_header_timeout", c.Server.ReadHeaderTimeout, DefaultReadHeaderTimeout)
		eq(t, "idle_timeout", c.Server.IdleTimeout, DefaultIdleTimeout)
		eq(t, "shutdown_timeout", c.Server.ShutdownTimeout, DefaultShutdownTimeout)
	})
}

// Two listeners on port 0 each get their own ephemeral port, so they do not collide (the
// demo runs with --listen 127.0.0.1:0 --admin 127.0.0.1:0).
func TestParseEphemeralListenPorts(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			c := mustParse(t, withTop("server:\n  listen: \""+addr+"\"\nadmin:\n  listen: \""+addr+"\"\n"), nil)
			eq(t, "admin.listen", c.Admin.Listen, addr)
		})
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "192.168.1.7", want: "192.168.1.7/32"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "::1", want: "::1/128"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "10.1.2.3/8", err: `"10.1.2.3/8" has host bits set; did you mean 10.0.0.0/8?`},
		{in: "2001:db8::1/32", err: "did you mean 2001:db8::/32?"},
		{in: "10.0.0.0/33", err: `want a CIDR such as 10.0.0.0/8, got "10.0.0.0/33"`},
		{in: "10.0.0/8", err: "want a CIDR"},
		{in: "/8", err: "want a CIDR"},
		{in: "", err: `want an address or CIDR, got ""`},
		{in: "localhost", err: `want an address or CIDR, got "localhost"`},
		{in: "10.0.0.256", err: "want an address or CIDR"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePrefix(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePrefix(%q) = %v, %v; want error containing %q", tc.in, p, err, tc.err)
				}
				return
			}
			if err != nil || p.String() != tc.want {
				t.Fatalf("ParsePrefix(%q) = %v, %v; want %s", tc.in, p, err, tc.want)
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// the document as a whole

func TestParseDocumentErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		msg  string // substring of the single error's message
	}{
		{"empty file", "", 0, "the file is empty"},
		{"only whitespace", "\n  \n\n", 0, "the file is empty"},
		{"only comments", "# nothing here\n# still nothing\n", 0, "the file is empty"},
		{"unclosed flow sequence", "origins:\n  site:\n    dir: {root: /srv}\nroutes: [\n", 4, "invalid YAML: did not find expected node content"},
		{"tab indentation", "server:\n  listen: 1\n\tadmin: x\n", 2, "invalid YAML: found a tab character that violates indentation"},
		{"bad mapping", "server:\n  listen: a: b\n", 2, "invalid YAML: mapping values are not allowed in this context"},
		// The yaml library gives no line for this one.
		{"unknown anchor", "server: *nothing\n", 0, "invalid YAML: unknown anchor 'nothing' referenced"},
		{"scalar document", "hello\n", 0, `want a mapping of keys, got "hello"`},
		{"list document", "- a\n- b\n", 0, "want a mapping of keys, got a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrors(t, tc.src, nil)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.Line != tc.line || e.Path != "" || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got {Line: %d, Path: %q, Msg: %q}, want line %d, no path, message containing %q", e.Line, e.Path, e.Msg, tc.line, tc.msg)
			}
			if strings.HasPrefix(e.Msg, "invalid YAML: ") && (strings.Contains(e.Msg, "yaml:") || strings.Contains(e.Msg, "line ")) {
				t.Errorf("message repeats the yaml prefix or the line: %q", e.Msg)
			}
		})
	}
	t.Run("null document", func(t *testing.T) {
		src := "~\n"
		checkErrs(t, src, parseErrors(t, src, nil), []wantErr{
			{"origins", "", "at least one origin is required"},
			{"routes", "", "at least one route is required"},
		})
	})
}

func TestParseDuplicateKeys(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "top level", src: "server:\n  listen: 127.0.0.1:1\n" + originsDoc + oneRoute + "server: # again\n  listen: 127.0.0.1:2\n",
			want: []wantErr{{"server", "# again", "duplicate key"}}},
		{name: "origin name", src: withOrigins("  site:\n    dir: {root: /a}\n  site: # again\n    dir: {root: /b}\n"),
			want: []wantErr{{"origins.site", "# again", "duplicate key"}}},
		{name: "route field", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    path: /b\n"),
			want: []wantErr{{"routes[0].path", "path: /b", "duplicate key"}}},
		{name: "quoted and plain spelling", src: withTop("server:\n  listen: 127.0.0.1:1\n  \"listen\": 127.0.0.1:2\n"),
			want: []wantErr{{"server.listen", "127.0.0.1:2", "duplicate key"}}},
		{name: "flow mapping", src: "origins:\n  site: {dir: {root: /a, root: /b}}\n" + oneRoute,
			want: []wantErr{{"origins.site.dir.root", "site:", "duplicate key"}}},
	})
}

func TestParseAliases(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "scalar alias", src: "origins:\n  site:\n    dir:\n      root: &r /srv\n  other:\n    dir:\n      root: *r\n" + oneRoute,
			want: []wantErr{{"origins.other.dir.root", "root: *r", "YAML aliases are not supported"}}},
		{name: "mapping alias", src: "origins:\n  site: &o\n    dir: {root: /srv}\n  other: *o\n" + oneRoute,
			want: []wantErr{{"origins.other", "other: *o", "YAML aliases are not supported"}}},
		{name: "list item alias", src: withRoutes("  - &r\n    path: /a\n    origin: site\n    public: true\n  - *r\n"),
			want: []wantErr{{"routes[1]", "- *r", "YAML aliases are not supported"}}},
		{name: "whole section alias", src: "server: &s\n  listen: 127.0.0.1:1\nadmin: *s\n" + originsDoc + oneRoute,
			want: []wantErr{{"admin", "admin:", "YAML aliases are not supported"}}},
		{name: "merge key in a route", src: withRoutes("  - &r\n    path: /a\n    origin: site\n    public: true\n  - <<: *r\n    path: /b\n"),
			want: []wantErr{{"routes[1].<<", "<<:", "YAML merge keys are not supported"}}},
	})
	t.Run("anchors without aliases are harmless", func(t *testing.T) {
		mustParse(t, "origins:\n  site: &o\n    dir: {root: /srv}\n"+oneRoute, nil)
	})
}

// An alias used as a mapping key is still an alias; here it also silently replaces the
// origin it names.
func TestParseAliasAsKey(t *testing.T) {
	src := "origins:\n  &n site:\n    dir: {root: /a}\n  *n :\n    dir: {root: /b}\n" + oneRoute
	cfg, err := Parse("test.yaml", []byte(src), nil)
	if err == nil {
		t.Fatalf("regression (load.go, walk): an alias as a mapping key is accepted and overwrites origin %q (root now %q)",
			"site", cfg.Origins["site"].Dir.Root)
	}
	if !strings.Contains(err.Error(), "alias") {
		t.Errorf("got %v, want an error about aliases", err)
	}
}

// An origin whose name is YAML null must not silently disappear.
func TestParseNullOriginName(t *testing.T) {
	src := "origins:\n  site:\n    dir: {root: /a}\n  ~:\n    dir: {root: /b}\n" + oneRoute
	cfg, err := Parse("test.yaml", []byte(src), nil)
	if err == nil {
		t.Fatalf("regression (load.go, walk/Decode): the origin keyed ~ is dropped without an error; origins: %d", len(cfg.Origins))
	}
	var errs Errors
	if !errors.As(err, &errs) || errs[0].Line != 4 {
		t.Errorf("got %v, want an error on line 4", err)
	}
}

// A key that is a list or mapping cannot name an origin; the error should name the field
// path and fit on one line like every other.
func TestParseNonScalarOriginName(t *testing.T) {
	src := "origins:\n  ? [a, b]\n  : {dir: {root: /a}}\n" + oneRoute
	errs := parseErrors(t, src, nil)
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
	}
	if errs[0].Line != 2 {
		t.Errorf("line = %d, want 2", errs[0].Line)
	}
	if errs[0].Path == "" || strings.Contains(errs[0].Msg, "\n") {
		t.Fatalf("regression (load.go, walk): a non-scalar map key falls through to the yaml decoder: path %q, message %q", errs[0].Path, errs[0].Msg)
	}
}

// ---------------------------------------------------------------------------------------
// errors: order, format, Errorf

func TestErrorsSortedAndFormatted(t *testing.T) {
	// Validation finds server problems first, then origins, then routes; the file has them
	// in the opposite order.
	const src = `routes:
  - path: /a
    origin: nope
    public: true
origins:
  site:
    dir: {}
log:
  level: loud
server:
  listen: nowhere
`
	errs := parseErrors(t, src, nil)
	want := "test.yaml:3: routes[0].origin: no origin named \"nope\"\n" +
		"test.yaml:7: origins.site.dir.root: required\n" +
		"test.yaml:9: log.level: must be one of debug, info, warn, error, got \"loud\"\n" +
		"test.yaml:11: server.listen: want host:port such as 127.0.0.1:8080, got \"nowhere\""
	if got := errs.Error(); got != want {
		t.Errorf("Errors.Error() =\n%s\nwant\n%s", got, want)
	}

	t.Run("same line ordered by path", func(t *testing.T) {
		src := withRoutes("  - {path: /x, origin: site, public: true}\n  - {path: /x, origin: site, public: true}\n")
		errs := parseErrors(t, src, nil)
		if len(errs) != 2 || errs[0].Path != "routes[1].name" || errs[1].Path != "routes[1].path" || errs[0].Line != errs[1].Line {
			t.Errorf("got\n%v\nwant routes[1].name then routes[1].path on one line", errs)
		}
	})
	t.Run("fields absent from the file first", func(t *testing.T) {
		src := "routes:\n  - path: /a\n    origin: site\n    public: true\n    methods: [get]\n"
		errs := parseErrors(t, src, nil)
		checkErrs(t, src, errs, []wantErr{
			{"origins", "", "at least one origin is required"},
			{"routes[0].origin", "origin: site", "no origin named"},
			{"routes[0].methods[0]", "methods:", "unknown method"},
		})
		if errs[0].Line != 0 {
			t.Errorf("errs[0] = %v, want the line-0 error first", errs[0])
		}
	})
	t.Run("one line per error", func(t *testing.T) {
		es := Errors{{File: "a.yaml", Line: 1, Path: "x", Msg: "m1"}, {File: "a.yaml", Msg: "m2"}}
		if got, want := es.Error(), "a.yaml:1: x: m1\na.yaml: m2"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if got := (Errors{}).Error(); got != "" {
			t.Errorf("empty Errors.Error() = %q, want empty", got)
		}
	})
}

func TestFieldErrorString(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "g.yaml", Line: 12, Path: "routes[2].auth.mode", Msg: "bad"}, "g.yaml:12: routes[2].auth.mode: bad"},
		{FieldError{File: "g.yaml", Path: "origins", Msg: "at least one"}, "g.yaml: origins: at least one"},
		{FieldError{File: "g.yaml", Line: 3, Msg: "invalid YAML: x"}, "g.yaml:3: invalid YAML: x"},
		{FieldError{File: "g.yaml", Msg: "the file is empty"}, "g.yaml: the file is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.e.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigErrorf(t *testing.T) {
	const src = `origins:
  site:
    dir:
      root: /srv
  my.bucket:
    s3:
      bucket: b
routes:
  - path: /a
    origin: site
    public: true
  - path: /b
    origin: my.bucket
    auth:
      mode: all
`
	cfg := mustParse(t, src, nil)
	tests := []struct {
		path string
		line int
	}{
		{"origins.site.dir.root", 4},        // present
		{"origins.site.dir", 3},             // present
		{"origins.site", 2},                 // present
		{"origins.site.timeout", 2},         // absent: its origin
		{"origins.my.bucket.s3.region", 6},  // absent, under a name containing a dot
		{"origins.nope", 1},                 // no such origin: the origins key
		{"routes[1].auth.mode", 15},         // present in a list item
		{"routes[1].auth.providers[3]", 14}, // absent below a present field
		{"routes[0].methods[0]", 9},         // defaulted: the route
		{"routes[7].path", 8},               // no such route: the routes key
		{"server.listen", 0},                // nothing of it in the file
		{"", 0},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			e := cfg.Errorf(tc.path, "cannot %s: %d", "open", 42)
			want := FieldError{File: "test.yaml", Line: tc.line, Path: tc.path, Msg: "cannot open: 42"}
			if e != want {
				t.Errorf("got %+v, want %+v", e, want)
			}
		})
	}
	t.Run("usable as an error", func(t *testing.T) {
		var err error = Errors{cfg.Errorf("origins.site", "open folder: gone")}
		if got, want := err.Error(), "test.yaml:2: origins.site: open folder: gone"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("zero Config", func(t *testing.T) {
		var c Config
		if e := c.Errorf("origins.x", "m"); e.Line != 0 || e.Path != "origins.x" || e.Msg != "m" {
			t.Errorf("got %+v", e)
		}
	})
}

func TestParentPath(t *testing.T) {
	for in, want := range map[string]string{
		"routes[2].auth.mode": "routes[2].auth",
		"routes[2].auth":      "routes[2]",
		"routes[2]":           "routes",
		"routes":              "",
		"":                    "",
		"a.b[1][2]":           "a.b[1]",
	} {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// ---------------------------------------------------------------------------------------
// Load

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Run("reads the file and the process environment", func(t *testing.T) {
		t.Setenv("GATEHOUSE_TEST_ROOT", dir)
		path := filepath.Join(dir, "gatehouse.yaml")
		src := "origins:\n  site:\n    dir:\n      root: ${GATEHOUSE_TEST_ROOT}\n" + oneRoute
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		eq(t, "origins.site.dir.root", cfg.Origins["site"].Dir.Root, dir)
		if e := cfg.Errorf("origins.site.dir.root", "x"); e.File != path || e.Line != 4 {
			t.Errorf("Errorf = %+v, want file %s line 4", e, path)
		}
	})
	t.Run("errors name the file", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte("server:\n  listne: x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+":2: server.listne: unknown key") {
			t.Errorf("Load = %v, want an unknown-key error at %s:2", err, path)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing.yaml")
		cfg, err := Load(path)
		var errs Errors
		if cfg != nil || !errors.As(err, &errs) || len(errs) != 1 {
			t.Fatalf("Load = %v, %v; want one error", cfg, err)
		}
		if got, want := errs[0].Error(), path+": cannot read: no such file or directory"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), dir+": cannot read:") {
			t.Errorf("Load(dir) = %v, want a cannot-read error", err)
		}
	})
}

// Parse must not keep or share state between calls: the same input gives the same result.
func TestParseIsRepeatable(t *testing.T) {
	a := mustParse(t, fullConfig, fullEnv)
	b := mustParse(t, fullConfig, fullEnv)
	if !reflect.DeepEqual(a.Routes, b.Routes) || !reflect.DeepEqual(a.Origins, b.Origins) || a.Server.Listen != b.Server.Listen {
		t.Error("two parses of one document differ")
	}
	if !slices.Equal(a.Routes[1].Methods, []string{"GET"}) {
		t.Errorf("routes[1].methods = %v", a.Routes[1].Methods)
	}
}
