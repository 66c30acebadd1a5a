package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// originTimeout is the fake origin's timeout: a call that hangs fails with ErrTimeout
// after it, as s3origin's calls do after the configured timeout.
const originTimeout = 30 * time.Second

// faultOrigin is a memOrigin whose calls can be made to hang or fail. gate, when set,
// runs before each call with the operation ("GET" or "HEAD") and the range's first byte
// (-1 for none); it may block, and an error it returns is the call's answer. The tests
// run in a testing/synctest bubble, so waiting out originTimeout costs no real time.
type faultOrigin struct {
	*memOrigin
	mu    sync.Mutex
	gate  func(op string, first int64) error
	calls atomic.Int64
}

func (f *faultOrigin) setGate(g func(op string, first int64) error) {
	f.mu.Lock()
	f.gate = g
	f.mu.Unlock()
}

func (f *faultOrigin) pass(op string, first int64) error {
	f.calls.Add(1)
	f.mu.Lock()
	g := f.gate
	f.mu.Unlock()
	if g == nil {
		return nil
	}
	return g(op, first)
}

func (f *faultOrigin) Head(ctx context.Context, key string, opt origin.HeadOptions) (origin.Info, error) {
	if err := f.pass("HEAD", -1); err != nil {
		return origin.Info{}, err
	}
	return f.memOrigin.Head(ctx, key, opt)
}

func (f *faultOrigin) Get(ctx context.Context, key string, opt origin.GetOptions) (*origin.Object, error) {
	first := int64(-1)
	if opt.Range != nil {
		first = opt.Range.First
	}
	if err := f.pass("GET", first); err != nil {
		return nil, err
	}
	return f.memOrigin.Get(ctx, key, opt)
}

// hang is a gate answer: the call hangs until release is closed (then proceeds) or the
// origin's timeout passes (then fails with ErrTimeout).
func hang(release <-chan struct{}) error {
	select {
	case <-release:
		return nil
	case <-time.After(originTimeout):
		return origin.Timeout(errors.New("no response headers"))
	}
}

// getAll reads the whole object at key through o, and reports how o served it.
func getAll(ctx context.Context, o *Origin, key string) ([]byte, origin.Served, error) {
	var served origin.Served
	obj, err := o.Get(ctx, key, origin.GetOptions{HeadOptions: origin.HeadOptions{Served: &served}})
	if err != nil {
		return nil, origin.Served{}, err
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	return b, served, err
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i / 7)
	}
	return b
}

