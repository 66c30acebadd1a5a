package route

import (
	"math/rand/v2"
	"testing"
)

func TestOverlap(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"/www/*", "/boss/*", false},
		{"/*", "/boss/*", true},
		{"*", "/x", true},
		{"/www/*", "/www/index.html", true},
		{"/www/*", "/www", false},
		{"/img/*.png", "/img/*.jpg", false},
		{"/img/*.png", "/img/a*", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/abd", false},
		{"/ä?", "/?x", true},
		{"/ä", "/?", true}, // '?' is one character, not one byte
		{"/ä", "/??", false},
		{"", "", true},
		{"", "*", true},
		{"/x", "", false},
	} {
		if got := Overlap(c.a, c.b); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Overlap(c.b, c.a); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestOverlapURL(t *testing.T) {
	for _, c := range []struct {
		res, route string
		want       bool
	}{
		{"/boss?x=1", "/boss", true}, // the resource's '?' can be the query's
		{"/boss/*", "/boss/*", true},
		{"/www/*", "/boss/*", false},
		{"/boss", "/www/*", false},
	} {
		if got := OverlapURL(c.res, c.route); got != c.want {
			t.Errorf("OverlapURL(%q, %q) = %v, want %v", c.res, c.route, got, c.want)
		}
	}
}

// TestOverlapAgainstEnumeration checks Overlap against the matcher on every string over
// a small alphabet, for random small patterns: a common string of two patterns with n
// and m elements, if any, has at most n+m characters.
func TestOverlapAgainstEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := []byte("ab/")
	pat := func() string {
		n := rng.IntN(4)
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab/*?"[rng.IntN(5)]
		}
		return string(b)
	}
	var all []string
	var gen func(prefix []byte, left int)
	gen = func(prefix []byte, left int) {
		all = append(all, string(prefix))
		if left == 0 {
			return
		}
		for _, c := range alpha {
			gen(append(prefix, c), left-1)
		}
	}
	gen(nil, 6)
	for range 3000 {
		a, b := pat(), pat()
		want := false
		for _, s := range all {
			if len(s) <= len(a)+len(b) && glob(a, s) && glob(b, s) {
				want = true
				break
			}
		}
		if got := Overlap(a, b); got != want {
			t.Fatalf("Overlap(%q, %q) = %v, enumeration says %v", a, b, got, want)
		}
	}
}

func FuzzOverlap(f *testing.F) {
	f.Add("/www/*", "/b?ss/*")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 64 || len(b) > 64 {
			return
		}
		got := Overlap(a, b)
		if got != Overlap(b, a) {
			t.Fatalf("not symmetric: %q %q", a, b)
		}
		// A path matching both proves an overlap.
		for _, s := range []string{a, b} {
			if glob(a, s) && glob(b, s) && !got {
				t.Fatalf("Overlap(%q, %q) false, but %q matches both", a, b, s)
			}
		}
	})
}
