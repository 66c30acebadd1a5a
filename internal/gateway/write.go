package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/route"
	"github.com/gatehouse-dev/gatehouse/internal/upload"
)

// Streamed uploads (docs/uploads.md): a PUT stores its body at the key its path maps to,
// a DELETE removes that key. Everything that can be decided from the request line and
// headers is decided in Resolve (resolveWrite), before a byte of the body is read, so a
// refused client never uploads (and a client that sent Expect: 100-continue is never
// told to go on: Go's server sends 100 Continue only on the first body read). The body
// then streams to the origin's Putter, cut at the route's max_size.

// Writes is how a route writes: its upload section and its origin's write capabilities,
// found once when the route is built. Nil on a route that allows neither PUT nor DELETE.
type Writes struct {
	// Limits is the route's upload section (max_size, content_types, key_prefix,
	// overwrite); never nil.
	Limits *config.Upload
	put    origin.Putter  // nil: the route does not allow PUT
	del    origin.Deleter // nil: the route does not allow DELETE
	// invalidate drops the cached copies of a key after a write; nil when no cached
	// route reads this origin.
	invalidate func(key string)
}

// WritePlan is what a PUT or DELETE that passed every check will do (Outcome Write).
type WritePlan struct {
	// Put is what a PUT stores (declared size, content type, create-only, checksums);
	// nil for a DELETE.
	Put *origin.PutOptions
	// MaxSize is the route's max_size: a body that runs past it is refused (413).
	MaxSize int64
	// Prefix is the route's key_prefix expanded for the caller ("" when unrestricted).
	Prefix string
}

// errBodyTooLarge: a body of unknown length ran past the route's max_size (413).
var errBodyTooLarge = errors.New("request body larger than the route's max_size")

// bodyError is a failure to read the request body: the client went away or sent a
// malformed body (400, which a client that has gone never reads). It is the client's
// doing, never an origin failure, whatever the origin made of it.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// maxContentType bounds the Content-Type stored with an object.
const maxContentType = 256

// bodyStall and bodyMinBytes are the least rate a PUT's body must keep: bodyMinBytes
// (256 KiB) in each window of bodyStall (60 s) of waiting for it, about 4 KiB/s, or
// gatehouse gives up on it: the read fails, the origin's write is abandoned (a
// multipart upload aborted, its part buffers given back) and nothing is stored. The
// server has no read timeout of its own for bodies (an upload may rightly take hours),
// so without this a client that stops sending, or trickles a byte now and then, would
// hold its upload and its buffers forever. Only time spent waiting for the client
// counts, not time gatehouse spends sending parts to the origin. Variables only so
// that tests can shorten them.
var (
	bodyStall    atomic.Int64
	bodyMinBytes atomic.Int64
)

func init() {
	bodyStall.Store(int64(60 * time.Second))
	bodyMinBytes.Store(256 << 10)
}

// writeRoute gives rt its Writes when the route allows PUT or DELETE: the capabilities
// of the origin under the cache decorator (a write goes to the origin itself, then
// drops the cached copies). An origin that cannot do what the route allows fails the
// build.
func (b *builder) writeRoute(i int, rt *Route, rc *config.Route) {
	if !hasWrite(rc) || rt.Origin == nil {
		return
	}
	p := fmt.Sprintf("routes[%d].methods", i)
	if rc.Upload == nil { // config validation requires one; never write without limits
		b.errorf(p, "PUT and DELETE need an upload section")
		return
	}
	base := rt.Origin
	if c, ok := base.(*cache.Origin); ok {
		base = c.Next()
	}
	wr := &Writes{Limits: rc.Upload}
	var ok bool
	if slices.Contains(rc.Methods, http.MethodPut) {
		if wr.put, ok = base.(origin.Putter); !ok {
			b.errorf(p, "origin %q cannot store objects (PUT)", rc.Origin)
		}
	}
	if slices.Contains(rc.Methods, http.MethodDelete) {
		if wr.del, ok = base.(origin.Deleter); !ok {
			b.errorf(p, "origin %q cannot delete objects (DELETE)", rc.Origin)
		}
	}
	// Any cached route of the same origin may hold the key, not only this route.
	if store, name := b.st.cache, rc.Origin; store != nil && slices.ContainsFunc(b.cfg.Routes, func(o *config.Route) bool {
		return o.Origin == name && o.Cache.Cached()
	}) {
		wr.invalidate = func(key string) { store.Invalidate(name, key, false) }
	}
	rt.Writes = wr
}

