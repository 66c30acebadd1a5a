package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Writes are optional capabilities, each a small interface that the gateway finds by
// type assertion on an Origin, so that a read-only origin stays a three-method type and
// a route can only offer what its origin can do:
//
//	if p, ok := o.(origin.Putter); ok { ... }
//
// A decorator (the cache) hides its origin's capabilities unless it implements them
// itself, forwarding each write and invalidating what the write changes.
//
// Every write is atomic from a reader's point of view: a Get sees the old object or the
// new one, never part of a write, and a write that fails (an error, a cancelled context,
// a body that ends early or does not match its checksum) leaves the key as it was, with
// one exception no remote store can rule out: when the answer to a write's last step is
// lost (a timeout after S3 committed), the write may have taken effect though it
// reported an error. Retrying a Put is safe; a create-only one then fails with
// ErrExists. The failures are the typed errors of this package, so that one place maps
// them to HTTP statuses: those below, plus ErrKeyTooLong, ErrBadRequest, ErrUnavailable
// and ErrTimeout. A body's own read error is returned wrapped (errors.Is finds it).

// Putter stores whole objects from a stream.
type Putter interface {
	// Put stores what body yields as the object at key, replacing any object there
	// unless opt.IfNoneMatch is "*". It reads body to its end (or to opt.Size bytes,
	// then checks that nothing follows) and holds at most a bounded part of it in memory
	// (an implementation's part buffers) and nothing on disk outside the object's own
	// folder. It returns what describes the new object
	// (at least Size and ETag). A body that does not yield exactly opt.Size bytes fails
	// with ErrSizeMismatch, a body that does not match opt.Checksums with ErrChecksum,
	// and an existing object under IfNoneMatch "*" with ErrExists; in each case
	// nothing is stored.
	Put(ctx context.Context, key string, body io.Reader, opt PutOptions) (Info, error)
}

// PutOptions describe an object being stored.
type PutOptions struct {
	// Size is the number of bytes body yields, or -1 when unknown (a chunked request).
	// Zero means an empty object, not "unknown".
	Size int64
	// Stored with the object and sent back on Get, by origins that keep them (S3). A
	// folder keeps only the bytes: its Get derives the type from the name's extension.
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	// Metadata is user metadata (S3's x-amz-meta-*), names lower case without the
	// prefix. Ignored by a folder.
	Metadata map[string]string
	// IfNoneMatch "*" makes the write create-only: when an object exists at key the
	// write fails with ErrExists and stores nothing. The check and the write are one
	// step at the origin (S3's conditional write, a hard link in a folder), never a
	// look followed by a write. Any other value than "" and "*" is ErrBadRequest.
	IfNoneMatch string
	// Checksums the body must match, verified end to end: by S3 itself on a single
	// PutObject, by the origin's own hashing before the object is made visible
	// otherwise.
	Checksums Checksums
}

// Deleter removes objects.
type Deleter interface {
	// Delete removes the object at key. Deleting a key that has no object succeeds
	// (deletes are idempotent, as in S3), so a retried delete never fails for having
	// worked the first time.
	Delete(ctx context.Context, key string) error
}

// Lister lists keys a page at a time, in S3's order (ascending bytes of the UTF-8 key)
// and with S3's ListObjectsV2 semantics, whatever the origin.
type Lister interface {
	// List returns the first page of keys that start with prefix and come after the
	// position opt gives. With opt.Delimiter "/", keys with a "/" after the prefix are
	// rolled up into one common prefix each (a "folder"), which counts once towards
	// opt.Max.
	List(ctx context.Context, prefix string, opt ListOptions) (ListPage, error)
}

// MaxListKeys is the most entries one List page holds (S3's own limit).
const MaxListKeys = 1000

// ListOptions select a page of a listing.
type ListOptions struct {
	// Delimiter is "" (every key under the prefix) or "/"; anything else is
	// ErrBadRequest, from every Lister (a folder cannot roll up on anything else).
	Delimiter string
	// StartAfter starts the listing after this key (it need not exist). Ignored when
	// Token is set.
	StartAfter string
	// Token is a previous page's Next: the listing goes on where that page ended. It is
	// opaque and only valid with the same prefix and delimiter.
	Token string
	// Max bounds the entries (objects plus common prefixes) in the page: 1 to
	// MaxListKeys; 0 or more than MaxListKeys means MaxListKeys. A page may hold fewer
	// and still have a Next.
	Max int
}

