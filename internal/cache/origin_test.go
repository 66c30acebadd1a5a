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

// memOrigin is an in-memory origin that honours Range and preconditions, counts GETs
// and can change an object after a number of GETs (to test version mixing).
type memOrigin struct {
	mu      sync.Mutex
	objs    map[string]origin.Info
	bodies  map[string][]byte
	gets    atomic.Int64
	onGet   func(n int64) // called after each GET is answered
	version int
	// delay makes each GET take that long (set only inside a synctest bubble, where the
	// sleep costs no real time); inflight and maxInflight count concurrent GETs.
	delay                 time.Duration
	inflight, maxInflight atomic.Int64
}

func newMemOrigin() *memOrigin {
	return &memOrigin{objs: map[string]origin.Info{}, bodies: map[string][]byte{}}
}

func (m *memOrigin) put(key string, body []byte, cacheControl string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	m.objs[key] = origin.Info{Size: int64(len(body)), ETag: fmt.Sprintf(`"v%d"`, m.version), CacheControl: cacheControl,
		LastModified: time.Now().Truncate(time.Second), ContentType: "application/octet-stream"}
	m.bodies[key] = body
}

func (m *memOrigin) Probe(context.Context) error { return nil }

func (m *memOrigin) Head(_ context.Context, key string, opt origin.HeadOptions) (origin.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	info, ok := m.objs[key]
	if !ok {
		return origin.Info{}, origin.NotFound(key)
	}
	return info, opt.Cond.Evaluate(info)
}

func (m *memOrigin) Get(_ context.Context, key string, opt origin.GetOptions) (*origin.Object, error) {
	m.mu.Lock()
	info, ok := m.objs[key]
	body := m.bodies[key]
	m.mu.Unlock()
	cur := m.inflight.Add(1)
	for old := m.maxInflight.Load(); cur > old && !m.maxInflight.CompareAndSwap(old, cur); old = m.maxInflight.Load() {
	}
	time.Sleep(m.delay)
	m.inflight.Add(-1)
	n := m.gets.Add(1)
	if m.onGet != nil {
		defer m.onGet(n)
	}
	if !ok {
		return nil, origin.NotFound(key)
	}
	if err := opt.Cond.Evaluate(info); err != nil {
		return nil, err
	}
	obj := &origin.Object{Info: info}
	if opt.Range != nil {
		r, ok := opt.Range.Resolve(info.Size)
		if !ok {
			return nil, &origin.RangeError{Size: info.Size}
		}
		obj.Range = &r
		body = body[r.Start : r.End+1]
	}
	obj.Body = io.NopCloser(bytes.NewReader(body))
	return obj, nil
}

