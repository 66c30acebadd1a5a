package route

import (
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, path string
		want      bool
	}{
		{"*", "/", true},
		{"*", "/anything/at/all", true},
		{"/robots.txt", "/robots.txt", true},
		{"/robots.txt", "/robots.txt/", false},
		{"/robots.txt", "/Robots.txt", false},
		{"/public/*", "/public/", true},
		{"/public/*", "/public/a/b.css", true},
		{"/public/*", "/public", false},
		{"/public/*", "/publicx", false},
		{"/public*", "/public", true},
		{"/public*", "/publicity", true},
		{"*.jpg", "/a/b/c.jpg", true},
		{"*.jpg", "/a/b/c.jpeg", false},
		{"/images/*.png", "/images/x/y.png", true},
		{"/images/*.png", "/images/x/y.png.txt", false},
		{"/v?/api", "/v1/api", true},
		{"/v?/api", "/v10/api", false},
		{"/v?/api", "/vé/api", true},
		{"/a*b*c", "/aXXbYYc", true},
		{"/a*b*c", "/aXXbYY", false},
		{"/a/*/c/*", "/a/b/c/d", true},
	} {
		p, err := Compile(tc.pat)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tc.path); got != tc.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tc.pat, tc.path, got, tc.want)
		}
	}
}

func TestTableFirstMatchWins(t *testing.T) {
	var tb Table[string]
	for _, p := range []string{"/public/*", "/public/secret/*", "*.jpg", "*"} {
		if err := tb.Add(p, p); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		"/public/secret/x": "/public/*", // file order, not specificity
		"/img/a.jpg":       "*.jpg",
		"/public/a.jpg":    "/public/*",
		"/other":           "*",
	} {
		if got, _ := tb.Match(path); got != want {
			t.Errorf("Match(%q) = %q, want %q", path, got, want)
		}
	}
	var empty Table[int]
	if _, ok := empty.Match("/"); ok {
		t.Error("empty table matched")
	}
}

func TestKeyMap(t *testing.T) {
	for _, tc := range []struct {
		km     KeyMap
		path   string
		want   string
		wantOK bool
	}{
		{KeyMap{}, "/a/b.txt", "a/b.txt", true},
		{KeyMap{}, "/", "", false},
		{KeyMap{Index: "index.html"}, "/", "index.html", true},
		{KeyMap{Index: "index.html"}, "/docs/", "docs/index.html", true},
		{KeyMap{AddPrefix: "www/", Index: "index.html"}, "/", "www/index.html", true},
		{KeyMap{StripPrefix: "/www", AddPrefix: "site/"}, "/www/a.css", "site/a.css", true},
		{KeyMap{StripPrefix: "/www/", AddPrefix: "site/"}, "/www/a.css", "site/a.css", true},
		{KeyMap{StripPrefix: "/www", Index: "index.html"}, "/www", "index.html", true},
		{KeyMap{StripPrefix: "/www"}, "/www/", "", false},
	} {
		got, ok := tc.km.Key(tc.path)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%+v.Key(%q) = %q, %v; want %q, %v", tc.km, tc.path, got, ok, tc.want, tc.wantOK)
		}
	}
}

func FuzzGlob(f *testing.F) {
	f.Add("/a*b?c", "/aXbYc")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 64 || len(s) > 256 {
			return
		}
		got := glob(pat, s)
		if !strings.ContainsAny(pat, "*?") && got != (pat == s) {
			t.Fatalf("literal pattern %q vs %q: %v", pat, s, got)
		}
	})
}

func BenchmarkTableMatch(b *testing.B) {
	var tb Table[int]
	for i, p := range []string{"/robots.txt", "/api/*", "/images/*.png", "/public/*", "/www/*", "*"} {
		_ = tb.Add(p, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		tb.Match("/www/docs/guide/index.html")
	}
}

func TestLiteralPrefix(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{"*", ""},
		{"/a/b", "/a/b"},
		{"/img/*", "/img/"},
		{"/img/*.jpg", "/img/"},
		{"/a?c/*", "/a"},
	} {
		if got := LiteralPrefix(tc.pattern); got != tc.want {
			t.Errorf("LiteralPrefix(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}
