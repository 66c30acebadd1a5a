package cache

import (
	"context"
	"errors"
	"io"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// Policy is one route's caching behaviour.
type Policy struct {
	TTLs
	// StaleIfError is how long past its TTL a copy may still be served when the origin is
	// unavailable or times out.
	StaleIfError time.Duration
	// Compress, when set, makes whole-object Gets and Heads whose options name an
	// Encoding (origin.HeadOptions) answer with that coding's variant of compressible
	// objects.
	Compress *Compression
	// ReadAhead is how many slices past the one being sent a reader fetches at once when
	// they are not stored; 0: none.
	ReadAhead int
	// Breaker is how long after a failed origin call stale copies inside StaleIfError
	// are served without asking the origin first (see breaker); 0: never, every request
	// with a stale copy asks the origin and waits for its answer or its timeout.
	Breaker time.Duration
}

// Origin serves an origin's objects through a Store. It implements origin.Origin, so the
// gateway's request path is the same with and without a cache: the options' Variant
// takes part in the cache key, Encoding selects a compressed variant (Policy.Compress),
// and Served, when set, receives how each call was answered.
type Origin struct {
	next    origin.Origin
	name    string
	policy  Policy
	store   *Store
	flight  *flight
	breaker *breaker
	now     func() time.Time
}

var _ origin.Origin = (*Origin)(nil)

// Wrap returns a caching decorator for next, whose entries are stored under originName.
// Decorators of one origin share entries whatever their policy: the policy decides how
// long an entry is fresh when it is stored or revalidated.
func (s *Store) Wrap(originName string, next origin.Origin, p Policy) *Origin {
	return &Origin{next: next, name: originName, policy: p, store: s, flight: s.flightFor(),
		breaker: s.breakerFor(originName), now: s.now}
}

// Next is the wrapped origin.
func (o *Origin) Next() origin.Origin { return o.next }

// Probe asks the wrapped origin.
func (o *Origin) Probe(ctx context.Context) error { return o.next.Probe(ctx) }

// Variant renders the values of the named query parameters, in the given order, as a
// cache-key component (origin.HeadOptions.Variant). Parameters not named never take part.
func Variant(q url.Values, names []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for _, n := range names {
		vs, ok := q[n]
		if !ok {
			continue
		}
		for _, v := range vs {
			b.WriteString(url.QueryEscape(n))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
			b.WriteByte('&')
		}
	}
	return b.String()
}

// report fills *dst, when the caller asked for it, with how a call was answered, for the
// outcomes origin.HeadOptions.Served covers: success and 304.
func report(dst *origin.Served, s origin.Served, err error) {
	if dst != nil && (err == nil || errors.Is(err, origin.ErrNotModified)) {
		*dst = s
	}
}

// Head answers from a cached entry when there is one (revalidating it when stale) and
// asks the origin otherwise, without storing anything.
func (o *Origin) Head(ctx context.Context, key string, opt origin.HeadOptions) (origin.Info, error) {
	base := baseKey(o.name, key, opt.Variant)
	info, served, err := o.head(ctx, base, key, opt.Cond)
	var nm *origin.NotModifiedError
	switch {
	case err == nil:
		info = o.variantInfo(base, opt.Encoding, info)
	case errors.As(err, &nm):
		nm.Info = o.variantInfo(base, opt.Encoding, nm.Info)
	}
	report(opt.Served, served, err)
	return info, err
}

func (o *Origin) head(ctx context.Context, base, key string, cond origin.Conditions) (origin.Info, origin.Served, error) {
	if it, ok := o.store.get(metaKey(base)); ok {
		m, how, err := o.current(ctx, base, key, it.meta)
		if err == nil {
			return m.Info, o.aged(m, how), cond.Evaluate(m.Info)
		}
		if !errors.Is(err, errRefetch) {
			return origin.Info{}, origin.Served{}, err
		}
	}
	info, err := o.next.Head(ctx, key, origin.HeadOptions{Cond: cond})
	o.observe(err)
	if err != nil && !errors.Is(err, origin.ErrNotModified) {
		return info, origin.Served{}, err
	}
	// The origin answered, a 304 included (as a GET's 304 on a miss is a Miss).
	return info, origin.Served{Status: origin.CacheMiss}, err
}

// errRefetch: the cached entry is out of date and the object must be fetched again.
var errRefetch = errors.New("cached entry superseded")

// current returns a usable metadata entry for m: m itself while fresh; after a
// revalidation (304) a refreshed copy; m again, marked stale, when the origin fails
// within the stale-if-error window, or at once, without asking, while the origin's
// breaker is open (one such request then probes the origin in the background).
// errRefetch means the object changed. How the entry was found is returned as a Served
// without its Age (see aged).
func (o *Origin) current(ctx context.Context, base, key string, m *meta) (*meta, origin.Served, error) {
	now := o.now()
	if m.fresh(now) {
		return m, origin.Served{Status: origin.CacheHit}, nil
	}
	staleOK := now.Sub(m.Stored) < m.TTL+o.policy.StaleIfError
	if staleOK && o.policy.Breaker > 0 {
		if open, probe := o.breaker.check(now); open {
			if probe {
				pctx := context.WithoutCancel(ctx)
				go func() {
					defer o.breaker.probed()
					o.flight.do(pctx, metaKey(base)+"\x00revalidate", o.revalidate(base, key, m))
				}()
			}
			o.store.Stats.StaleServes.Add(1)
			o.store.Stats.BreakerServes.Add(1)
			return m, origin.Served{Status: origin.CacheHit, Stale: true}, nil
		}
	}
	// With a stale copy to fall back on, a joined revalidation that fails is not run
	// again: the copy is served at once instead.
	v, err, _ := o.shared(ctx, metaKey(base)+"\x00revalidate", !staleOK, o.revalidate(base, key, m))
	switch {
	case err == nil:
		o.store.Stats.RefreshHits.Add(1)
		return v.(*meta), origin.Served{Status: origin.CacheRefreshHit}, nil
	case errors.Is(err, errRefetch):
		return nil, origin.Served{}, err
	case failed(err) && staleOK:
		o.store.Stats.StaleServes.Add(1)
		return m, origin.Served{Status: origin.CacheHit, Stale: true}, nil
	}
	return nil, origin.Served{}, err
}

// revalidate returns the flight function that revalidates m with the origin: the
// refreshed entry on 304, errRefetch (and m dropped) when the object changed.
func (o *Origin) revalidate(base, key string, m *meta) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		cond := origin.Conditions{IfNoneMatch: m.Info.ETag}
		if cond.IfNoneMatch == "" {
			cond.IfModifiedSince = m.Info.LastModified
		}
		_, err := o.next.Head(ctx, key, origin.HeadOptions{Cond: cond})
		o.observe(err)
		var nm *origin.NotModifiedError
		if errors.As(err, &nm) {
			fresh := *m
			fresh.Stored = o.now()
			if nm.Info.CacheControl != "" || nm.Info.Expires != "" {
				fresh.Info.CacheControl, fresh.Info.Expires = nm.Info.CacheControl, nm.Info.Expires
			}
			fresh.TTL = o.policy.TTL(fresh.Info.CacheControl, fresh.Info.Expires, fresh.Stored)
			if fresh.TTL > 0 {
				o.store.set(metaKey(base), &item{meta: &fresh})
			}
			return &fresh, nil
		}
		if err == nil {
			o.store.drop(metaKey(base))
			return nil, errRefetch
		}
		return nil, err
	}
}