// resolveWrite finishes the plan of a PUT or DELETE that the route's policy allowed:
// the key (the route's key mapping without an index document), the caller's key prefix,
// and for a PUT the limits that can be checked from the headers. Nothing here reads
// the body.
func (s *State) resolveWrite(p *Plan, r *http.Request) *Plan {
	rt := p.Route
	w := rt.Writes
	if w == nil || (r.Method == http.MethodPut && w.put == nil) || (r.Method == http.MethodDelete && w.del == nil) {
		// Build gives every route allowing PUT or DELETE its Writes; fail closed anyway.
		p.Header.Set("Allow", strings.Join(rt.Methods, ", "))
		return p.refuse(http.StatusMethodNotAllowed, errors.New("the route's origin cannot "+r.Method))
	}
	key, ok := route.KeyMap{StripPrefix: rt.Keys.StripPrefix, AddPrefix: rt.Keys.AddPrefix}.Key(p.Path)
	if !ok {
		return p.refuse(http.StatusBadRequest, errors.New("path names a folder: only objects can be written"))
	}
	if err := origin.CheckKey(key); err != nil {
		return p.refuse(http.StatusRequestURITooLong, err)
	}
	if err := upload.Allowed(w.Limits.KeyPrefix, p.Decision.Identity, key); err != nil {
		if errors.Is(err, upload.ErrBadKey) {
			return p.refuse(http.StatusBadRequest, err)
		}
		return p.refuse(http.StatusForbidden, err)
	}
	prefix, _ := upload.Prefix(w.Limits.KeyPrefix, p.Decision.Identity) // Allowed checked it
	wp := &WritePlan{MaxSize: int64(w.Limits.MaxSize), Prefix: prefix}
	ifNoneMatch, err := writeConditions(r.Header)
	if err != nil {
		return p.refuse(http.StatusBadRequest, err)
	}
	if r.Method == http.MethodPut {
		if r.ContentLength > wp.MaxSize {
			p.Header.Set("Connection", "close") // the body is not read: do not wait for it
			return p.refuse(http.StatusRequestEntityTooLarge,
				fmt.Errorf("Content-Length %d is over the route's max_size %d", r.ContentLength, wp.MaxSize))
		}
		ct, err := uploadContentType(r.Header, w.Limits.ContentTypes)
		if err != nil {
			return p.refuse(http.StatusUnsupportedMediaType, err)
		}
		sums, err := parseChecksums(r.Header)
		if err != nil {
			return p.refuse(http.StatusBadRequest, err)
		}
		if !w.Limits.CanOverwrite() {
			ifNoneMatch = "*"
		}
		wp.Put = &origin.PutOptions{Size: r.ContentLength, ContentType: ct, IfNoneMatch: ifNoneMatch, Checksums: sums}
	}
	p.Outcome, p.Key, p.Write = Write, key, wp
	return p
}

// writeConditions reads the preconditions of a write. If-None-Match: * (create only) is
// honoured on a PUT; any other precondition (If-Match, If-Unmodified-Since, an
// If-None-Match with ETags, any on a DELETE) is refused rather than ignored, since a
// client relying on it to avoid a lost update would otherwise overwrite silently.
func writeConditions(h http.Header) (ifNoneMatch string, err error) {
	for _, name := range []string{"If-Match", "If-Unmodified-Since", "If-Modified-Since"} {
		if _, ok := h[name]; ok {
			return "", fmt.Errorf("%s is not supported on writes", name)
		}
	}
	switch v := h.Values("If-None-Match"); {
	case len(v) == 0:
		return "", nil
	case len(v) == 1 && strings.TrimSpace(v[0]) == "*":
		return "*", nil
	}
	return "", errors.New(`If-None-Match on a write must be "*"`)
}