// A request that joins an in-flight fetch which then fails (the fetch hung on its
// connection until the origin timeout, while the origin answered others) fetches again
// itself instead of failing, whether it joined the object's first fetch or a read-ahead
// slice fetch; the request that started the hanging read-ahead recovers the same way.
// A definitive answer (404) is not fetched again, and a waiter does not inherit the
// leader's cancellation.
func TestRegression_JoinedFetchInheritsFailure(t *testing.T) {
	t.Run("first fetch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fo := &faultOrigin{memOrigin: newMemOrigin()}
			body := pattern(3<<20 + 10)
			fo.put("obj", body, "")
			var once sync.Once
			fo.setGate(func(op string, first int64) error {
				var err error
				once.Do(func() { err = hang(nil) }) // the first call hangs, the others are answered
				return err
			})
			s := testStore(t)
			o := s.Wrap("o", fo, testPolicy)
			ctx := context.Background()
			errA := make(chan error, 1)
			go func() { _, _, err := getAll(ctx, o, "obj"); errA <- err }()
			synctest.Wait() // A's fetch hangs
			start := time.Now()
			got, served, err := getAll(ctx, o, "obj") // B joins it
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("joined request: %d bytes, err %v; want the object", len(got), err)
			}
			if d := time.Since(start); d != originTimeout {
				t.Errorf("joined request took %s, want the one timeout it joined (%s)", d, originTimeout)
			}
			if served.Status != origin.CacheMiss {
				t.Errorf("status %q", served.Status)
			}
			if err := <-errA; !errors.Is(err, origin.ErrTimeout) {
				t.Errorf("the hanging request's own fetch: %v, want ErrTimeout", err)
			}
			if s.Stats.Retries.Load() != 1 || s.Stats.Collapses.Load() != 1 {
				t.Errorf("retries %d, collapses %d; want 1 and 1", s.Stats.Retries.Load(), s.Stats.Collapses.Load())
			}
		})
	})

	t.Run("read-ahead slice", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fo := &faultOrigin{memOrigin: newMemOrigin()}
			body := pattern(8 << 20)
			fo.put("big", body, "")
			var once sync.Once
			hanging := make(chan struct{})
			fo.setGate(func(op string, first int64) error {
				var err error
				if first == 3<<20 {
					once.Do(func() { close(hanging); err = hang(nil) })
				}
				return err
			})
			p := testPolicy
			p.ReadAhead = 4
			s := testStore(t)
			o := s.Wrap("o", fo, p)
			ctx := context.Background()
			// A reads slices 0-2, its read-ahead of slice 3 hangs.
			objA, err := o.Get(ctx, "big", origin.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer objA.Body.Close()
			gotA := make([]byte, 3<<20)
			if _, err := io.ReadFull(objA.Body, gotA); err != nil {
				t.Fatal(err)
			}
			<-hanging
			// B starts right after: slices 0-2 and 4-7 are stored or being fetched;
			// slice 3 is joined.
			start := time.Now()
			gotB, _, err := getAll(ctx, o, "big")
			if err != nil || !bytes.Equal(gotB, body) {
				t.Fatalf("new download: %d bytes, err %v; want all %d", len(gotB), err, len(body))
			}
			if d := time.Since(start); d > originTimeout {
				t.Errorf("new download took %s, want at most the timeout it joined (%s)", d, originTimeout)
			}
			rest, err := io.ReadAll(objA.Body)
			if err != nil || !bytes.Equal(append(gotA, rest...), body) {
				t.Fatalf("the download whose read-ahead hung: %d bytes, err %v", len(gotA)+len(rest), err)
			}
			if n := s.Stats.Retries.Load(); n != 2 {
				t.Errorf("retries %d, want 2 (the joiner and the reader whose read-ahead hung)", n)
			}
		})
	})

	t.Run("definitive answer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fo := &faultOrigin{memOrigin: newMemOrigin()}
			release := make(chan struct{})
			fo.setGate(func(string, int64) error { return hang(release) })
			o := testStore(t).Wrap("o", fo, testPolicy)
			ctx := context.Background()
			errA := make(chan error, 1)
			go func() { _, _, err := getAll(ctx, o, "missing"); errA <- err }()
			synctest.Wait()
			errB := make(chan error, 1)
			go func() { _, _, err := getAll(ctx, o, "missing"); errB <- err }()
			synctest.Wait()
			close(release)
			for _, ch := range []chan error{errA, errB} {
				if err := <-ch; !errors.Is(err, origin.ErrNotFound) {
					t.Errorf("got %v, want ErrNotFound", err)
				}
			}
			if n := fo.calls.Load(); n != 1 {
				t.Errorf("%d origin calls, want 1: a 404 is an answer, not retried", n)
			}
		})
	})

	t.Run("leader cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fo := &faultOrigin{memOrigin: newMemOrigin()}
			body := pattern(1000)
			fo.put("obj", body, "")
			release := make(chan struct{})
			fo.setGate(func(string, int64) error { return hang(release) })
			o := testStore(t).Wrap("o", fo, testPolicy)
			ctxA, cancelA := context.WithCancel(context.Background())
			errA := make(chan error, 1)
			go func() { _, _, err := getAll(ctxA, o, "obj"); errA <- err }()
			synctest.Wait()
			type result struct {
				b   []byte
				err error
			}
			resB := make(chan result, 1)
			go func() { b, _, err := getAll(context.Background(), o, "obj"); resB <- result{b, err} }()
			synctest.Wait()
			cancelA()
			if err := <-errA; !errors.Is(err, context.Canceled) {
				t.Errorf("leader: %v, want its own cancellation", err)
			}
			close(release)
			if r := <-resB; r.err != nil || !bytes.Equal(r.b, body) {
				t.Errorf("waiter after the leader left: %d bytes, err %v", len(r.b), r.err)
			}
		})
	})
}