// observe feeds the outcome of a call to the wrapped origin to the origin's breaker.
func (o *Origin) observe(err error) { o.breaker.record(err, o.now(), o.policy.Breaker) }

// aged is how, with its Age: for a hit, how long ago entry m was fetched or last
// validated; 0 for a miss or a refresh hit.
func (o *Origin) aged(m *meta, how origin.Served) origin.Served {
	if how.Status == origin.CacheHit {
		how.Age = max(0, o.now().Sub(m.Stored))
	}
	return how
}

// Get serves the object or range from the cache, fetching the slices it lacks.
func (o *Origin) Get(ctx context.Context, key string, opt origin.GetOptions) (*origin.Object, error) {
	base := baseKey(o.name, key, opt.Variant)
	for attempt := 0; ; attempt++ {
		obj, served, err := o.get(ctx, base, key, opt)
		if errors.Is(err, errRefetch) && attempt < 2 {
			continue
		}
		var nm *origin.NotModifiedError
		if opt.Range == nil && errors.As(err, &nm) {
			nm.Info = o.variantInfo(base, opt.Encoding, nm.Info) // a 304 names the tag a 200 would carry
		}
		if err == nil && opt.Range == nil && opt.Encoding != "" && o.policy.Compress.compressible(obj.Info) {
			obj, err = o.encoded(ctx, base, obj, opt.Encoding)
		}
		report(opt.Served, served, err)
		return obj, err
	}
}