// ListPage is one page of a listing.
type ListPage struct {
	Objects []ListObject
	// Prefixes are the common prefixes rolled up by the delimiter, each ending with it.
	Prefixes []string
	// Next is the Token of the following page; "" when this page is the last.
	Next string
}

// ListObject describes one object in a listing. ETag is the one Head would give.
type ListObject struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
}

// Multipart drives a multipart upload one call at a time, for clients that upload
// parts themselves (resumable, parallel uploads such as Uppy's). An upload is invisible
// until CompleteMultipart makes the object out of its parts, atomically; an upload that
// is never completed must be aborted, or its parts keep taking space.
type Multipart interface {
	// CreateMultipart starts an upload to key and returns its id. opt.Size and
	// opt.Checksums are not used (parts carry their own); opt.IfNoneMatch is only
	// checked here: nothing remembers it, so a create-only upload must pass "*" again
	// to CompleteMultipart, which is where it takes effect.
	CreateMultipart(ctx context.Context, key string, opt PutOptions) (uploadID string, err error)
	// UploadPart stores part number (1 to MaxParts) of the upload from body, which must
	// yield exactly opt.Size bytes. Uploading a number again replaces that part.
	UploadPart(ctx context.Context, key, uploadID string, number int, body io.Reader, opt PartOptions) (Part, error)
	// ListParts returns the parts uploaded so far, in number order, after part number
	// after, at most max (0: the origin's page size); next is the after of the
	// following page, 0 when this is the last.
	ListParts(ctx context.Context, key, uploadID string, after, max int) (parts []Part, next int, err error)
	// CompleteMultipart makes the object from parts (ascending numbers, each with the
	// ETag UploadPart returned). ifNoneMatch "*" fails with ErrExists when an object
	// exists at key by then.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part, ifNoneMatch string) (Info, error)
	// AbortMultipart discards the upload and its parts. Aborting an upload that no
	// longer exists succeeds.
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// Presigner signs uploads that clients send straight to the origin, with the origin's
// own credentials, so the bytes never pass through gatehouse (S3's presigned PUT and
// POST). A folder cannot: only s3origin implements it.
type Presigner interface {
	// PresignPut returns a PUT of exactly key. What it can bind: the key, the expiry,
	// the Content-Type (when set, the client must send exactly it), the exact
	// Content-Length (when c.Size >= 0) and If-None-Match: * (c.CreateOnly). A PUT URL
	// cannot carry a length range: without an exact size it does not limit the size
	// beyond S3's own 5 GiB for one PUT.
	PresignPut(ctx context.Context, key string, c PresignConditions) (Presigned, error)
	// PresignPost returns a browser-form POST of exactly key (or, with c.KeyPrefix, of
	// any key starting with key), whose signed policy enforces content-length-range
	// 0..c.MaxSize, when set the Content-Type (exact, or its prefix with
	// c.ContentTypePrefix) and when set the c.Redirect after success.
	// c.CreateOnly is ErrBadRequest: S3's POST has no conditional write.
	PresignPost(ctx context.Context, key string, c PresignConditions) (Presigned, error)
}

// PresignConditions bind a presigned upload.
type PresignConditions struct {
	// Expires is how long the upload stays usable (1s to 7 days).
	Expires time.Duration
	// MaxSize bounds the body of a POST (content-length-range 0..MaxSize).
	MaxSize int64
	// Size, when >= 0, is the exact Content-Length a PUT must send; -1: not bound.
	Size int64
	// ContentType, when set, is the exact Content-Type the upload must declare.
	ContentType string
	// CreateOnly makes a PUT create-only (If-None-Match: *, 412 when the key exists).
	CreateOnly bool
	// The rest bind a POST only (a PUT with any of them is ErrBadRequest); they serve
	// a form that works without scripts (the listing page's upload form).
	//
	// KeyPrefix makes the key a prefix: the form's key field is key + "${filename}",
	// which the bucket replaces with the chosen file's name, and the policy accepts any
	// key that starts with key (["starts-with", "$key", key]).
	KeyPrefix bool
	// ContentTypePrefix makes ContentType a prefix the form's Content-Type field must
	// start with ("image/"); Fields then hold no Content-Type (the form supplies it).
	ContentTypePrefix bool
	// Redirect, when set, is the absolute http or https URL the bucket sends the
	// browser to (303) after a successful upload: the success_action_redirect field,
	// bound exactly by the policy. The bucket appends bucket, key and etag to its query.
	Redirect string
}

// Presigned is a signed upload the client carries out itself.
type Presigned struct {
	Method string // PUT or POST
	URL    string
	// Fields are the form fields of a POST, to send before the file field, in any
	// order; nil for a PUT.
	Fields map[string]string
	// Header holds the headers a PUT must send exactly as given (they are signed).
	Header http.Header
	// Expires is when the signature stops being accepted.
	Expires time.Time
}

// PartPresigner hands out URLs that let a client upload one part of a multipart
// upload straight to the origin (a bucket), without passing through gatehouse: Uppy's
// multipart uploads. Only origins a browser can reach with a signed URL implement it.
type PartPresigner interface {
	// PresignPart returns a URL valid for expires on which a PUT of the part's bytes
	// uploads part number (1 to MaxParts) of the upload at key; the response carries the
	// part's ETag. Headers are those the PUT must send as they are (they are signed),
	// usually none.
	PresignPart(ctx context.Context, key, uploadID string, number int, expires time.Duration) (url string, headers http.Header, err error)
}

// MaxParts is the most parts one multipart upload may have (S3's limit).
const MaxParts = 10000

// PartOptions describe one part being uploaded.
type PartOptions struct {
	Size int64  // bytes the body yields; required
	MD5  string // optional Content-MD5 of the part (base64), verified by the origin
}

// Part is an uploaded part of a multipart upload.
type Part struct {
	Number int
	ETag   string
	Size   int64
}

var (
	// ErrExists: a create-only write (IfNoneMatch "*") found an object at the key. It
	// also matches ErrPreconditionFailed, so the gateway answers 412.
	ErrExists = errors.New("object exists")
	// ErrChecksum: the body did not match a checksum the writer gave; nothing stored.
	ErrChecksum = errors.New("body does not match its checksum")
	// ErrSizeMismatch: the body yielded more or fewer bytes than it declared; nothing
	// stored.
	ErrSizeMismatch = errors.New("body size does not match its declared size")
	// ErrTooLarge: the object is larger than the origin can store in one object.
	ErrTooLarge = errors.New("object too large for the origin")
	// ErrKeyConflict: the origin cannot hold an object at the key beside what it
	// already holds (a folder cannot have both "a" and "a/b"). S3 has no such limit.
	ErrKeyConflict = errors.New("key conflicts with an existing object or folder")
	// ErrNoSuchUpload: the multipart upload does not exist (never created, completed or
	// aborted).
	ErrNoSuchUpload = errors.New("no such multipart upload")
	// ErrBusy: gatehouse itself lacks the resources for the write now (the memory for
	// its part buffers is held by other uploads); nothing was stored and the same write
	// may be retried later. Not the client's fault, nor the origin's.
	ErrBusy = errors.New("too busy to take the write now")
	// ErrClientBody: reading the body a write was given failed on the caller's side
	// (its client went away, stalled or sent too much); nothing was stored. The body's
	// reader wraps its errors with it so that an origin's failure caused by them is
	// known as the client's, never counted as the origin's (StatusOf).
	ErrClientBody = errors.New("the request body failed")
)

// existsError matches both ErrExists and ErrPreconditionFailed.
type existsError struct{ detail string }

func (e *existsError) Error() string { return "object exists: " + e.detail }
func (e *existsError) Is(t error) bool {
	return t == ErrExists || t == ErrPreconditionFailed
}

// Exists is the error of a create-only write that found an object at the key.
func Exists(detail string) error { return &existsError{detail: detail} }

// CheckIfNoneMatch refuses an IfNoneMatch other than "" and "*".
func CheckIfNoneMatch(v string) error {
	if v != "" && v != "*" {
		return fmt.Errorf("%w: If-None-Match %q on a write (only \"*\" is supported)", ErrBadRequest, v)
	}
	return nil
}

// CheckListOptions validates opt and returns it with Max resolved.
func CheckListOptions(opt ListOptions) (ListOptions, error) {
	if opt.Max <= 0 || opt.Max > MaxListKeys {
		opt.Max = MaxListKeys
	}
	if opt.Delimiter != "" && opt.Delimiter != "/" {
		return opt, fmt.Errorf("%w: delimiter %q (only \"/\" is supported)", ErrBadRequest, opt.Delimiter)
	}
	return opt, nil
}
