package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdingProxy sits between gatehouse and MinIO. A request that hold picks is held
// without an answer, as on a connection that hung, until release is called (then
// forwarded) or gatehouse gives up on it (the origin timeout closes the connection).
type holdingProxy struct {
	*httptest.Server
	mu      sync.Mutex
	hold    func(r *http.Request) bool
	release chan struct{}
	held    chan string // receives "METHOD Range" of each request as it is held
}

func newHoldingProxy(t *testing.T) *holdingProxy {
	t.Helper()
	target, _ := url.Parse(minio.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	hp := &holdingProxy{release: make(chan struct{}), held: make(chan string, 100)}
	hp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hp.mu.Lock()
		hold, release := hp.hold != nil && hp.hold(r), hp.release
		hp.mu.Unlock()
		if hold {
			hp.held <- r.Method + " " + r.Header.Get("Range")
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(hp.Close)
	t.Cleanup(hp.releaseAll)
	return hp
}

func (hp *holdingProxy) setHold(f func(r *http.Request) bool) {
	hp.mu.Lock()
	hp.hold = f
	hp.mu.Unlock()
}

// releaseAll forwards every held request and stops holding new ones.
func (hp *holdingProxy) releaseAll() {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.hold = nil
	select {
	case <-hp.release:
	default:
		close(hp.release)
	}
}

// outageGateway serves /c/* from bucket assets through hp, with a 1 s origin timeout.
func outageGateway(t *testing.T, hp *holdingProxy, routeCache, topCache string) *gw {
	t.Helper()
	return startGateway(t, fmt.Sprintf(`
cache: %s
origins:
  assets:
    s3: {bucket: assets, endpoint: %q, path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}", max_attempts: 1}
    timeout: 1s
routes:
  - path: /c/*
    origin: assets
    strip_prefix: /c
    public: true
    cache: %s
`, topCache, hp.URL, routeCache), map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})
}

// A read-ahead slice fetch that hangs on its connection while the origin answers others
// must not cut a download started right after, which joins that fetch: once the fetch
// fails at the origin timeout, the download fetches the slice itself. The download whose
// read-ahead hung recovers the same way.
func TestRegression_JoinedFetchInheritsFailure(t *testing.T) {
	needMinIO(t)
	const size = 8 << 20
	var b strings.Builder
	for i := range size / 16 {
		fmt.Fprintf(&b, "%015d\n", i)
	}
	object := b.String()
	putObject(t, "assets", "cache/outage/joined.bin", object, nil)
	hp := newHoldingProxy(t)
	slice3 := fmt.Sprintf("bytes=%d-", 3<<20)
	var once sync.Once
	hp.setHold(func(r *http.Request) bool {
		hold := false
		if r.Method == "GET" && strings.HasPrefix(r.Header.Get("Range"), slice3) {
			once.Do(func() { hold = true })
		}
		return hold
	})
	g := outageGateway(t, hp, "{policy: optimized}", "{memory: {max_size: 64MiB}, slice_size: 1MiB, read_ahead: 4}")

	respA, err := http.Get(g.URL + "/c/cache/outage/joined.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer respA.Body.Close()
	gotA := make([]byte, 3<<20)
	if _, err := io.ReadFull(respA.Body, gotA); err != nil {
		t.Fatal(err)
	}
	<-hp.held // A's read-ahead of slice 3 hangs

	start := time.Now()
	respB, err := http.Get(g.URL + "/c/cache/outage/joined.bin")
	if err != nil {
		t.Fatal(err)
	}
	gotB, err := io.ReadAll(respB.Body)
	respB.Body.Close()
	if respB.StatusCode != 200 || err != nil || string(gotB) != object {
		t.Fatalf("download started after the hang: status %d, %d of %d bytes, err %v", respB.StatusCode, len(gotB), size, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the download took %s; the fetch it joined timed out after 1s", d)
	}
	rest, err := io.ReadAll(respA.Body)
	if err != nil || string(gotA)+string(rest) != object {
		t.Fatalf("the download whose read-ahead hung: %d of %d bytes, err %v", len(gotA)+len(rest), size, err)
	}
	if n := g.state.Cache().Stats.Retries.Load(); n < 1 {
		t.Errorf("retries %d: the hung fetch was never retried, so the test tested nothing", n)
	}
}

// cacheClock is a settable clock for a gateway's cache (cache.Store.SetClock): entries
// go stale and breakers stay open on it, while the origin's timeout runs on the real
// clock.
type cacheClock struct {
	mu sync.Mutex
	t  time.Time
}

func newCacheClock(g *gw) *cacheClock {
	c := &cacheClock{t: time.Now()}
	g.state.Cache().SetClock(c.now)
	return c
}

func (c *cacheClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *cacheClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// During an outage only the first request for a stale copy waits for the origin's
// timeout; the next ones get their stale copy at once while the breaker is open, and
// once the origin answers again the breaker closes. The cache runs on a settable clock
// (it stands still while the origin hangs, so the breaker cannot close on its own), and
// what is asserted is which path served each request (breaker_serves), not how long it
// took; only the origin's 1s timeout is real.
func TestRegression_OutageWaitsTimeoutPerRequest(t *testing.T) {
	needMinIO(t)
	putObject(t, "assets", "cache/outage/a.txt", "object a", nil)
	putObject(t, "assets", "cache/outage/b.txt", "object b", nil)
	hp := newHoldingProxy(t)
	g := outageGateway(t, hp, "{policy: custom, default_ttl: 1m, max_ttl: 1m, stale_if_error: 1h}",
		"{memory: {max_size: 64MiB}, slice_size: 1MiB, origin_breaker: 5s}")
	clock := newCacheClock(g)
	for _, k := range []string{"a", "b"} {
		resp, _ := g.do(t, "GET", "/c/cache/outage/"+k+".txt")
		wantStatus(t, resp, 200)
	}
	clock.advance(2 * time.Minute)                       // both copies are stale
	hp.setHold(func(*http.Request) bool { return true }) // the origin hangs

	start := time.Now()
	resp, body := g.do(t, "GET", "/c/cache/outage/a.txt")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "Warning", `110 - "Response is Stale"`)
	if d := time.Since(start); body != "object a" || d < time.Second {
		t.Fatalf("first request of the outage: %q after %s; want the stale copy after the 1s origin timeout", body, d)
	}
	if n := g.state.Cache().Stats.BreakerServes.Load(); n != 0 {
		t.Fatalf("breaker_serves %d before the breaker opened", n)
	}
	start = time.Now()
	for i := range 6 {
		k := []string{"a", "b"}[i%2]
		resp, body := g.do(t, "GET", "/c/cache/outage/"+k+".txt")
		wantStatus(t, resp, 200)
		wantHeader(t, resp, "Warning", `110 - "Response is Stale"`)
		wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
		if resp.Header.Get("Age") == "" || body != "object "+k {
			t.Errorf("request %d: body %q, Age %q", i, body, resp.Header.Get("Age"))
		}
	}
	// Each was served by the open breaker, which never waits for the origin (without
	// it each would have waited the 1s timeout: 6s together, a bound no load reaches).
	if n := g.state.Cache().Stats.BreakerServes.Load(); n != 6 {
		t.Errorf("breaker_serves %d, want 6", n)
	}
	if d := time.Since(start); d >= 6*time.Second {
		t.Errorf("the six requests took %s with the breaker open", d)
	}

	// The origin answers again: a probe held during the outage goes through, or (the
	// breaker's interval over) the next request revalidates; either closes the breaker
	// and requests are answered from a revalidated copy.
	hp.releaseAll()
	clock.advance(6 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := g.do(t, "GET", "/c/cache/outage/b.txt")
		wantStatus(t, resp, 200)
		if resp.Header.Get("Warning") == "" {
			if x := resp.Header.Get("X-Cache"); body != "object b" || (x != "RefreshHit from gatehouse" && x != "Hit from gatehouse") {
				t.Fatalf("after the outage: %q, X-Cache %q", body, x)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stale copies still served 10s after the origin recovered")
		}
	}
}