func (o *Origin) get(ctx context.Context, base, key string, opt origin.GetOptions) (*origin.Object, origin.Served, error) {
	var (
		m     *meta
		how   origin.Served
		first *sliceData // the slice fetched with the metadata, when it was
	)
	if it, ok := o.store.get(metaKey(base)); ok {
		var err error
		m, how, err = o.current(ctx, base, key, it.meta)
		if err != nil {
			return nil, how, err
		}
		if how.Status == origin.CacheHit {
			o.store.Stats.Hits.Add(1)
		}
	} else {
		idx := int64(0)
		if r := opt.Range; r != nil && r.First > 0 {
			idx = r.First / o.store.SliceSize()
		}
		res, err := o.fetchMeta(ctx, base, key, idx)
		if err != nil {
			return nil, origin.Served{}, err
		}
		m, how, first = res.meta, origin.Served{Status: origin.CacheMiss}, res.slice
	}
	info, served := m.Info, o.aged(m, how)
	if err := opt.Cond.Evaluate(info); err != nil {
		return nil, served, err
	}
	obj := &origin.Object{Info: info}
	start, end := int64(0), info.Size-1
	if opt.Range != nil {
		r, ok := opt.Range.Resolve(info.Size)
		if !ok {
			return nil, served, &origin.RangeError{Size: info.Size}
		}
		obj.Range = &r
		start, end = r.Start, r.End
	}
	served = o.bodyServed(base, m, served, start, end, opt)
	body := &reader{ctx: ctx, o: o, base: base, key: key, m: m, pos: start, end: end, firstIdx: -1}
	if first != nil {
		body.first, body.firstIdx = first.sp, first.idx
	}
	if idx := start / o.store.SliceSize(); start <= end && body.firstIdx != idx {
		// Start the first slice now, so that an origin failure is still an error status
		// rather than a cut connection.
		sp, err := o.slice(ctx, base, key, m, idx, true)
		if err != nil {
			return nil, served, err
		}
		body.first, body.firstIdx = sp, idx
	}
	if fs := body.first.fill; fs != nil && start <= end {
		// Streamed: wait for the origin's first bytes (not the whole slice), so that a
		// body that fails at once is an error status too.
		if n, err := fs.f.await(ctx, 0); err != nil && n == 0 {
			return nil, served, err
		}
	}
	obj.Body = body
	return obj, served, nil
}

// sliceData is slice idx of an object, in memory, in a disk-tier file or arriving from
// the origin (see span).
type sliceData struct {
	idx int64
	sp  span
}

type metaResult struct {
	meta  *meta
	slice *sliceData
}