func testStore(t testing.TB) *Store {
	s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testPolicy = Policy{TTLs: TTLs{Default: time.Hour, Min: 0, Max: 24 * time.Hour}}

func readAll(t *testing.T, o *Origin, key string, r *origin.ByteRange) ([]byte, error) {
	t.Helper()
	obj, err := o.Get(context.Background(), key, origin.GetOptions{Range: r})
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	return io.ReadAll(obj.Body)
}

// Slices of two versions of an object must never be assembled into one response.
func TestSlicesOfDifferentVersionsAreNeverMixed(t *testing.T) {
	mo := newMemOrigin()
	v1 := bytes.Repeat([]byte{'1'}, 3<<20+5)
	v2 := bytes.Repeat([]byte{'2'}, 3<<20+5)
	mo.put("obj", v1, "")
	// The object changes right after the first slice has been fetched.
	mo.onGet = func(n int64) {
		if n == 1 {
			mo.put("obj", v2, "")
		}
	}
	o := testStore(t).Wrap("o", mo, testPolicy)
	body, err := readAll(t, o, "obj", nil)
	if err == nil {
		t.Fatalf("read %d bytes of a changing object without error", len(body))
	}
	if !bytes.Equal(body, v1[:len(body)]) {
		t.Fatal("bytes of two versions were mixed")
	}
	// The next request starts over and sees version 2 only.
	mo.onGet = nil
	body, err = readAll(t, o, "obj", nil)
	if err != nil || !bytes.Equal(body, v2) {
		t.Fatalf("after the change: %d bytes, err %v", len(body), err)
	}
}

func TestRangeFetchesOnlyNeededSlices(t *testing.T) {
	mo := newMemOrigin()
	big := make([]byte, 20<<20)
	for i := range big {
		big[i] = byte(i / 7)
	}
	mo.put("big", big, "")
	s := testStore(t)
	o := s.Wrap("o", mo, testPolicy)
	got, err := readAll(t, o, "big", &origin.ByteRange{First: 10<<20 - 10, Last: 10<<20 + 10})
	if err != nil || !bytes.Equal(got, big[10<<20-10:10<<20+11]) {
		t.Fatalf("range: %d bytes, err %v", len(got), err)
	}
	if n, b := mo.gets.Load(), s.Stats.OriginBytes.Load(); n != 2 || b != 2<<20 {
		t.Fatalf("origin GETs %d, bytes %d; want 2 slices", n, b)
	}
	got, err = readAll(t, o, "big", nil)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("whole: %d bytes, err %v", len(got), err)
	}
	if n := mo.gets.Load(); n != 20 {
		t.Fatalf("origin GETs %d, want 20 (one per slice)", n)
	}
	if _, err := readAll(t, o, "big", &origin.ByteRange{First: 30 << 20, Last: -1}); !errors.Is(err, origin.ErrRangeNotSatisfiable) {
		t.Fatalf("range past the end: %v", err)
	}
}

