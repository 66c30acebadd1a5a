// Package origin defines what gatehouse needs from a storage backend: fetch an object (or a
// byte range of it) under HTTP preconditions, describe it, and answer a readiness probe.
// Implementations live in subpackages (s3origin, dirorigin). Failures are typed so that
// one place maps them to HTTP statuses: ErrNotFound, NotModifiedError,
// ErrPreconditionFailed, RangeError, ErrTimeout and, for anything else that stops the
// origin from answering, ErrUnavailable.
//
// Everything a call depends on is in its options (HeadOptions, GetOptions), never in the
// context, which carries only deadlines, cancellation and tracing; so a caching decorator
// (package cache) is an Origin like any other, and the caller need not know whether one
// is in front. How such a decorator answered (hit, miss, stale) comes back through the
// HeadOptions.Served out-parameter, not in Info, which describes only the object.
//
// Origin is read-only. Writes are optional capabilities, each a small interface found by
// type assertion (Putter, Deleter, Lister, Multipart; see write.go), so an origin offers
// only what it can do.
package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Origin is a storage backend. Implementations must be safe for concurrent use.
type Origin interface {
	// Get returns the object at key, or the part opt.Range selects. The caller must
	// close Body. Preconditions in opt.Cond are evaluated before any body is sent.
	Get(ctx context.Context, key string, opt GetOptions) (*Object, error)
	// Head describes the object at key under the same preconditions and options, as a
	// whole-object Get with opt would.
	Head(ctx context.Context, key string, opt HeadOptions) (Info, error)
	// Probe reports whether the origin is reachable and usable (bucket exists, folder
	// readable). It backs /readyz.
	Probe(ctx context.Context) error
}

// Info describes an object. Size is the whole object's size, even for a range; -1 from
// Head means unknown (a compressed variant not made yet: HEAD then sends no
// Content-Length).
type Info struct {
	Size               int64
	ETag               string // quoted, as on the wire
	LastModified       time.Time
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string
	// Metadata is the object's user metadata (S3's x-amz-meta-*), names lower case and
	// without the prefix; nil when there is none. It reaches clients only where a
	// route's response_headers.origin_metadata allows it. Never modified once returned.
	Metadata map[string]string `json:",omitempty"`
}

// HeadOptions is everything a Head depends on besides its key; Get takes the same within
// GetOptions. The zero value asks for the object as stored, unconditionally.
type HeadOptions struct {
	// Cond are the request's preconditions. Every origin evaluates them.
	Cond Conditions
	// Variant distinguishes answers that differ for the same key (the values of a
	// route's configured query parameters, see cache.Variant). Plain origins (s3origin,
	// dirorigin) ignore it; a caching decorator makes it part of its cache key, so that
	// each variant is stored and served on its own. "": the only variant.
	Variant string
	// Encoding is the content coding the client accepts best ("br", "zstd", "gzip";
	// "" for identity). Plain origins ignore it and answer as stored. A decorator that
	// compresses may answer a whole object (Get without Range, Head, and a 304's Info)
	// with a variant in that coding instead: Info.ContentEncoding set to it, a weak ETag,
	// and from Head a Size of -1 when the variant's size is not known yet.
	Encoding string
	// Served, when not nil, is filled by a caching decorator with how it answered, when
	// the call returns nil or a *NotModifiedError (not for other errors). Plain origins
	// leave it as it is, so a caller that finds Status still CacheNone knows no cache
	// answered. It is an out-parameter rather than part of Info because it describes
	// this answer, not the object.
	Served *Served
}

// GetOptions carries a request's range, preconditions and variant to the origin.
type GetOptions struct {
	HeadOptions
	Range *ByteRange // nil: the whole object
}

// CacheStatus is how a caching decorator answered a call; its String is the label used
// on the wire (X-Cache) and for metrics.
type CacheStatus uint8

// Cache statuses. The zero value means no cache answered.
const (
	// CacheNone: no caching decorator answered (a plain origin, or Served not filled).
	CacheNone CacheStatus = iota
	// CacheHit: answered from a stored copy without asking the origin.
	CacheHit
	// CacheMiss: nothing usable was stored; the origin answered.
	CacheMiss
	// CacheRefreshHit: a stored copy, revalidated with the origin (which answered 304).
	CacheRefreshHit
)

// String is "Hit", "Miss" or "RefreshHit", and "" for CacheNone.
func (s CacheStatus) String() string {
	switch s {
	case CacheHit:
		return "Hit"
	case CacheMiss:
		return "Miss"
	case CacheRefreshHit:
		return "RefreshHit"
	}
	return ""
}

// Served is how a caching decorator answered one call (see HeadOptions.Served). It
// describes the answer, never the object, and is not stored.
type Served struct {
	Status CacheStatus
	// Age is how long ago the copy served was fetched or last validated; 0 unless
	// Status is CacheHit.
	Age time.Duration
	// Stale marks a copy past its freshness served because the origin failed or its
	// breaker was open (stale-if-error).
	Stale bool
}

// Object is an open object body. Range is nil when Body is the whole object.
type Object struct {
	Info
	Range *Range
	Body  io.ReadCloser
}

// Length is the number of bytes Body yields.
func (o *Object) Length() int64 {
	if o.Range != nil {
		return o.Range.Length()
	}
	return o.Size
}

var (
	// ErrNotFound: no such object (or not readable with the origin's credentials).
	ErrNotFound = errors.New("object not found")
	// ErrNotModified is matched by NotModifiedError.
	ErrNotModified = errors.New("not modified")
	// ErrPreconditionFailed: If-Match or If-Unmodified-Since did not hold.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrRangeNotSatisfiable is matched by RangeError.
	ErrRangeNotSatisfiable = errors.New("range not satisfiable")
	// ErrUnavailable: the origin could not answer (refused, reset, 5xx, bad credentials).
	ErrUnavailable = errors.New("origin unavailable")
	// ErrTimeout: the origin did not answer in time.
	ErrTimeout = errors.New("origin timed out")
)

// NotModifiedError carries what a 304 response repeats (ETag, Last-Modified...).
type NotModifiedError struct{ Info Info }

func (e *NotModifiedError) Error() string   { return "not modified" }
func (e *NotModifiedError) Is(t error) bool { return t == ErrNotModified }

// RangeError reports an unsatisfiable range and the object's size for Content-Range.
type RangeError struct{ Size int64 }

func (e *RangeError) Error() string   { return fmt.Sprintf("range not satisfiable (size %d)", e.Size) }
func (e *RangeError) Is(t error) bool { return t == ErrRangeNotSatisfiable }
func Unavailable(cause error) error   { return fmt.Errorf("%w: %w", ErrUnavailable, cause) }
func Timeout(cause error) error       { return fmt.Errorf("%w: %w", ErrTimeout, cause) }
func NotFound(detail string) error    { return fmt.Errorf("%w: %s", ErrNotFound, detail) }