// uploadContentType is the media type a PUT stores: its Content-Type, normalised, or
// application/octet-stream when it has none; either must be one of allowed
// (upload.MatchType: media types or "type/*", which admits no type that can run script;
// empty allows any).
func uploadContentType(h http.Header, allowed []string) (string, error) {
	ct := "application/octet-stream"
	switch v := h.Values("Content-Type"); len(v) {
	case 0:
	case 1:
		mt, params, err := mime.ParseMediaType(v[0])
		if err != nil {
			return "", fmt.Errorf("Content-Type %q is not a media type", truncate(v[0]))
		}
		if ct = mime.FormatMediaType(mt, params); ct == "" || len(ct) > maxContentType {
			return "", fmt.Errorf("Content-Type %q cannot be stored", truncate(v[0]))
		}
	default:
		return "", errors.New("more than one Content-Type")
	}
	if mt, _, _ := strings.Cut(ct, ";"); !upload.MatchType(allowed, mt) {
		if upload.RunsScript(mt) {
			return "", fmt.Errorf("content type %s is not one of the route's content_types (a type/* range admits no type that can run script)", mt)
		}
		return "", fmt.Errorf("content type %s is not one of the route's content_types", mt)
	}
	return ct, nil
}

// parseChecksums reads the checksums a PUT's body must match: Content-MD5 and at most
// one of x-amz-checksum-crc32, -crc32c and -sha256 (base64, as S3 takes them). A
// malformed or repeated value, two algorithms, or an algorithm gatehouse does not
// verify (crc64nvme, sha1) is an error: a checksum the client sent is never ignored.
// x-amz-checksum-algorithm and x-amz-checksum-type name, they do not carry, a checksum
// and are ignored.
func parseChecksums(h http.Header) (origin.Checksums, error) {
	var c origin.Checksums
	if v, ok := h["Content-Md5"]; ok {
		if len(v) != 1 || v[0] == "" {
			return c, errors.New("Content-MD5 must be given once, not empty")
		}
		c.MD5 = v[0]
	}
	for name, v := range h {
		alg, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-checksum-")
		if !ok || alg == "algorithm" || alg == "type" {
			continue
		}
		var a origin.ChecksumAlgorithm
		switch alg {
		case "crc32":
			a = origin.CRC32
		case "crc32c":
			a = origin.CRC32C
		case "sha256":
			a = origin.SHA256
		default:
			return origin.Checksums{}, fmt.Errorf("x-amz-checksum-%.32s is not verified by gatehouse (crc32, crc32c and sha256 are)", alg)
		}
		if c.Algorithm != "" || len(v) != 1 || v[0] == "" {
			return origin.Checksums{}, errors.New("at most one x-amz-checksum header, given once, not empty")
		}
		c.Algorithm, c.Value = a, v[0]
	}
	if err := c.Validate(); err != nil {
		return origin.Checksums{}, err
	}
	return c, nil
}