// writeCounter counts the Write calls a body makes.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// The gateway writes cached bodies with WriteTo when Len is the whole body: it must give
// exactly what Read gives, one Write per slice, and stop on a version change as Read does.
func TestReaderWriteTo(t *testing.T) {
	mo := newMemOrigin()
	big := make([]byte, 3<<20+500)
	for i := range big {
		big[i] = byte(i / 3)
	}
	mo.put("big", big, "")
	o := testStore(t).Wrap("o", mo, testPolicy)
	for _, tc := range []struct {
		r      *origin.ByteRange
		want   []byte
		writes int
	}{
		{nil, big, 4},
		{&origin.ByteRange{First: 0, Last: 0}, big[:1], 1},
		{&origin.ByteRange{First: 1<<20 - 1, Last: 1 << 20}, big[1<<20-1 : 1<<20+1], 2},
		{&origin.ByteRange{First: 100, Last: 3<<20 + 10}, big[100 : 3<<20+11], 4},
		{&origin.ByteRange{First: 3 << 20, Last: -1}, big[3<<20:], 1},
	} {
		obj, err := o.Get(context.Background(), "big", origin.GetOptions{Range: tc.r})
		if err != nil {
			t.Fatal(err)
		}
		b, ok := obj.Body.(interface {
			io.WriterTo
			Len() int
		})
		if !ok {
			t.Fatal("the cache's body has no WriteTo and Len")
		}
		if b.Len() != len(tc.want) {
			t.Errorf("%v: Len %d, want %d", tc.r, b.Len(), len(tc.want))
		}
		var w writeCounter
		n, err := b.WriteTo(&w)
		if err != nil || n != int64(len(tc.want)) || !bytes.Equal(w.Bytes(), tc.want) {
			t.Errorf("%v: wrote %d bytes (err %v), equal %v", tc.r, n, err, bytes.Equal(w.Bytes(), tc.want))
		}
		if w.writes != tc.writes || b.Len() != 0 {
			t.Errorf("%v: %d writes (want %d), Len after %d", tc.r, w.writes, tc.writes, b.Len())
		}
		obj.Body.Close()
	}

	// A version change between slices ends WriteTo with an error after version 1's bytes.
	mo2 := newMemOrigin()
	v1, v2 := bytes.Repeat([]byte{'1'}, 2<<20+5), bytes.Repeat([]byte{'2'}, 2<<20+5)
	mo2.put("obj", v1, "")
	mo2.onGet = func(n int64) {
		if n == 1 {
			mo2.put("obj", v2, "")
		}
	}
	obj, err := testStore(t).Wrap("o", mo2, testPolicy).Get(context.Background(), "obj", origin.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	n, err := obj.Body.(io.WriterTo).WriteTo(&w)
	if err == nil || n != 1<<20 || !bytes.Equal(w.Bytes(), v1[:n]) {
		t.Fatalf("changing object: wrote %d bytes, err %v", n, err)
	}
}

// With read-ahead, a reader fetches the next slices concurrently, each exactly once,
// never past its range, still never mixing versions, and also when nothing is stored.
func TestReadAhead(t *testing.T) {
	big := make([]byte, 20<<20)
	for i := range big {
		big[i] = byte(i / 11)
	}
	ahead := testPolicy
	ahead.ReadAhead = 4
	for _, pol := range []Policy{ahead, {ReadAhead: 4}} { // stored, then TTL 0 (not stored)
		// Each GET takes 5ms so that fetches overlap; in a synctest bubble that costs
		// no real time.
		synctest.Test(t, func(t *testing.T) {
			mo := newMemOrigin()
			mo.delay = 5 * time.Millisecond
			mo.put("big", big, "")
			o := testStore(t).Wrap("o", mo, pol)
			got, err := readAll(t, o, "big", nil)
			if err != nil || !bytes.Equal(got, big) {
				t.Fatalf("TTL %v: %d bytes, err %v", pol.Default, len(got), err)
			}
			if n, m := mo.gets.Load(), mo.maxInflight.Load(); n != 20 || m < 2 || m > 4 {
				t.Errorf("TTL %v: %d origin GETs (want 20, one per slice), at most %d at once (want 2 to 4)", pol.Default, n, m)
			}
		})
	}

	mo := newMemOrigin()
	mo.put("big", big, "")
	o := testStore(t).Wrap("o", mo, ahead)
	got, err := readAll(t, o, "big", &origin.ByteRange{First: 3<<20 + 5, Last: 5<<20 + 5})
	if err != nil || !bytes.Equal(got, big[3<<20+5:5<<20+6]) {
		t.Fatalf("range: %d bytes, err %v", len(got), err)
	}
	if n := mo.gets.Load(); n != 3 {
		t.Errorf("range over 3 slices: %d origin GETs", n)
	}

	v1, v2 := bytes.Repeat([]byte{'1'}, 6<<20), bytes.Repeat([]byte{'2'}, 6<<20)
	mo = newMemOrigin()
	mo.put("obj", v1, "")
	mo.onGet = func(n int64) {
		if n == 1 {
			mo.put("obj", v2, "")
		}
	}
	got, err = readAll(t, testStore(t).Wrap("o", mo, ahead), "obj", nil)
	if err == nil || !bytes.Equal(got, v1[:len(got)]) {
		t.Fatalf("changing object: %d bytes, err %v (want an error, and only version 1's bytes)", len(got), err)
	}
}

func TestEmptyObjectAndNotFound(t *testing.T) {
	mo := newMemOrigin()
	mo.put("empty", nil, "")
	o := testStore(t).Wrap("o", mo, testPolicy)
	for range 2 {
		got, err := readAll(t, o, "empty", nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("empty: %q %v", got, err)
		}
	}
	if _, err := readAll(t, o, "missing", nil); !errors.Is(err, origin.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func BenchmarkMemoryHit(b *testing.B) {
	mo := newMemOrigin()
	mo.put("small", bytes.Repeat([]byte("x"), 4096), "")
	o := testStore(b).Wrap("o", mo, testPolicy)
	ctx := context.Background()
	buf := make([]byte, 8192)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		obj, err := o.Get(ctx, "small", origin.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := obj.Body.Read(buf); err != nil {
				break
			}
		}
		obj.Body.Close()
	}
	if mo.gets.Load() != 1 {
		b.Fatalf("origin GETs %d", mo.gets.Load())
	}
}
