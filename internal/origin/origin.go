// Package origin defines what gatehouse needs from a storage backend: fetch an object (or a
// byte range of it) under HTTP preconditions, describe it, and answer a readiness probe.
// Implementations live in subpackages (s3origin, dirorigin). Failures are typed so that
// one place maps them to HTTP statuses: ErrNotFound, NotModifiedError,
// ErrPreconditionFailed, RangeError, ErrTimeout and, for anything else that stops the
// origin from answering, ErrUnavailable.
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
	// Head describes the object at key under the same preconditions.
	Head(ctx context.Context, key string, cond Conditions) (Info, error)
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

	// Set by the cache decorator only (zero from plain origins):
	// CacheStatus is "Hit", "Miss" or "RefreshHit"; Age is how long ago the cached
	// copy was fetched or last validated; Stale marks a stale copy served because the
	// origin failed (stale-if-error).
	CacheStatus string
	Age         time.Duration
	Stale       bool
}

// GetOptions carries a request's range and preconditions to the origin.
type GetOptions struct {
	Range *ByteRange // nil: the whole object
	Cond  Conditions
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
