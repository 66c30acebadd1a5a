package config

import (
	"testing"
)

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
