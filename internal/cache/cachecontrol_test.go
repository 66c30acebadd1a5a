package cache

import (
	"net/http"
	"testing"
	"time"
)

// TestTTLPrecedence is the table in docs/cache.md.
func TestTTLPrecedence(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	zeroMin := TTLs{Default: time.Hour, Min: 0, Max: 24 * time.Hour}
	withMin := TTLs{Default: time.Hour, Min: 10 * time.Minute, Max: 24 * time.Hour}
	optimized := TTLs{Default: 24 * time.Hour, Min: time.Second, Max: 365 * 24 * time.Hour}
	disabled := TTLs{}
	for _, tc := range []struct {
		name        string
		ttls        TTLs
		cc, expires string
		want        time.Duration
	}{
		{"nothing: default", zeroMin, "", "", time.Hour},
		{"max-age inside range", zeroMin, "max-age=600", "", 10 * time.Minute},
		{"max-age above max", zeroMin, "max-age=999999", "", 24 * time.Hour},
		{"max-age below min", withMin, "max-age=60", "", 10 * time.Minute},
		{"max-age=0, min 0: not stored", zeroMin, "max-age=0", "", 0},
		{"s-maxage wins over max-age", zeroMin, "max-age=60, s-maxage=120", "", 2 * time.Minute},
		{"max-age wins over Expires", zeroMin, "max-age=60", in(5 * time.Hour), time.Minute},
		{"Expires", zeroMin, "", in(2 * time.Hour), 2 * time.Hour},
		{"Expires past max", zeroMin, "", in(48 * time.Hour), 24 * time.Hour},
		{"Expires in the past, min 0", zeroMin, "", in(-time.Hour), 0},
		{"Expires in the past, min > 0", withMin, "", in(-time.Hour), 10 * time.Minute},
		{"invalid Expires is expired", withMin, "", "0", 10 * time.Minute},
		{"no-store, min 0: not stored", zeroMin, "no-store", "", 0},
		{"no-cache, min 0: not stored", zeroMin, "no-cache, max-age=600", "", 0},
		{"private, min 0: not stored", zeroMin, "private, max-age=600", "", 0},
		{"no-store, min > 0: min", withMin, "no-store", "", 10 * time.Minute},
		{"public max-age", zeroMin, "public, max-age=30", "", 30 * time.Second},
		{"optimized, no headers", optimized, "", "", 24 * time.Hour},
		{"optimized, no-store: min 1s", optimized, "no-store", "", time.Second},
		{"disabled", disabled, "max-age=600", "", 0},
		{"case-insensitive directives", zeroMin, "Max-Age=90", "", 90 * time.Second},
		{"malformed max-age ignored", zeroMin, "max-age=abc", "", time.Hour},
		{"quoted max-age", zeroMin, `max-age="45"`, "", 45 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ttls.TTL(tc.cc, tc.expires, now); got != tc.want {
				t.Errorf("TTL(%q, %q) = %s, want %s", tc.cc, tc.expires, got, tc.want)
			}
		})
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"", "max-age=60", "s-maxage=1, max-age=2", "no-store", `max-age="5"`,
		"max-age=99999999999999999999999", "max-age=-1", "private, no-cache,,,=", "MAX-AGE = 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseCacheControl(s)
		if d.MaxAge < -1 || d.MaxAge > maxAgeSeconds || d.SMaxAge < -1 || d.SMaxAge > maxAgeSeconds {
			t.Fatalf("ages out of range: %+v", d)
		}
		ttl := TTLs{Default: time.Hour, Min: time.Second, Max: 24 * time.Hour}.TTL(s, "", time.Now())
		if ttl < time.Second || ttl > 24*time.Hour {
			t.Fatalf("TTL %s outside [min, max] for %q", ttl, s)
		}
	})
}
