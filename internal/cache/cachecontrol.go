package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Directives are the Cache-Control directives the cache acts on. Ages are -1 when absent.
type Directives struct {
	MaxAge, SMaxAge           int64 // seconds
	NoStore, NoCache, Private bool
}

// ParseCacheControl reads a Cache-Control header value. Unknown directives are ignored;
// a malformed age counts as absent, except that a duplicated directive keeps its first
// value (RFC 9111 says a cache may treat conflicting values as invalid; the first wins
// here, as in most caches). Directive names are case-insensitive.
func ParseCacheControl(h string) Directives {
	d := Directives{MaxAge: -1, SMaxAge: -1}
	for part := range strings.SplitSeq(h, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch name {
		case "max-age":
			if d.MaxAge < 0 {
				d.MaxAge = parseAge(val)
			}
		case "s-maxage":
			if d.SMaxAge < 0 {
				d.SMaxAge = parseAge(val)
			}
		case "no-store":
			d.NoStore = true
		case "no-cache":
			d.NoCache = true
		case "private":
			d.Private = true
		}
	}
	return d
}

// maxAgeSeconds caps ages so that converting to a Duration cannot overflow (about 68
// years, RFC 9111's 2^31 delta-seconds ceiling).
const maxAgeSeconds = 1<<31 - 1

func parseAge(s string) int64 {
	if s == "" || len(s) > 19 {
		if len(s) > 19 && strings.Trim(s, "0123456789") == "" {
			return maxAgeSeconds
		}
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return min(n, maxAgeSeconds)
}

// TTLs are a route's cache lifetimes.
type TTLs struct {
	Default, Min, Max time.Duration
}

// TTL is how long an object may be served from the cache without asking the origin,
// following CloudFront's documented rules (docs/cache.md has the table):
//   - no-store, no-cache or private: Min when Min > 0, else not cached;
//   - s-maxage, else max-age, else Expires (minus now): clamped to [Min, Max];
//   - none of them: Default.
//
// A result of 0 means the object is not stored.
func (t TTLs) TTL(cacheControl, expires string, now time.Time) time.Duration {
	d := ParseCacheControl(cacheControl)
	clamp := func(v time.Duration) time.Duration { return min(max(v, t.Min), t.Max) }
	switch {
	case d.NoStore || d.NoCache || d.Private:
		return t.Min
	case d.SMaxAge >= 0:
		return clamp(time.Duration(d.SMaxAge) * time.Second)
	case d.MaxAge >= 0:
		return clamp(time.Duration(d.MaxAge) * time.Second)
	case expires != "":
		at, err := http.ParseTime(expires)
		if err != nil {
			return clamp(0) // an invalid Expires means already expired (RFC 9111 5.3)
		}
		return clamp(at.Sub(now))
	}
	return t.Default
}