// fetchMeta fetches slice idx of the object (its metadata comes with it), stores both
// when the object may be cached, and returns them. Concurrent calls for one object share
// one origin request; a caller whose joined request failed retries (see shared).
func (o *Origin) fetchMeta(ctx context.Context, base, key string, idx int64) (*metaResult, error) {
	v, err, _ := o.shared(ctx, metaKey(base), true, func(ctx context.Context) (any, error) {
		// A caller that missed the Store just before another's fetch ended (and was
		// forgotten) finds what that fetch stored, instead of asking the origin again.
		if r := o.storedMeta(base, idx); r != nil {
			return r, nil
		}
		o.store.Stats.Misses.Add(1)
		var (
			m     *meta
			k     string                // the slice's key, known once the origin answered
			f     *fill                 // and its fill
			named = make(chan struct{}) // closed once m, k and f are set
		)
		f, info, err := o.startSlice(ctx, key, idx, "", func(data []byte, ok bool) {
			<-named
			if ok && m.TTL > 0 {
				o.store.setSlice(k, data, m.Info.Size)
			}
			o.store.fills.CompareAndDelete(k, f)
		})
		if err != nil {
			return nil, err
		}
		now := o.now()
		m = &meta{Info: info, Stored: now, TTL: o.policy.TTL(info.CacheControl, info.Expires, now)}
		k = o.store.sliceKey(base, info.ETag, idx)
		o.store.fills.Store(k, f)
		close(named)
		if m.TTL > 0 {
			o.store.set(metaKey(base), &item{meta: m})
		}
		sd := &sliceData{idx: idx, sp: fillSpan(f)}
		return &metaResult{meta: m, slice: sd}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*metaResult), nil
}

// storedMeta returns the object's fresh metadata when the Store holds it and slice idx
// (which the caller then reads from the Store: a result shared by collapsed callers
// cannot carry an open file).
func (o *Origin) storedMeta(base string, idx int64) *metaResult {
	it, ok := o.store.get(metaKey(base))
	if !ok || it.meta == nil || !it.meta.fresh(o.now()) {
		return nil
	}
	if !o.store.has(o.store.sliceKey(base, it.meta.Info.ETag, idx)) {
		return nil
	}
	return &metaResult{meta: it.meta}
}

// stored is a slice fetch's result when the slice was found stored (by a fetch that
// ended just before): each caller then reads it from the Store itself, since a file span
// cannot be shared.
type stored struct{}

// slice returns slice idx of version m: from the store, from a fetch already under way,
// or from a new fetch, as soon as the origin has answered (its bytes then arrive in a
// fill span). With retry set, a caller whose joined fetch failed before the origin
// answered fetches again (see shared). A slice of an object kept on disk only
// (Store.diskOnly) comes as an open file span, which the caller closes.
func (o *Origin) slice(ctx context.Context, base, key string, m *meta, idx int64, retry bool) (span, error) {
	k := o.store.sliceKey(base, m.Info.ETag, idx)
	for attempt := 0; ; attempt++ {
		if sp, ok := o.store.getSlice(k, m.Info.Size); ok {
			o.store.Stats.HitBytes.Add(sp.size())
			return sp, nil
		}
		if f, ok := o.store.fills.Load(k); ok && !f.(*fill).failed() {
			o.store.Stats.Collapses.Add(1)
			return fillSpan(f.(*fill)), nil
		}
		v, err, _ := o.shared(ctx, k, retry, func(ctx context.Context) (any, error) {
			if f, ok := o.store.fills.Load(k); ok && !f.(*fill).failed() {
				return f, nil
			}
			if attempt == 0 && o.store.has(k) {
				return stored{}, nil
			}
			var (
				f     *fill
				named = make(chan struct{}) // closed once f is set
			)
			f, _, err := o.startSlice(ctx, key, idx, m.Info.ETag, func(data []byte, ok bool) {
				<-named
				if ok && m.TTL > 0 {
					o.store.setSlice(k, data, m.Info.Size)
				}
				o.store.fills.CompareAndDelete(k, f)
			})
			if err != nil {
				if errors.Is(err, errRefetch) {
					o.store.drop(metaKey(base))
				}
				return nil, err
			}
			o.store.fills.Store(k, f)
			close(named)
			return f, nil
		})
		if err != nil {
			return span{}, err
		}
		if f, ok := v.(*fill); ok {
			return fillSpan(f), nil
		}
		// stored{}: read it above; evicted since (or a joined fetch found it stored), it
		// is fetched on the next attempt.
	}
}

// fillSpan is the whole of a slice arriving in f.
func fillSpan(f *fill) span {
	return span{fill: &fillSection{f: f, stop: int64(len(f.buf))}}
}

// reader streams bytes pos..end of one object version, slice after slice. While it
// sends a slice it fetches up to Policy.ReadAhead of the following ones that are not
// stored, concurrently (read-ahead): a miss on a large object then pays the origin's
// latency once per window instead of once per slice. It holds 1+ReadAhead slices at most.
// A read-ahead fetch that fails without a definitive answer from the origin is run again,
// once, when the slice is needed and the request's context is live: it began before the
// slice was needed, perhaps on a connection that then hung while the origin answered
// others. Slices of objects kept on disk only are sent from their files (see span).
type reader struct {
	ctx      context.Context
	o        *Origin
	base     string
	key      string
	m        *meta
	pos, end int64
	first    span  // slice firstIdx, fetched before the body was returned
	firstIdx int64 // -1: none
	// cur is the rest of the current slice to send; r closes its file (if it has one)
	// when it moves to the next slice or is closed.
	cur   span
	ahead []*pendingSlice // read-ahead fetches, by ascending slice index
	// refilled is 1 + the index of the last slice fetched again (see refill); 0: none.
	refilled int64
	fills    []*fill // the fetches r sent from as they arrived (see Close)
	looked   int64   // the highest slice index read-ahead has considered
}

// pendingSlice is a read-ahead fetch; sp and err are set when done is closed. A slice
// the fetch found stored on disk only is not kept open (stored): it is read when needed.
type pendingSlice struct {
	idx    int64
	done   chan struct{}
	sp     span // in memory or arriving (a file span is closed: stored)
	stored bool
	err    error
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.next(); err != nil {
		return 0, err
	}
	n, err := r.cur.read(r.ctx, p)
	r.cur.skip(int64(n))
	r.pos += int64(n)
	if err != nil && n == 0 {
		if again, rerr := r.refill(err); again {
			return r.Read(p)
		} else if rerr != nil {
			err = rerr
		}
	}
	return n, err
}

// refill fetches the current slice again after its fetch failed with err while r was
// sending it as it arrived, and makes r.cur the rest of r's part of it (the version is
// the same: slice fetches carry If-Match). It does so once per slice, when err is the
// origin's failure and the request's context is live: a read-ahead or a joined fetch
// began before this request needed the slice, perhaps on a connection that then hung.
// again reports whether r.cur can be sent; otherwise rerr, when set, is the new fetch's
// error.
func (r *reader) refill(err error) (again bool, rerr error) {
	size := r.o.store.SliceSize()
	idx := r.pos / size
	if r.cur.fill == nil || r.refilled == idx+1 || r.ctx.Err() != nil || !errors.Is(err, origin.ErrUnavailable) {
		return false, nil
	}
	r.refilled = idx + 1
	r.o.store.Stats.Retries.Add(1)
	stop := r.cur.fill.stop
	sp, err := r.o.slice(r.ctx, r.base, r.key, r.m, idx, false)
	if err != nil {
		return false, err
	}
	if sp.size() < stop {
		if f := sp.osFile(); f != nil {
			f.Close()
		}
		return false, io.ErrUnexpectedEOF
	}
	r.cur = sp.sub(r.pos-idx*size, stop)
	if sp.fill != nil {
		r.fills = append(r.fills, sp.fill.f)
	}
	return true, nil
}

// WriteTo writes the rest of the range straight from the stored slices, one Write per
// slice held in memory and one ReadFrom of the file per slice kept on disk (sendfile, on a
// TCP connection): no copy through a buffer (the gateway uses it when Len is the whole
// body).
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := r.next(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
		n, err := r.cur.writeTo(r.ctx, w)
		total += n
		r.cur.skip(n)
		r.pos += n
		if err != nil {
			again, rerr := r.refill(err)
			if again {
				continue
			}
			if rerr != nil {
				err = rerr
			}
			return total, err
		}
	}
}

