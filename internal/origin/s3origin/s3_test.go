package s3origin

import (
	"fmt"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in         string
		start, end int64
		size       int64
		ok         bool
	}{
		{"bytes 0-4/11", 0, 4, 11, true},
		{"bytes 10-10/11", 10, 10, 11, true},
		{"bytes 0-10/11", 0, 10, 11, true},
		{"bytes 0-11/11", 0, 0, 0, false}, // end past the object
		{"bytes 5-4/11", 0, 0, 0, false},
		{"bytes */11", 0, 0, 0, false},
		{"bytes -1-4/11", 0, 0, 0, false},
		{"items 0-4/11", 0, 0, 0, false},
		{"bytes 0-4/*", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		r, size, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (r.Start != tc.start || r.End != tc.end || size != tc.size)) {
			t.Errorf("parseContentRange(%q) = %+v %d %v", tc.in, r, size, ok)
		}
	}
}

// FuzzParseContentRange: whatever an origin sends, an accepted range lies inside the
// object and round-trips.
func FuzzParseContentRange(f *testing.F) {
	f.Add("bytes 0-4/11")
	f.Add("bytes 9223372036854775806-9223372036854775806/9223372036854775807")
	f.Fuzz(func(t *testing.T, s string) {
		r, size, ok := parseContentRange(s)
		if !ok {
			return
		}
		if r.Start < 0 || r.End < r.Start || r.End >= size {
			t.Fatalf("%q accepted as %+v of %d", s, r, size)
		}
		if again := fmt.Sprintf("bytes %d-%d/%d", r.Start, r.End, size); again != s {
			if r2, s2, ok2 := parseContentRange(again); !ok2 || r2 != r || s2 != size {
				t.Fatalf("%q does not round-trip", s)
			}
		}
	})
}
