package route

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

func TestOverlapURL(t *testing.T) {
	for _, c := range []struct {
		res, route string
		want       bool
	}{
		{"/www/*", "/boss/*", false},
		{"/*", "/boss/*", true},
		{"*", "/x", true},
		{"/www/*", "/www/index.html", true},
		{"/www/*", "/www", false},
		{"/img/*.png", "/img/*.jpg", true}, // "/img/a.jpg?.png": '*' takes the query too
		{"/img/*.png", "/css/*", false},
		{"/img/*.png", "/img/a*", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/abd", false},
		{"/boss?x=1", "/boss", true}, // the resource's '?' can be the query's
		{"/boss", "/www/*", false},
		// The resource is matched against the escaped path, the route against the
		// decoded one.
		{"/%62oss/*", "/boss/*", true},
		{"/%62OSS/*", "/boss/*", false},
		{"/team%20docs/*", "/team docs/*", true},
		{"/team docs/*", "/team docs/*", true}, // never sent raw, but the answer errs towards true
		{"/x/%C3%A4", "/x/ä", true},
		{"/x/%c3%a4", "/x/?", true},
		{"/w*", "/www/*", true},
		{"/*2F*", "/x/y", true}, // "/x%2Fy" decodes to "/x/y"
		{"/a*62oss/*", "/a/boss/*", true},
		{"", "", true},
		{"/x", "", false},
	} {
		if got := OverlapURL(c.res, c.route); got != c.want {
			t.Errorf("OverlapURL(%q, %q) = %v, want %v", c.res, c.route, got, c.want)
		}
	}
}

// TestOverlapURLNeverMissesAnOverlap checks OverlapURL against every request path over a
// small alphabet (escapes included), for random small patterns: whenever some escaped
// path matches the resource and its decoded path matches the route, OverlapURL must
// say so.
func TestOverlapURLNeverMissesAnOverlap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pat := func(alpha string, n int) string {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	var all []string
	var gen func(prefix string, left int)
	gen = func(prefix string, left int) {
		all = append(all, prefix)
		if left == 0 {
			return
		}
		for _, c := range []string{"a", "b", "/", "%61", "%2F", "%2f", "?", "6"} {
			gen(prefix+c, left-1)
		}
	}
	gen("", 4)
	misses := 0
	for range 1500 {
		res, rt := pat("ab/%61*?", 5), pat("ab/*?", 4)
		got := OverlapURL(res, rt)
		for _, e := range all {
			path, _, _ := strings.Cut(e, "?")
			dec, err := url.PathUnescape(path)
			if err != nil || !glob(res, e) || !glob(rt, dec) {
				continue
			}
			if !got {
				t.Errorf("OverlapURL(%q, %q) = false, but %q matches the resource and decodes to %q", res, rt, e, dec)
				misses++
			}
			break
		}
		if misses > 5 {
			t.FailNow()
		}
	}
}

func FuzzOverlapURL(f *testing.F) {
	f.Add("/www/*", "/b?ss/*", "/www/x")
	f.Fuzz(func(t *testing.T, res, rt, e string) {
		if len(res) > 64 || len(rt) > 64 || len(e) > 64 {
			return
		}
		got := OverlapURL(res, rt)
		// A request path matching both proves an overlap.
		path, _, _ := strings.Cut(e, "?")
		if dec, err := url.PathUnescape(path); err == nil && isASCII(e) && glob(res, e) && glob(rt, dec) && !got {
			t.Fatalf("OverlapURL(%q, %q) false, but %q matches the resource and decodes to %q", res, rt, e, dec)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
