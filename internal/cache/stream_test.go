package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// slowOrigin serves one object like a distant origin: each GET answers after latency,
// then sends its body in chunks of chunk bytes, pausing pause before each chunk after
// the first. With failAfter > 0, a body fails once it has sent that many bytes (0 bytes:
// failAt0). Its sleeps cost no real time inside a synctest bubble.
type slowOrigin struct {
	body           []byte
	latency, pause time.Duration
	chunk          int
	failAfter      atomic.Int64 // > 0: bodies fail after this many bytes
	failAt0        atomic.Bool  // bodies fail before their first byte
	failGets       atomic.Int64 // > 0: only the bodies of the first failGets GETs fail
	gets           atomic.Int64
}

func (s *slowOrigin) Probe(context.Context) error { return nil }

func (s *slowOrigin) info() origin.Info {
	return origin.Info{Size: int64(len(s.body)), ETag: `"slow"`, LastModified: time.Unix(1e9, 0)}
}

func (s *slowOrigin) Head(_ context.Context, _ string, opt origin.HeadOptions) (origin.Info, error) {
	time.Sleep(s.latency)
	return s.info(), opt.Cond.Evaluate(s.info())
}

func (s *slowOrigin) Get(_ context.Context, _ string, opt origin.GetOptions) (*origin.Object, error) {
	nth := s.gets.Add(1)
	time.Sleep(s.latency)
	info := s.info()
	if err := opt.Cond.Evaluate(info); err != nil {
		return nil, err
	}
	obj := &origin.Object{Info: info}
	body := s.body
	if opt.Range != nil {
		r, ok := opt.Range.Resolve(info.Size)
		if !ok {
			return nil, &origin.RangeError{Size: info.Size}
		}
		obj.Range, body = &r, body[r.Start:r.End+1]
	}
	fail := s.failAfter.Load()
	if s.failAt0.Load() {
		fail = 0
	} else if fail == 0 {
		fail = -1
	}
	if n := s.failGets.Load(); n > 0 && nth > n {
		fail = -1
	}
	obj.Body = io.NopCloser(&slowBody{s: s, rest: body, fail: fail})
	return obj, nil
}

type slowBody struct {
	s    *slowOrigin
	rest []byte
	sent int64
	fail int64 // -1: never
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.fail >= 0 && b.sent >= b.fail {
		return 0, errors.New("connection reset by origin")
	}
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	if b.sent > 0 {
		time.Sleep(b.s.pause)
	}
	n := copy(p[:min(len(p), b.s.chunk)], b.rest)
	b.rest, b.sent = b.rest[n:], b.sent+int64(n)
	return n, nil
}

// ttfb returns how long the first byte of r took through get, and reads the rest,
// checking it against want.
func ttfb(t *testing.T, get func() (io.ReadCloser, error), want []byte) (first, all time.Duration) {
	t.Helper()
	start := time.Now()
	body, err := get()
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	one := make([]byte, 1)
	if _, err := io.ReadFull(body, one); err != nil {
		t.Fatal(err)
	}
	first = time.Since(start)
	rest, err := io.ReadAll(body)
	if err != nil || !bytes.Equal(append(one, rest...), want) {
		t.Fatalf("body: %d bytes, %v", len(rest)+1, err)
	}
	return first, time.Since(start)
}