// Len is the number of bytes not yet read (as bytes.Reader's), at most math.MaxInt.
func (r *reader) Len() int {
	return int(min(r.end+1-r.pos, math.MaxInt))
}

// next makes r.cur the rest of the current slice, loading the next slice when the
// current one is used up; io.EOF at the end of the range.
func (r *reader) next() error {
	if r.cur.size() > 0 {
		return nil
	}
	if r.pos > r.end {
		return io.EOF
	}
	if f := r.cur.osFile(); f != nil {
		f.Close()
		r.cur = span{}
	}
	size := r.o.store.SliceSize()
	idx := r.pos / size
	var sp span
	var pending *pendingSlice
	for len(r.ahead) > 0 && r.ahead[0].idx <= idx {
		if r.ahead[0].idx == idx {
			pending = r.ahead[0]
		}
		r.ahead = r.ahead[1:]
	}
	switch {
	case r.firstIdx == idx:
		sp = r.first
	case pending != nil:
		select {
		case <-pending.done:
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
		sp = pending.sp
		if err := pending.err; err != nil || pending.stored {
			if err != nil {
				if !retriable(r.ctx, err) {
					return err
				}
				r.o.store.Stats.Retries.Add(1)
			}
			if sp, err = r.o.slice(r.ctx, r.base, r.key, r.m, idx, false); err != nil {
				return err
			}
		}
	default:
		var err error
		if sp, err = r.o.slice(r.ctx, r.base, r.key, r.m, idx, true); err != nil {
			return err
		}
	}
	r.first, r.firstIdx = span{}, -1
	off := r.pos - idx*size
	stop := min(sp.size(), r.end+1-idx*size)
	if off >= stop {
		if f := sp.osFile(); f != nil {
			f.Close()
		}
		return io.ErrUnexpectedEOF
	}
	r.cur = sp.sub(off, stop)
	if sp.fill != nil {
		r.fills = append(r.fills, sp.fill.f)
	}
	r.readAhead(idx, size)
	return nil
}

// readAhead starts fetches of the slices after idx, up to Policy.ReadAhead of them and
// not past the range, that are neither stored nor already being fetched by r.
func (r *reader) readAhead(idx, size int64) {
	last := min(idx+int64(r.o.policy.ReadAhead), r.end/size)
	// Each slice is considered once: a stored one is not looked up again per slice sent.
	for next := max(idx, r.looked) + 1; next <= last; next++ {
		r.looked = next
		if r.o.store.has(r.o.store.sliceKey(r.base, r.m.Info.ETag, next)) {
			continue
		}
		p := &pendingSlice{idx: next, done: make(chan struct{})}
		go func() {
			defer close(p.done)
			// No retry here: next retries a failed read-ahead itself, once.
			sp, err := r.o.slice(r.ctx, r.base, r.key, r.m, p.idx, false)
			if f := sp.osFile(); f != nil {
				f.Close() // found on disk: next opens it when it is needed
				p.stored = true
			}
			if !p.stored {
				p.sp = sp
			}
			p.err = err
		}()
		r.ahead = append(r.ahead, p)
	}
}

// Close drops the reader's slices and closes the file it is sending from; a read-ahead
// still running finishes on its own (and stores its slice, as any fetch does). It waits
// (while the request's context lives) for the fetches r sent from as they arrived to end:
// a range that ends inside a slice is sent before the slice has arrived whole, and a
// response that has ended finds its slices stored, as it did when a slice was fetched
// whole before its first byte was sent.
func (r *reader) Close() error {
	for _, f := range r.fills {
		select {
		case <-f.ended:
		case <-r.ctx.Done():
		}
	}
	for _, sp := range []span{r.first, r.cur} {
		if f := sp.osFile(); f != nil {
			f.Close()
		}
	}
	r.cur, r.first, r.firstIdx, r.ahead, r.fills = span{}, span{}, -1, nil, nil
	return nil
}
