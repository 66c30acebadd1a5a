package reqpath

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanAccepts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a", "/a"},
		{"/a/", "/a/"},
		{"/a//b", "/a/b"},
		{"/a/./b", "/a/b"},
		{"//a", "/a"},
		{"/a/b/", "/a/b/"},
		{"/caf%C3%A9.txt", "/café.txt"},
		{"/a%20b", "/a b"},
		{"/a..b/c", "/a..b/c"},
		{"/...", "/..."},
		{"/a/.hidden", "/a/.hidden"},
		{"/%41", "/A"},
		{"/./", "/"},
	} {
		got, err := Clean(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Clean(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCleanRejects(t *testing.T) {
	for _, in := range HostilePaths {
		got, err := Clean(in)
		if !errors.Is(err, ErrBadPath) {
			t.Errorf("Clean(%q) = %q, %v; want ErrBadPath", in, got, err)
		}
	}
}

// FuzzClean checks the invariants every accepted path keeps, whatever the input.
func FuzzClean(f *testing.F) {
	for _, s := range HostilePaths {
		f.Add(s)
	}
	f.Add("/a/b/c.txt")
	f.Add("/www/")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Clean(in)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("error does not wrap ErrBadPath: %v", err)
			}
			return
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("Clean(%q) = %q: no leading slash", in, out)
		}
		if strings.Contains(out, "//") || strings.ContainsAny(out, "\\\x00") {
			t.Fatalf("Clean(%q) = %q: empty segment, backslash or NUL", in, out)
		}
		for _, seg := range strings.Split(out, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("Clean(%q) = %q: dot segment survived", in, out)
			}
		}
		again, err := Clean(out)
		if err == nil && again != out && !strings.Contains(out, "%") {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}
