package gateway

import (
	"net/http"
	"testing"

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