// The first byte of a miss goes out when the origin's first bytes arrive, not when its
// whole first slice has: 4 MiB slices arriving in 256 KiB chunks 10 ms apart behind
// 20 ms of latency take 170 ms each, and the first byte came after them (issue 17). A
// range that starts inside a slice waits only for the bytes before it.
func TestMissStreamsFirstSlice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		so := &slowOrigin{body: pattern(8 << 20), latency: 20 * time.Millisecond, pause: 10 * time.Millisecond, chunk: 256 << 10}
		ctx := context.Background()
		direct, directAll := ttfb(t, func() (io.ReadCloser, error) {
			obj, err := so.Get(ctx, "k", origin.GetOptions{})
			return objBody(obj), err
		}, so.body)
		s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		o := s.Wrap("o", so, testPolicy)
		miss, missAll := ttfb(t, func() (io.ReadCloser, error) {
			obj, err := o.Get(ctx, "k", origin.GetOptions{})
			return objBody(obj), err
		}, so.body)
		t.Logf("whole object: first byte %v uncached, %v through the cache (a miss); all of it %v, %v", direct, miss, directAll, missAll)
		if miss > direct*12/10 {
			t.Errorf("miss: first byte after %v, want at most 1.2x the uncached %v", miss, direct)
		}
		s.Invalidate("o", "k", false)
		r := &origin.ByteRange{First: 1 << 20, Last: 5<<20 - 1}
		mid, _ := ttfb(t, func() (io.ReadCloser, error) {
			obj, err := o.Get(ctx, "k", origin.GetOptions{Range: r})
			return objBody(obj), err
		}, so.body[1<<20:5<<20])
		t.Logf("range from 1 MiB into a slice: first byte %v through the cache (a miss)", mid)
		if want := 20*time.Millisecond + 4*10*time.Millisecond; mid > want {
			t.Errorf("mid-slice range: first byte after %v, want %v (the bytes before it)", mid, want)
		}
	})
}

func objBody(obj *origin.Object) io.ReadCloser {
	if obj == nil {
		return nil
	}
	return obj.Body
}

// Concurrent misses for one object read the same slices as they arrive: one origin GET
// per slice, every reader gets every byte (run with -race).
func TestMissCollapsedReadersShareFill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		so := &slowOrigin{body: pattern(6<<20 + 999), latency: 20 * time.Millisecond, pause: time.Millisecond, chunk: 64 << 10}
		s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		o := s.Wrap("o", so, Policy{TTLs: testPolicy.TTLs, ReadAhead: 1})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				r := (*origin.ByteRange)(nil)
				want := so.body
				if i%2 == 1 { // half of them ask for a range starting mid-slice
					r = &origin.ByteRange{First: 3 << 20, Last: int64(len(so.body)) - 1}
					want = so.body[3<<20:]
				}
				obj, err := o.Get(context.Background(), "k", origin.GetOptions{Range: r})
				if err != nil {
					t.Error(err)
					return
				}
				var got bytes.Buffer
				if i%4 < 2 {
					_, err = obj.Body.(io.WriterTo).WriteTo(&got)
				} else {
					_, err = got.ReadFrom(obj.Body)
				}
				obj.Body.Close()
				if err != nil || !bytes.Equal(got.Bytes(), want) {
					t.Errorf("reader %d: %d bytes, %v", i, got.Len(), err)
				}
			})
		}
		wg.Wait()
		if n := so.gets.Load(); n != 2 {
			t.Errorf("%d origin GETs for 2 slices", n)
		}
		if n := s.Stats.Collapses.Load(); n == 0 {
			t.Error("no request was collapsed")
		}
	})
}

// An origin body that fails before its first byte is an error from Get (the usual
// error status); one that fails after bytes were sent cuts the body with an error, for
// every reader of it; neither stores the slice, and the next request fetches it again.
func TestMissStreamFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		so := &slowOrigin{body: pattern(3 << 20), latency: 20 * time.Millisecond, pause: time.Millisecond, chunk: 64 << 10}
		s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		o := s.Wrap("o", so, testPolicy)
		ctx := context.Background()
		so.failAt0.Store(true)
		if _, err := o.Get(ctx, "k", origin.GetOptions{}); !errors.Is(err, origin.ErrUnavailable) {
			t.Fatalf("body failing before its first byte: %v, want unavailable", err)
		}
		so.failAt0.Store(false)
		so.failAfter.Store(1 << 20)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				obj, err := o.Get(ctx, "k", origin.GetOptions{})
				if err != nil {
					t.Errorf("Get: %v (the origin had sent bytes)", err)
					return
				}
				n, err := io.Copy(io.Discard, obj.Body)
				obj.Body.Close()
				if err == nil || n >= int64(len(so.body)) {
					t.Errorf("body failing after 1 MiB: %d bytes, err %v; want an error", n, err)
				}
			})
		}
		wg.Wait()
		so.failAfter.Store(0)
		gets := so.gets.Load()
		got, _, err := getAll(ctx, o, "k")
		if err != nil || !bytes.Equal(got, so.body) {
			t.Fatalf("after the failure: %d bytes, %v", len(got), err)
		}
		if so.gets.Load() == gets {
			t.Fatal("the failed slice was stored")
		}
	})
}

