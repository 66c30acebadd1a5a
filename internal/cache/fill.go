package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// fill is a slice being fetched from the origin, readable while it arrives: the request
// that started the fetch and every request collapsed onto it read buf[:n] as n grows, so
// the first bytes of a miss go out as the origin sends them instead of after the whole
// slice has arrived. A fill is found by its slice's key in Store.fills while it runs;
// once the body has arrived the slice is stored (when the object may be cached) before
// the fill is forgotten, so a request arriving later finds one or the other.
type fill struct {
	buf []byte // the whole slice once done; buf[:n] has arrived

	mu   sync.Mutex
	n    int
	err  error // the fetch failed after n bytes: the rest never comes
	wake chan struct{}
	// ended is closed when the fetch has ended: failed, or arrived and stored.
	ended chan struct{}
}

func newFill(size int64) *fill {
	return &fill{buf: make([]byte, size), wake: make(chan struct{}), ended: make(chan struct{})}
}

// failed reports whether the fetch has failed: such a fill is never joined (a reader
// refetching after its failure must not find it again).
func (f *fill) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err != nil
}

// update records that the first n bytes have arrived, or that the fetch failed.
func (f *fill) update(n int, err error) {
	f.mu.Lock()
	f.n, f.err = n, err
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// await returns how many bytes of the slice have arrived once that is more than have (or
// the whole slice has), waiting for them. The fetch's error comes once every byte that
// arrived before it was read; ctx ending stops the wait.
func (f *fill) await(ctx context.Context, have int) (int, error) {
	for {
		f.mu.Lock()
		n, err, wake := f.n, f.err, f.wake
		f.mu.Unlock()
		switch {
		case n > have || n == len(f.buf):
			return n, nil
		case err != nil:
			return n, err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
}

// fillStep is how many bytes arrive between a fill's updates after its first.
const fillStep = 64 << 10

// fillSection is bytes off..stop-1 of a fill.
type fillSection struct {
	f         *fill
	off, stop int64
}

// ready returns the bytes of s that have arrived (at least one unless s is empty),
// waiting for them.
func (s *fillSection) ready(ctx context.Context) ([]byte, error) {
	if s.off >= s.stop {
		return nil, nil
	}
	n, err := s.f.await(ctx, int(s.off))
	if int64(n) <= s.off {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return s.f.buf[s.off:min(int64(n), s.stop)], nil
}

// startSlice GETs slice idx from the origin and returns, once the origin has answered
// with its headers, a fill that its body goes into (on a goroutine of its own, under ctx,
// which must not end with the request: collapsed requests read the same fill). done runs
// once the fetch has ended: with the whole body (ok), after it was published, or when it
// failed. With etag set, the request
// carries If-Match, so that a slice of another version is refused, never mixed in.
func (o *Origin) startSlice(ctx context.Context, key string, idx int64, etag string, done func(data []byte, ok bool)) (*fill, origin.Info, error) {
	size := o.store.SliceSize()
	opt := origin.GetOptions{Range: &origin.ByteRange{First: idx * size, Last: (idx+1)*size - 1}}
	if etag != "" {
		opt.Cond.IfMatch = etag
	}
	obj, err := o.next.Get(ctx, key, opt)
	var re *origin.RangeError
	if errors.As(err, &re) && re.Size == 0 && idx == 0 {
		opt.Range = nil // an empty object has no byte 0 to ask for
		obj, err = o.next.Get(ctx, key, opt)
	}
	if err != nil {
		o.observe(err)
	}
	if errors.Is(err, origin.ErrPreconditionFailed) && etag != "" {
		return nil, origin.Info{}, fmt.Errorf("%w: object changed while its slices were being fetched", errRefetch)
	}
	if err != nil {
		return nil, origin.Info{}, err
	}
	off := idx * size
	n := max(min(size, obj.Size-off), 0)
	if obj.Range == nil && off > 0 {
		// The origin sent the whole object: skip to the slice.
		if _, err := io.CopyN(io.Discard, obj.Body, off); err != nil {
			obj.Body.Close()
			err = origin.Unavailable(fmt.Errorf("reading the object body: %w", err))
			o.observe(err)
			return nil, origin.Info{}, err
		}
	} else if obj.Range != nil && obj.Range.Start != off {
		obj.Body.Close()
		return nil, origin.Info{}, origin.Unavailable(fmt.Errorf("origin answered range %d-%d for slice at %d", obj.Range.Start, obj.Range.End, off))
	}
	hold := min(n, o.store.fetchBudget)
	if err := o.store.fetching.Acquire(ctx, hold); err != nil {
		obj.Body.Close()
		return nil, origin.Info{}, err
	}
	f := newFill(n)
	go func() {
		defer close(f.ended)
		defer o.store.fetching.Release(hold)
		defer obj.Body.Close()
		got, published := 0, 0
		for got < len(f.buf) {
			m, err := obj.Body.Read(f.buf[got:])
			got += m
			if got == len(f.buf) {
				break
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				err = origin.Unavailable(fmt.Errorf("reading slice %d: %w", idx, err))
				o.observe(err)
				// Out of Store.fills before the readers wake: one that refetches must
				// start a new fill, not join this failed one
				// (TestRegression_RefetchJoinedFailedFill).
				done(nil, false)
				f.update(got, err)
				return
			}
			// Publish the first bytes at once (the response's first byte waits for them),
			// then in runs of at least fillStep: a reader woken per small Read of the
			// origin's body would write to its client as often.
			if m > 0 && (published == 0 || got-published >= fillStep) {
				f.update(got, nil)
				published = got
			}
		}
		o.observe(nil)
		o.store.Stats.OriginBytes.Add(n)
		f.update(got, nil)
		done(f.buf, true)
	}()
	return f, obj.Info, nil
}
