package origin

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckKey(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want error
	}{{0, nil}, {1, nil}, {MaxKeyBytes, nil}, {MaxKeyBytes + 1, ErrKeyTooLong}, {10000, ErrKeyTooLong}} {
		if err := CheckKey(strings.Repeat("k", tc.n)); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckKey(%d bytes) = %v, want %v", tc.n, err, tc.want)
		}
	}
	// Bytes, not characters: 512 two-byte characters are 1,024 bytes.
	if err := CheckKey(strings.Repeat("é", 512)); err != nil {
		t.Errorf("1,024 bytes refused: %v", err)
	}
	if err := CheckKey(strings.Repeat("é", 513)); !errors.Is(err, ErrKeyTooLong) {
		t.Errorf("1,026 bytes accepted")
	}
}

func TestCheckConditionHeaders(t *testing.T) {
	tag := func(n int) string { return `"` + strings.Repeat("x", n-2) + `"` }
	list := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = `"t"`
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		h    [][2]string
		ok   bool
	}{
		{"none", nil, true},
		{"one tag", [][2]string{{"If-None-Match", `"abc"`}}, true},
		{"2048 bytes", [][2]string{{"If-Match", tag(2048)}}, true},
		{"2049 bytes", [][2]string{{"If-Match", tag(2049)}}, false},
		{"2049 bytes over three headers", [][2]string{{"If-Match", tag(1000)}, {"If-None-Match", tag(1000)}, {"If-Range", tag(49)}}, false},
		{"2049 bytes over two lines", [][2]string{{"If-None-Match", tag(1025)}, {"If-None-Match", tag(1024)}}, false},
		{"If-Range counts", [][2]string{{"If-Range", tag(2049)}}, false},
		{"32 tags", [][2]string{{"If-None-Match", list(32)}}, true},
		{"33 tags", [][2]string{{"If-None-Match", list(33)}}, false},
		{"33 tags If-Match", [][2]string{{"If-Match", list(33)}}, false},
		{"33 tags over two lines", [][2]string{{"If-None-Match", list(16)}, {"If-None-Match", list(17)}}, false},
		{"commas inside a tag do not count", [][2]string{{"If-None-Match", `"` + strings.Repeat(",", 100) + `"`}}, true},
		{"empty members do not count", [][2]string{{"If-None-Match", `"a"` + strings.Repeat(",", 100)}}, true},
		{"other headers do not count", [][2]string{{"X-Big", tag(60000)}, {"Range", tag(60000)}}, true},
	} {
		h := http.Header{}
		for _, kv := range tc.h {
			h.Add(kv[0], kv[1])
		}
		err := CheckConditionHeaders(h)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrHeaderTooLarge)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestSplitETags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{`"a"`, []string{`"a"`}},
		{`"a", W/"b" ,"c"`, []string{`"a"`, `W/"b"`, `"c"`}},
		{`"a,b", "c"`, []string{`"a,b"`, `"c"`}},
		{`*`, []string{`*`}},
		{`garbage, more`, []string{`garbage`, `more`}},
		{`"a", "unterminated, "b"`, []string{`"a"`, `"unterminated, "b"`}},
	} {
		if got := splitETags(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitETags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsStrongETagAndPlainTags(t *testing.T) {
	for s, want := range map[string]bool{
		`"abc"`: true, `""`: true, `"a,b"`: true, `W/"abc"`: false, `abc`: false, `"a" , "b"`: false,
		`"a"b"`: false, `"a b"`: false, `*`: false, `"`: false, ``: false,
	} {
		if IsStrongETag(s) != want {
			t.Errorf("IsStrongETag(%q) = %v", s, !want)
		}
	}
	for _, tc := range []struct {
		c    Conditions
		want bool
	}{
		{Conditions{}, true},
		{Conditions{IfMatch: `"a"`, IfNoneMatch: ` "b" `}, true},
		{Conditions{IfModifiedSince: time.Now()}, true},
		{Conditions{IfMatch: `"a", "b"`}, false},
		{Conditions{IfNoneMatch: `W/"a"`}, false},
		{Conditions{IfNoneMatch: `*`}, false},
		{Conditions{IfMatch: `garbage`}, false},
	} {
		if got := tc.c.PlainTags(); got != tc.want {
			t.Errorf("%+v.PlainTags() = %v", tc.c, got)
		}
	}
}

// FuzzConditionHeaders: whatever a client sends, accepted preconditions stay within the
// limits, the entity-tag list splits into trimmed non-empty members that split again
// the same way, and evaluating them never panics.
func FuzzConditionHeaders(f *testing.F) {
	f.Add(`"a", W/"b"`, `"c"`, `"d"`)
	f.Add(`*`, ``, `W/"x"`)
	f.Add(`"a,b", "unterminated`, `,,,`, ``)
	f.Add(strings.Repeat(`"t",`, 40), ``, ``)
	f.Fuzz(func(t *testing.T, ifMatch, ifNoneMatch, ifRange string) {
		h := http.Header{}
		for k, v := range map[string]string{"If-Match": ifMatch, "If-None-Match": ifNoneMatch, "If-Range": ifRange} {
			if v != "" {
				h.Set(k, v)
			}
		}
		err := CheckConditionHeaders(h)
		if err != nil && !errors.Is(err, ErrHeaderTooLarge) {
			t.Fatalf("error does not wrap ErrHeaderTooLarge: %v", err)
		}
		if err == nil && (len(ifMatch)+len(ifNoneMatch)+len(ifRange) > MaxConditionBytes ||
			len(splitETags(ifMatch)) > MaxETags || len(splitETags(ifNoneMatch)) > MaxETags) {
			t.Fatalf("accepted beyond the limits: %q %q %q", ifMatch, ifNoneMatch, ifRange)
		}
		for _, s := range []string{ifMatch, ifNoneMatch} {
			members := splitETags(s)
			for _, m := range members {
				if m == "" || m != strings.TrimSpace(m) || !strings.Contains(s, m) {
					t.Fatalf("splitETags(%q): bad member %q", s, m)
				}
			}
			if again := splitETags(strings.Join(members, ", ")); !slices.Equal(again, members) {
				t.Fatalf("splitETags(%q) = %q, but its join splits into %q", s, members, again)
			}
		}
		c := ConditionsFrom(h)
		_ = c.Evaluate(Info{ETag: `"abc"`, LastModified: time.Unix(1, 0)})
		_ = c.Evaluate(Info{ETag: `W/"abc"`})
		_ = c.PlainTags()
	})
}
