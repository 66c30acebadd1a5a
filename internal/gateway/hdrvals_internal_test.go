package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestHeaderKeysCanonical: the keys stored without Header.Set are canonical, so Get,
// Set and Del elsewhere find them and no header is sent twice under two spellings.
func TestHeaderKeysCanonical(t *testing.T) {
	for _, k := range []string{kAcceptRanges, kAge, kCacheControl, kContentDisposition, kContentEncoding,
		kContentLanguage, kContentLength, kContentType, kETag, kExpires, kLastModified, kRequestID, kXCache,
		kXContentTypeOptions, kWarning} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical (%q)", k, c)
		}
	}
}

// TestHeaderSetterValues: values set through a headerSetter read back as Header.Set's
// would, past its backing array too, and an Add to one of them leaves the others alone.
func TestHeaderSetterValues(t *testing.T) {
	h := http.Header{}
	hs := &headerSetter{h: h}
	want := http.Header{}
	for i := range 12 {
		k, v := http.CanonicalHeaderKey("x-h"+string(rune('a'+i))), string(rune('0'+i))
		hs.set(k, v)
		want.Set(k, v)
	}
	h.Add("X-Ha", "more")
	want.Add("X-Ha", "more")
	for k, v := range want {
		if got := h.Values(k); len(got) != len(v) || got[0] != v[0] || got[len(got)-1] != v[len(v)-1] {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for s, v := range map[origin.CacheStatus]string{origin.CacheHit: "Hit from gatehouse", origin.CacheMiss: "Miss from gatehouse",
		origin.CacheRefreshHit: "RefreshHit from gatehouse"} {
		if got := xCache(s); len(got) != 1 || got[0] != v {
			t.Errorf("xCache(%v) = %q, want %q", s, got, v)
		}
	}
}

// TestHTTPDate: httpDate is Format(http.TimeFormat) in UTC, for times that share a
// slot, sub-second parts and other zones, and in any order.
func TestHTTPDate(t *testing.T) {
	base := time.Date(2026, 12, 3, 20, 10, 56, 0, time.UTC)
	zone := time.FixedZone("x", -7*3600)
	for _, d := range []time.Duration{0, time.Second, 256 * time.Second, 999 * time.Millisecond, -256 * time.Second, 0, 512*time.Second + 1, 24 * time.Hour} {
		for _, tm := range []time.Time{base.Add(d), base.Add(d).In(zone)} {
			if got, want := httpDate(tm), tm.UTC().Format(http.TimeFormat); got != want {
				t.Errorf("httpDate(%v) = %q, want %q", tm, got, want)
			}
		}
	}
}