// During an outage, only the first request for a stale copy waits for the origin (its
// timeout); for the breaker's interval after that failure every request with a stale
// copy gets it at once, while one background probe at a time revalidates with the
// origin. A successful probe closes the breaker and refreshes the entry. A request with
// nothing stale to serve still asks the origin.
func TestRegression_OutageWaitsTimeoutPerRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fo := &faultOrigin{memOrigin: newMemOrigin()}
		body := pattern(1500)
		fo.put("a", body, "")
		fo.put("b", body, "")
		p := Policy{TTLs: TTLs{Default: time.Minute, Max: time.Hour}, StaleIfError: time.Hour, Breaker: 5 * time.Second}
		s := testStore(t)
		o := s.Wrap("o", fo, p)
		other := s.Wrap("o", fo, p) // another route on the same origin shares its breaker
		ctx := context.Background()
		for _, k := range []string{"a", "b"} {
			if _, _, err := getAll(ctx, o, k); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Minute) // both entries are stale

		// The origin hangs on every call.
		release := make(chan struct{})
		var hung atomic.Int64
		fo.setGate(func(string, int64) error { hung.Add(1); return hang(release) })

		start := time.Now()
		got, served, err := getAll(ctx, o, "a")
		if err != nil || !bytes.Equal(got, body) || !served.Stale || served.Status != origin.CacheHit {
			t.Fatalf("first request of the outage: err %v, stale %v, status %q", err, served.Stale, served.Status)
		}
		if d := time.Since(start); d != originTimeout {
			t.Errorf("first request took %s, want the origin timeout", d)
		}
		// The breaker is open: the next requests, for either object, through either
		// route, get their stale copy at once; one probe is started.
		for i, oo := range []*Origin{o, other, o, other, o} {
			start := time.Now()
			got, served, err := getAll(ctx, oo, []string{"a", "b"}[i%2])
			if err != nil || !bytes.Equal(got, body) || !served.Stale || served.Age < 2*time.Minute {
				t.Fatalf("request %d while open: err %v, stale %v, age %s", i, err, served.Stale, served.Age)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("request %d waited %s with the breaker open", i, d)
			}
		}
		synctest.Wait()
		if n := hung.Load(); n != 2 {
			t.Errorf("%d origin calls, want 2 (the first request's and one probe)", n)
		}
		if n := s.Stats.BreakerServes.Load(); n != 5 {
			t.Errorf("breaker_serves %d, want 5", n)
		}
		// A request with no stale copy still goes to the origin.
		errMiss := make(chan error, 1)
		go func() { _, _, err := getAll(ctx, o, "never-fetched"); errMiss <- err }()
		// The probe times out; the breaker stays open for another interval after it.
		time.Sleep(originTimeout + time.Second)
		if err := <-errMiss; !errors.Is(err, origin.ErrTimeout) {
			t.Errorf("a miss during the outage: %v, want the origin's timeout", err)
		}
		start = time.Now()
		if _, served, err := getAll(ctx, o, "a"); err != nil || !served.Stale || time.Since(start) != 0 {
			t.Fatalf("after the failed probe: err %v, stale %v, waited %s", err, served.Stale, time.Since(start))
		}
		synctest.Wait() // that request started the next probe

		// The origin recovers: the running probe succeeds, the breaker closes, and the
		// probed entry is fresh again.
		close(release)
		fo.setGate(nil)
		synctest.Wait()
		if _, served, err := getAll(ctx, o, "a"); err != nil || served.Stale || served.Status != origin.CacheHit {
			t.Fatalf("after the origin recovered: err %v, stale %v, status %q; want a fresh hit", err, served.Stale, served.Status)
		}
		if _, served, err := getAll(ctx, o, "b"); err != nil || served.Stale || served.Status != origin.CacheRefreshHit {
			t.Fatalf("closed breaker: err %v, stale %v, status %q; want a revalidation", err, served.Stale, served.Status)
		}
	})
}

// With the breaker off (0), every request of an outage asks the origin and waits for its
// answer: stale copies are served only after the origin failed for that request.
func TestOriginBreakerOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fo := &faultOrigin{memOrigin: newMemOrigin()}
		fo.put("a", pattern(10), "")
		o := testStore(t).Wrap("o", fo, Policy{TTLs: TTLs{Default: time.Minute, Max: time.Hour}, StaleIfError: time.Hour})
		ctx := context.Background()
		if _, _, err := getAll(ctx, o, "a"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		fo.setGate(func(string, int64) error { return hang(nil) })
		for i := range 3 {
			start := time.Now()
			if _, served, err := getAll(ctx, o, "a"); err != nil || !served.Stale || time.Since(start) != originTimeout {
				t.Fatalf("request %d: err %v, stale %v, waited %s", i, err, served.Stale, time.Since(start))
			}
		}
	})
}

// A stale copy past its stale-if-error window is not served with the breaker open: the
// request asks the origin.
func TestOriginBreakerRespectsStaleWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fo := &faultOrigin{memOrigin: newMemOrigin()}
		fo.put("a", pattern(10), "")
		fo.put("b", pattern(10), "")
		p := Policy{TTLs: TTLs{Default: time.Minute, Max: time.Hour}, StaleIfError: time.Hour, Breaker: 5 * time.Second}
		s := testStore(t)
		o := s.Wrap("o", fo, p)
		short := p
		short.StaleIfError = time.Minute
		oShort := s.Wrap("o", fo, short)
		ctx := context.Background()
		for _, k := range []string{"a", "b"} {
			if _, _, err := getAll(ctx, o, k); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(3 * time.Minute)
		fo.setGate(func(string, int64) error { return origin.Unavailable(errors.New("connection refused")) })
		if _, served, err := getAll(ctx, o, "a"); err != nil || !served.Stale {
			t.Fatalf("inside the window: err %v, stale %v", err, served.Stale)
		}
		before := fo.calls.Load()
		if _, _, err := getAll(ctx, oShort, "b"); !errors.Is(err, origin.ErrUnavailable) {
			t.Fatalf("past the window: %v, want the origin's error", err)
		}
		if fo.calls.Load() == before {
			t.Error("past the window, the request did not ask the origin")
		}
		synctest.Wait()
	})
}
