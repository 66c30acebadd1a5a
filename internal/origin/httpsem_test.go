package origin

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseAndResolveRange(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		h          string
		parsed     bool
		start, end int64
		ok         bool
	}{
		{"bytes=0-99", true, 0, 99, true},
		{"bytes=100-", true, 100, 999, true},
		{"bytes=-100", true, 900, 999, true},
		{"bytes=-5000", true, 0, 999, true},
		{"bytes=990-5000", true, 990, 999, true},
		{"bytes=999-999", true, 999, 999, true},
		{"bytes=1000-", true, 0, 0, false},
		{"bytes=1000-2000", true, 0, 0, false},
		{"bytes=-0", true, 0, 0, false},
		{" bytes=0-0 ", true, 0, 0, true},
		{"bytes=5-1", false, 0, 0, false},
		{"bytes=0-1,5-6", false, 0, 0, false},
		{"items=0-1", false, 0, 0, false},
		{"bytes=", false, 0, 0, false},
		{"bytes=-", false, 0, 0, false},
		{"bytes=a-b", false, 0, 0, false},
		{"bytes=+1-2", false, 0, 0, false},
		{"bytes=0-99999999999999999999", false, 0, 0, false},
		{"", false, 0, 0, false},
	} {
		br := ParseRange(tc.h)
		if (br != nil) != tc.parsed {
			t.Errorf("ParseRange(%q) = %+v, want parsed=%v", tc.h, br, tc.parsed)
			continue
		}
		if br == nil {
			continue
		}
		r, ok := br.Resolve(size)
		if ok != tc.ok || (ok && (r.Start != tc.start || r.End != tc.end)) {
			t.Errorf("%q.Resolve(%d) = %+v, %v; want %d-%d, %v", tc.h, size, r, ok, tc.start, tc.end, tc.ok)
		}
		if again := ParseRange(br.Header()); again == nil || *again != *br {
			t.Errorf("%q does not round-trip through Header(): %q", tc.h, br.Header())
		}
	}
}

func TestConditions(t *testing.T) {
	lm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	info := Info{ETag: `"abc"`, LastModified: lm}
	before, after := lm.Add(-time.Hour).Format(http.TimeFormat), lm.Add(time.Hour).Format(http.TimeFormat)
	same := lm.Format(http.TimeFormat)
	for _, tc := range []struct {
		name string
		h    map[string]string
		want error
	}{
		{"none", nil, nil},
		{"if-match hit", map[string]string{"If-Match": `"abc"`}, nil},
		{"if-match list", map[string]string{"If-Match": `"x", "abc"`}, nil},
		{"if-match star", map[string]string{"If-Match": `*`}, nil},
		{"if-match miss", map[string]string{"If-Match": `"x"`}, ErrPreconditionFailed},
		{"if-match weak never", map[string]string{"If-Match": `W/"abc"`}, ErrPreconditionFailed},
		{"ius after", map[string]string{"If-Unmodified-Since": after}, nil},
		{"ius same", map[string]string{"If-Unmodified-Since": same}, nil},
		{"ius before", map[string]string{"If-Unmodified-Since": before}, ErrPreconditionFailed},
		{"if-match wins over ius", map[string]string{"If-Match": `"abc"`, "If-Unmodified-Since": before}, nil},
		{"inm hit", map[string]string{"If-None-Match": `"abc"`}, ErrNotModified},
		{"inm weak hit", map[string]string{"If-None-Match": `W/"abc"`}, ErrNotModified},
		{"inm star", map[string]string{"If-None-Match": `*`}, ErrNotModified},
		{"inm miss", map[string]string{"If-None-Match": `"x"`}, nil},
		{"ims same", map[string]string{"If-Modified-Since": same}, ErrNotModified},
		{"ims after", map[string]string{"If-Modified-Since": after}, ErrNotModified},
		{"ims before", map[string]string{"If-Modified-Since": before}, nil},
		{"ims invalid ignored", map[string]string{"If-Modified-Since": "yesterday"}, nil},
		{"inm miss wins over ims", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": after}, nil},
		{"412 before 304", map[string]string{"If-Match": `"x"`, "If-None-Match": `"abc"`}, ErrPreconditionFailed},
	} {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		got := ConditionsFrom(h).Evaluate(info)
		if !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=9-", "bytes=1-0", "bytes=0-1,2-3"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		br := ParseRange(h)
		if br == nil || size < 0 {
			return
		}
		// What S3 is sent is rendered from the parsed range, never the header as
		// received: it stays short whatever the client sent.
		if n := len(br.Header()); n > len("bytes=-")+2*19 {
			t.Fatalf("%q renders as %d bytes", h, n)
		}
		r, ok := br.Resolve(size)
		if !ok {
			return
		}
		if r.Start < 0 || r.End >= size || r.Start > r.End || r.Length() <= 0 {
			t.Fatalf("%q size %d resolved to bad range %+v", h, size, r)
		}
	})
}