// serveWrite carries out a write plan: DELETE answers 204; PUT streams the body to the
// origin and answers 201 Created with the new object's ETag, whether or not it replaced
// an object (knowing would cost a request to the origin before every write, and its
// answer could be stale by the time the write lands). Every write attempted drops the
// cached copies of its key, failed ones too: a write whose answer was lost may have
// taken effect (origin.Putter).
func (h *Handler) serveWrite(ctx context.Context, w *httpx.Recorder, r *http.Request, st *State, p *Plan, e *entry) error {
	wr := p.Route.Writes
	if p.Write.Put == nil {
		err := wr.del.Delete(ctx, p.Key)
		wr.dropCached(p.Key)
		if err != nil {
			return err
		}
		h.reply(ctx, w, r, st, p.Route, http.StatusNoContent, nil)
		return nil
	}
	rc := http.NewResponseController(w)
	body := &limitedBody{r: r.Body, max: p.Write.MaxSize, deadline: func(t time.Time) {
		rc.SetReadDeadline(t) // ErrNotSupported (no connection to time out) is fine
	}, window: time.Duration(bodyStall.Load()), minBytes: bodyMinBytes.Load()}
	info, err := wr.put.Put(ctx, p.Key, body, *p.Write.Put)
	body.deadline(time.Time{})
	e.received = body.n
	wr.dropCached(p.Key)
	if errors.Is(err, origin.ErrBusy) {
		w.Header().Set("Retry-After", "5") // gatehouse's own overload: come back soon
	}
	if body.err != nil {
		// The origin failed because the body did: that is the answer, whatever the
		// origin made of it.
		if errors.Is(body.err, errBodyTooLarge) {
			w.Header().Set("Connection", "close") // the rest of the body is not read
			return body.err
		}
		return &bodyError{err: body.err}
	}
	if errors.Is(err, origin.ErrNotFound) {
		// No object is looked for: the bucket refused the name (MinIO's
		// XMinioInvalidObjectName for a segment over 255 bytes), as a folder refuses it.
		return &httpx.Error{Status: http.StatusBadRequest, Cause: err}
	}
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	if info.ETag != "" {
		hd.Set("ETag", info.ETag)
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// dropCached drops the cached copies of key, every variant, when a cached route reads
// this origin.
func (wr *Writes) dropCached(key string) {
	if wr.invalidate != nil {
		wr.invalidate(key)
	}
}

// limitedBody reads a request body up to max bytes, counting them, and remembers the
// error that ended it: reading a byte past max fails with errBodyTooLarge (a body of
// unknown length cut at the limit), any other failure is the client's. With deadline
// set, the body must keep a least rate: minBytes within each window of time spent
// waiting in Read (time between reads, when the origin is being written, does not
// count), else it fails with errBodyStalled, by the connection's read deadline when a
// read is blocked. The deadline is lifted at the body's end (the server then reads the
// connection in the background, and a deadline left behind would end the request's
// context).
type limitedBody struct {
	r        io.Reader
	max      int64
	n        int64
	err      error
	deadline func(time.Time) // nil: no rate limit
	window   time.Duration
	minBytes int64
	now      func() time.Time // nil: time.Now

	used time.Duration // waited in Read in the current window
	got  int64         // bytes read in the current window
}

// errBodyStalled: the body did not keep the least rate (bodyMinBytes per bodyStall).
var errBodyStalled = errors.New("request body too slow: stalled")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if left := b.max + 1 - b.n; int64(len(p)) > left {
		p = p[:left] // at most one byte past the limit, which proves the body too large
	}
	var start time.Time
	if b.deadline != nil {
		if b.got >= b.minBytes {
			b.used, b.got = 0, 0 // the window is met: a new one starts
		}
		if b.used >= b.window {
			b.deadline(time.Time{})
			b.err = errBodyStalled
			return 0, b.err
		}
		start = b.clock()
		b.deadline(start.Add(b.window - b.used))
	}
	n, err := b.r.Read(p)
	if b.deadline != nil {
		b.used += b.clock().Sub(start)
		b.got += int64(n)
		if err != nil {
			b.deadline(time.Time{}) // the body has ended, one way or the other
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errBodyStalled
		}
	}
	b.n += int64(n)
	if b.n > b.max {
		b.n = b.max
		n, err = 0, errBodyTooLarge
	}
	if err != nil && err != io.EOF {
		// The origin sees the client's failure as such (origin.ErrClientBody), and so
		// never counts it as its own; errors.Is still finds the cause.
		err = fmt.Errorf("%w: %w", origin.ErrClientBody, err)
		b.err = err
	}
	return n, err
}

func (b *limitedBody) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}
