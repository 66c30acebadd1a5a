package config

import (
	"strings"
	"testing"
)

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
		{name: "method PUT without upload", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    methods: [GET, PUT]\n"),
			want: []wantErr{{"routes[0].methods[1]", "methods:", "PUT needs an upload section on the route"}}},
		{name: "method POST", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    methods: [GET, POST]\n"),
			want: []wantErr{{"routes[0].methods[1]", "methods:", "POST is not supported (GET, HEAD, PUT and DELETE are"}}},
		{name: "lowercase get", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    methods:\n      - HEAD\n      - get\n"),
			want: []wantErr{{"routes[0].methods[1]", "- get", `unknown method "get" (methods are upper case: GET, HEAD, PUT, DELETE)`}}},
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
