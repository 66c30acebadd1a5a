package origin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ByteRange is one parsed "bytes=" range. First < 0 means a suffix range of the last
// SuffixLen bytes; Last < 0 means open-ended.
type ByteRange struct {
	First, Last int64
	SuffixLen   int64
}

// Range is a resolved, satisfiable range: both ends inclusive and inside the object.
type Range struct{ Start, End int64 }

// Length is the number of bytes in the range.
func (r Range) Length() int64 { return r.End - r.Start + 1 }

// ContentRange is the Content-Range header value for a range of an object of size.
func (r Range) ContentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.Start, r.End, size)
}

// ParseRange parses a Range header. It returns nil, to serve the whole object, for an
// absent or syntactically invalid header, for units other than bytes, and for multiple
// ranges (RFC 9110 lets a server ignore Range; multipart/byteranges is rarely worth it).
func ParseRange(h string) *ByteRange {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || spec == "" || strings.Contains(spec, ",") {
		return nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil
	}
	if first == "" {
		n, err := parseDigits(last)
		if err != nil {
			return nil
		}
		return &ByteRange{First: -1, Last: -1, SuffixLen: n}
	}
	f, err := parseDigits(first)
	if err != nil {
		return nil
	}
	if last == "" {
		return &ByteRange{First: f, Last: -1}
	}
	l, err := parseDigits(last)
	if err != nil || l < f {
		return nil
	}
	return &ByteRange{First: f, Last: l}
}

func parseDigits(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, strconv.ErrRange
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// Header renders the range as a Range header value.
func (b ByteRange) Header() string {
	switch {
	case b.First < 0:
		return fmt.Sprintf("bytes=-%d", b.SuffixLen)
	case b.Last < 0:
		return fmt.Sprintf("bytes=%d-", b.First)
	}
	return fmt.Sprintf("bytes=%d-%d", b.First, b.Last)
}

// Resolve fits the range to an object of size bytes; false means 416.
func (b ByteRange) Resolve(size int64) (Range, bool) {
	switch {
	case b.First < 0:
		if b.SuffixLen == 0 || size == 0 {
			return Range{}, false
		}
		return Range{Start: max(0, size-b.SuffixLen), End: size - 1}, true
	case b.First >= size:
		return Range{}, false
	case b.Last < 0 || b.Last >= size:
		return Range{Start: b.First, End: size - 1}, true
	}
	return Range{Start: b.First, End: b.Last}, true
}

// Conditions are a request's preconditions, already reduced by RFC 9110's precedence:
// If-Unmodified-Since is dropped when If-Match is present, and If-Modified-Since when
// If-None-Match is present. Origins must not re-add them (S3 does not follow the RFC
// when both of a pair are sent).
type Conditions struct {
	IfMatch           string
	IfNoneMatch       string
	IfModifiedSince   time.Time
	IfUnmodifiedSince time.Time
}

// ConditionsFrom reads the precondition headers of a GET or HEAD request. An If-Match
// or If-None-Match sent on several lines is one list (RFC 9110 section 5.3). Callers
// bound the lists first (CheckConditionHeaders): they are passed on to S3 as they are.
func ConditionsFrom(h http.Header) Conditions {
	c := Conditions{IfMatch: joinValues(h, "If-Match"), IfNoneMatch: joinValues(h, "If-None-Match")}
	if c.IfMatch == "" {
		c.IfUnmodifiedSince = parseHTTPTime(h.Get("If-Unmodified-Since"))
	}
	if c.IfNoneMatch == "" {
		c.IfModifiedSince = parseHTTPTime(h.Get("If-Modified-Since"))
	}
	return c
}

func parseHTTPTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{} // an invalid date is ignored, as RFC 9110 requires
	}
	return t
}

// PlainTags reports whether If-Match and If-None-Match each hold at most one strong
// entity tag. S3 and MinIO compare either field with the object's ETag as one string, so
// only this form is evaluated there as RFC 9110 says; a list, a weak tag (If-None-Match
// compares weakly) or "*" must be evaluated on the object's Info instead.
func (c Conditions) PlainTags() bool {
	return (c.IfMatch == "" || IsStrongETag(strings.TrimSpace(c.IfMatch))) &&
		(c.IfNoneMatch == "" || IsStrongETag(strings.TrimSpace(c.IfNoneMatch)))
}

// IsZero reports whether there is nothing to evaluate.
func (c Conditions) IsZero() bool {
	return c.IfMatch == "" && c.IfNoneMatch == "" && c.IfModifiedSince.IsZero() && c.IfUnmodifiedSince.IsZero()
}

// Evaluate applies the preconditions to an object (RFC 9110 section 13.2.2, for GET and
// HEAD). It returns nil to proceed, ErrPreconditionFailed, or a *NotModifiedError.
func (c Conditions) Evaluate(info Info) error {
	lm := info.LastModified.Truncate(time.Second)
	if c.IfMatch != "" && !etagListMatch(c.IfMatch, info.ETag, true) {
		return ErrPreconditionFailed
	}
	if c.IfMatch == "" && !c.IfUnmodifiedSince.IsZero() && !lm.IsZero() && lm.After(c.IfUnmodifiedSince) {
		return ErrPreconditionFailed
	}
	if c.IfNoneMatch != "" && etagListMatch(c.IfNoneMatch, info.ETag, false) {
		return &NotModifiedError{Info: info}
	}
	if c.IfNoneMatch == "" && !c.IfModifiedSince.IsZero() && !lm.IsZero() && !lm.After(c.IfModifiedSince) {
		return &NotModifiedError{Info: info}
	}
	return nil
}

// etagListMatch matches an If-Match/If-None-Match list against an entity tag. Strong
// comparison (If-Match) never matches weak tags; weak comparison ignores the W/ prefix.
func etagListMatch(list, etag string, strong bool) bool {
	if etag == "" {
		return false
	}
	if strings.TrimSpace(list) == "*" {
		return true
	}
	if strong && strings.HasPrefix(etag, "W/") {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, cand := range splitETags(list) {
		if strong && strings.HasPrefix(cand, "W/") {
			continue
		}
		if strings.TrimPrefix(cand, "W/") == want {
			return true
		}
	}
	return false
}
