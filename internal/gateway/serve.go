package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// serveGet fetches key and streams it. Preconditions and Range go to the origin in the
// same call, with the route's variant and coding in base; If-Range is honoured by asking
// for the range only if the entity tag still matches, and for the whole object otherwise.
func serveGet(ctx context.Context, w *httpx.Recorder, r *http.Request, o origin.Origin, key string, base origin.HeadOptions, oh objectHeaders) error {
	served := servedOf(&base)
	base.Cond = origin.ConditionsFrom(r.Header)
	opt := origin.GetOptions{HeadOptions: base, Range: origin.ParseRange(r.Header.Get("Range"))}
	if v := r.Header.Get("If-Range"); v != "" && opt.Range != nil {
		full := opt
		full.Range = nil
		// Only one strong entity tag can be checked in the same origin call (as
		// If-Match). A weak tag never matches, and a date must equal Last-Modified
		// exactly, which cannot be asked of S3; in those cases (and for anything that is
		// not one entity tag, such as a list) the whole object is sent, as RFC 9110
		// allows.
		if !origin.IsStrongETag(v) || opt.Cond.IfMatch != "" {
			opt = full
		} else {
			opt.Cond.IfMatch = v
			obj, err := o.Get(ctx, key, opt)
			if errors.Is(err, origin.ErrPreconditionFailed) {
				obj, err = o.Get(ctx, key, full) // changed since: send it all
			}
			return respond(w, r, obj, *served, err, oh)
		}
	}
	obj, err := o.Get(ctx, key, opt)
	return respond(w, r, obj, *served, err, oh)
}

// serveHead answers HEAD from the origin's metadata; Range is ignored (allowed by RFC
// 9110), so HEAD never opens a body.
func serveHead(ctx context.Context, w *httpx.Recorder, r *http.Request, o origin.Origin, key string, base origin.HeadOptions, oh objectHeaders) error {
	served := servedOf(&base)
	base.Cond = origin.ConditionsFrom(r.Header)
	info, err := o.Head(ctx, key, base)
	if err != nil {
		return respond(w, r, nil, *served, err, oh)
	}
	hs := &headerSetter{h: w.Header()}
	setObjectHeaders(hs, info)
	setCacheHeaders(hs, *served)
	oh.apply(w.Header(), info)
	if info.Size >= 0 { // unknown for a compressed variant not made yet
		hs.set(kContentLength, strconv.FormatInt(info.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// servedOf returns where a cache reports how it answered: the caller's opt.Served (the
// handler's, for metrics), or a new one set there.
func servedOf(opt *origin.HeadOptions) *origin.Served {
	if opt.Served == nil {
		opt.Served = new(origin.Served)
	}
	return opt.Served
}

// respond writes the origin's answer: obj, or the 304 or error in err; served is how a
// cache answered (read only for an object or a 304, as its contract says).
func respond(w *httpx.Recorder, r *http.Request, obj *origin.Object, served origin.Served, err error, oh objectHeaders) error {
	var nm *origin.NotModifiedError
	switch {
	case errors.As(err, &nm):
		hs := &headerSetter{h: w.Header()}
		setObjectHeaders(hs, origin.Info{ETag: nm.Info.ETag, LastModified: nm.Info.LastModified, CacheControl: nm.Info.CacheControl, Expires: nm.Info.Expires})
		setCacheHeaders(hs, served)
		oh.apply(w.Header(), nm.Info)
		w.WriteHeader(http.StatusNotModified)
		return nil
	case err != nil:
		// An unsatisfiable range too: ServeHTTP answers 416 with its Content-Range
		// through reply, like every other status gatehouse writes itself.
		return err
	}
	defer obj.Body.Close()
	h := w.Header()
	hs := &headerSetter{h: h}
	setObjectHeaders(hs, obj.Info)
	setCacheHeaders(hs, served)
	oh.apply(h, obj.Info)
	n := obj.Length()
	hs.set(kContentLength, strconv.FormatInt(n, 10))
	status := http.StatusOK
	if obj.Range != nil {
		h.Set("Content-Range", obj.Range.ContentRange(obj.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	copied, err := copyBody(w, obj.Body, n)
	if err == nil && copied != n {
		err = fmt.Errorf("origin body ended after %d of %d bytes", copied, n)
	}
	if err != nil {
		return fmt.Errorf("streaming body: %w", err)
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// copyBody copies exactly n bytes at most, with a pooled buffer so memory per request stays
// constant whatever the object size.
//
// A body that knows exactly how much it holds and can write itself (the cache's stored
// slices) writes straight to w instead: no copy through the buffer, and one
// write per slice rather than one per 64 KiB.
func copyBody(w io.Writer, body io.Reader, n int64) (int64, error) {
	if b, ok := body.(interface {
		io.WriterTo
		Len() int
	}); ok && int64(b.Len()) == n {
		return b.WriteTo(w)
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	copied, err := io.CopyBuffer(w, io.LimitReader(body, n), *bp)
	if err == nil && copied == n {
		// Make sure the origin did not have more to say than it announced.
		var one [1]byte
		if m, _ := body.Read(one[:]); m > 0 {
			err = errors.New("origin body longer than announced")
		}
	}
	return copied, err
}

// setObjectHeaders writes the object's metadata headers (hdrvals.go).
func setObjectHeaders(hs *headerSetter, info origin.Info) {
	hs.setNonEmpty(kContentType, info.ContentType)
	hs.setNonEmpty(kETag, info.ETag)
	if !info.LastModified.IsZero() {
		hs.set(kLastModified, httpDate(info.LastModified))
	}
	hs.setNonEmpty(kCacheControl, info.CacheControl)
	hs.setNonEmpty(kContentDisposition, info.ContentDisposition)
	hs.setNonEmpty(kContentEncoding, info.ContentEncoding)
	hs.setNonEmpty(kContentLanguage, info.ContentLanguage)
	hs.setNonEmpty(kExpires, info.Expires)
	hs.h[kAcceptRanges] = vBytes
	hs.h[kXContentTypeOptions] = vNosniff
}

// setCacheHeaders writes how the edge cache answered: X-Cache, Age and, for a stale
// copy, Warning. Nothing when no cache answered (the handler has already set X-Cache to
// "Error from gatehouse" on cached routes, for answers that carry no object).
func setCacheHeaders(hs *headerSetter, s origin.Served) {
	if s.Status == origin.CacheNone {
		return
	}
	hs.h[kXCache] = xCache(s.Status)
	hs.set(kAge, strconv.FormatInt(int64(s.Age/time.Second), 10))
	if s.Stale {
		hs.h[kWarning] = vStaleWarning
	}
}
