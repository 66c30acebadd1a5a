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
// valid documents

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
		{4, "colour", `unknown key "colour" (known keys: admin, cache, key_groups, log, origins, pages, redis, routes, server, tracing)`},
		{9, "origins.media.s3.bukket", `unknown key "bukket" (known keys: access_key_id, bucket, endpoint, max_attempts, path_style, profile, region, secret_access_key, session_token)`},
		{16, "routes[1].publik", `unknown key "publik" (known keys: add_prefix, auth, cache, cors, error_pages, index, listing, methods, name, origin, path, public, rate_limit, response_headers, strip_prefix, upload)`},
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
