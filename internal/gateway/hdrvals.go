package gateway

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// Response headers on the hit path are set without Header.Set's costs: keys are the
// canonical constants below (Set canonicalizes on every call), constant values share
// one read-only slice each, and the values made for one response share one backing
// array (headerSetter). Every slice stored is capped at one element, so that an Add
// elsewhere copies it rather than writing into a neighbour or a shared value; nothing
// in gatehouse or net/http writes into a header's value slice in place.

// Canonical header names (TestHeaderKeysCanonical). Note "Etag", not "ETag".
const (
	kAcceptRanges        = "Accept-Ranges"
	kAge                 = "Age"
	kCacheControl        = "Cache-Control"
	kContentDisposition  = "Content-Disposition"
	kContentEncoding     = "Content-Encoding"
	kContentLanguage     = "Content-Language"
	kContentLength       = "Content-Length"
	kContentType         = "Content-Type"
	kETag                = "Etag"
	kExpires             = "Expires"
	kLastModified        = "Last-Modified"
	kRequestID           = "X-Request-Id"
	kXCache              = "X-Cache"
	kXContentTypeOptions = "X-Content-Type-Options"
	kWarning             = "Warning"
)

// Constant values, shared by every response: never written into.
var (
	vNosniff      = []string{"nosniff"}
	vBytes        = []string{"bytes"}
	vStaleWarning = []string{`110 - "Response is Stale"`}
	vCacheError   = []string{"Error from gatehouse"}
	// vXCache is X-Cache's value by cache status (nil for CacheNone).
	vXCache = func() (v [8][]string) {
		for s := range v {
			if name := origin.CacheStatus(s).String(); name != "" {
				v[s] = []string{name + " from gatehouse"}
			}
		}
		return v
	}()
)

// headerSetter sets the headers of one response whose values are made per response,
// in one backing array; past its capacity it falls back to a slice per value.
type headerSetter struct {
	h    http.Header
	vals [8]string
	n    int
}

// set sets the canonical key k to v (Header.Set without canonicalizing or allocating).
func (s *headerSetter) set(k, v string) {
	if s.n == len(s.vals) {
		s.h[k] = []string{v}
		return
	}
	s.vals[s.n] = v
	s.h[k] = s.vals[s.n : s.n+1 : s.n+1]
	s.n++
}

// setNonEmpty sets k to v unless v is empty.
func (s *headerSetter) setNonEmpty(k, v string) {
	if v != "" {
		s.set(k, v)
	}
}

// xCache is X-Cache's value for s (a cache answered).
func xCache(s origin.CacheStatus) []string {
	if int(s) < len(vXCache) && vXCache[s] != nil {
		return vXCache[s]
	}
	return []string{s.String() + " from gatehouse"}
}

// httpDate is t as an HTTP date (http.TimeFormat, in UTC). The value depends on t's
// second alone, so recent ones are kept: a hot object's Last-Modified is formatted once,
// not on every hit. The table is direct-mapped by second; an entry is immutable.
func httpDate(t time.Time) string {
	sec := t.Unix()
	slot := &httpDates[uint64(sec)%uint64(len(httpDates))]
	if d := slot.Load(); d != nil && d.sec == sec {
		return d.s
	}
	s := t.UTC().Format(http.TimeFormat)
	slot.Store(&formattedDate{sec: sec, s: s})
	return s
}

type formattedDate struct {
	sec int64
	s   string
}

var httpDates [256]atomic.Pointer[formattedDate]