// A slice whose fetch fails after some of its bytes were sent is fetched once more
// (with If-Match, so the same version) and the body goes on where it was, whether the
// reader started the fetch or joined it: the download is cut only when that fetch fails
// too.
func TestMissStreamRefetchesFailedSliceOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		so := &slowOrigin{body: pattern(3 << 20), latency: 20 * time.Millisecond, pause: time.Millisecond, chunk: 64 << 10}
		so.failAfter.Store(1 << 20)
		so.failGets.Store(1)
		s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		o := s.Wrap("o", so, testPolicy)
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				obj, err := o.Get(context.Background(), "k", origin.GetOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				var got bytes.Buffer
				if i == 0 {
					_, err = obj.Body.(io.WriterTo).WriteTo(&got)
				} else {
					_, err = got.ReadFrom(obj.Body)
				}
				obj.Body.Close()
				if err != nil || !bytes.Equal(got.Bytes(), so.body) {
					t.Errorf("reader %d: %d bytes, %v", i, got.Len(), err)
				}
			})
		}
		wg.Wait()
		if n := so.gets.Load(); n != 2 {
			t.Errorf("%d origin GETs, want 2 (the failed one and one more, shared)", n)
		}
		if s.Stats.Retries.Load() == 0 {
			t.Error("no retry counted")
		}
	})
}

// BenchmarkMissStream reads a 16 MiB object that is never stored (TTL 0: every read is a
// miss) through an origin with 2 ms of latency per request, its 4 MiB slices sent in
// 256 KiB reads, with read-ahead 0 and 4; ttfb-ms is the mean time to the first byte.
//
//	go test -run '^$' -bench MissStream -benchmem ./internal/cache/
func BenchmarkMissStream(b *testing.B) {
	for _, ra := range []int{0, 4} {
		b.Run(fmt.Sprintf("read_ahead=%d", ra), func(b *testing.B) {
			so := &slowOrigin{body: pattern(16 << 20), latency: 2 * time.Millisecond, chunk: 256 << 10}
			s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 4 << 20})
			if err != nil {
				b.Fatal(err)
			}
			o := s.Wrap("o", so, Policy{TTLs: TTLs{}, ReadAhead: ra})
			b.SetBytes(int64(len(so.body)))
			b.ReportAllocs()
			var first time.Duration
			one := make([]byte, 1)
			for b.Loop() {
				start := time.Now()
				obj, err := o.Get(context.Background(), "k", origin.GetOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(obj.Body, one); err != nil {
					b.Fatal(err)
				}
				first += time.Since(start)
				n, err := io.Copy(sink{}, obj.Body)
				obj.Body.Close()
				if err != nil || n != int64(len(so.body))-1 {
					b.Fatalf("%d bytes, %v", n, err)
				}
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ttfb-ms")
		})
	}
}

// TestRegression_RefetchJoinedFailedFill: a failed fill stayed in Store.fills for a
// moment after it woke its readers, and a reader refetching the slice could join it
// again, get its error at once and cut the response with its one refetch spent (the
// review saw 2 of 300 downloads cut). A failed fill is never joined now, and it leaves
// fills before its readers wake.
func TestRegression_RefetchJoinedFailedFill(t *testing.T) {
	so := &slowOrigin{body: pattern(1 << 20), chunk: 64 << 10}
	s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	o := s.Wrap("o", so, testPolicy)
	base := baseKey("o", "k", "")
	m := &meta{Info: so.info(), Stored: time.Now(), TTL: time.Hour}
	k := s.sliceKey(base, m.Info.ETag, 0)
	failed := newFill(1 << 20)
	failed.update(10, errors.New("connection reset by origin"))
	s.fills.Store(k, failed) // the window between the failure and its removal
	sp, err := o.slice(context.Background(), base, "k", m, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	_, err = sp.writeTo(context.Background(), &got)
	if err != nil || !bytes.Equal(got.Bytes(), so.body) || so.gets.Load() != 1 {
		t.Fatalf("slice read %d bytes, %v, after %d origin GETs: want the whole slice from a new GET", got.Len(), err, so.gets.Load())
	}
}
