package gateway_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
)

// rateLimitConfig serves a folder (with hello.txt and errors/429.html) on /open/* (public,
// limited by rl) and /users/* (alice by Basic, limited by users). Forwarding headers are
// believed from loopback, so requests can come from several client addresses.
func rateLimitConfig(t *testing.T, rl, users string) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"hello.txt": "hello", "errors/429.html": "<p>slow down</p>"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	yml := `
server:
  trusted_proxies: [127.0.0.1/32, "::1/128"]
origins:
  files: {dir: {root: "${DIR}"}}
routes:
  - name: open
    path: /open/*
    origin: files
    strip_prefix: /open
    public: true
    rate_limit: ` + rl + `
  - name: users
    path: /users/*
    origin: files
    strip_prefix: /users
    auth: {methods: [{basic: {users: {alice: "` + aliceFastHash + `"}, max_failures: 1000}}]}
    rate_limit: ` + users + `
    error_pages:
      429: {page: errors/429.html}
`
	return yml, map[string]string{"DIR": dir}
}

const (
	aliceGood  = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
	aliceWrong = "Authorization: Basic YWxpY2U6bm9wZQ=="         // alice:nope
)

// statuses sends n GETs of path with headers and returns their statuses.
func statuses(t *testing.T, g *gw, n int, path string, headers ...string) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		resp, _ := g.do(t, "GET", path, headers...)
		out[i] = resp.StatusCode
	}
	return out
}

func wantStatuses(t *testing.T, got []int, want ...int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
}

// TestRateLimitByClient: a client over the limit gets 429 with Retry-After and the
// RateLimit fields; another client is counted apart; the access log says why without the
// key; the metric counts the refusal.
func TestRateLimitByClient(t *testing.T) {
	yml, env := rateLimitConfig(t, "{requests: 3, per: 1h}", "{requests: 100, per: 1h}")
	g := startGateway(t, yml, env)
	m := metrics.New()
	g.Config.Handler.(*gateway.Handler).Instrument(m)
	a, b := "X-Forwarded-For: 192.0.2.1", "X-Forwarded-For: 192.0.2.2"
	wantStatuses(t, statuses(t, g, 3, "/open/hello.txt", a), 200, 200, 200)
	resp, body := g.do(t, "GET", "/open/hello.txt", a)
	wantStatus(t, resp, http.StatusTooManyRequests)
	if body != "429 Too Many Requests\n" {
		t.Errorf("body %q", body)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 7200 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	wantHeader(t, resp, "RateLimit-Policy", `"default";q=3;w=3600`)
	wantHeader(t, resp, "RateLimit", `"default";r=0;t=`+resp.Header.Get("Retry-After"))
	wantHeader(t, resp, "Cache-Control", "no-store")
	// The same client on a /64 of IPv6 is one key; another address is another.
	wantStatuses(t, statuses(t, g, 2, "/open/hello.txt", b), 200, 200)
	wantStatuses(t, statuses(t, g, 4, "/open/hello.txt", "X-Forwarded-For: 2001:db8:1:2::1"), 200, 200, 200, 429)
	wantStatuses(t, statuses(t, g, 1, "/open/hello.txt", "X-Forwarded-For: 2001:db8:1:2:ffff::7"), 429)

	log := g.access.String()
	if !strings.Contains(log, `"status":429`) || !strings.Contains(log, `"decision":"deny","reason":"rate limited (by client)"`) {
		t.Errorf("access log lacks the rate-limited line:\n%s", log)
	}
	n := 0
	fams, _ := m.Registry().Gather()
	for _, f := range fams {
		if f.GetName() == "gatehouse_rate_limited_total" {
			for _, s := range f.GetMetric() {
				if s.GetLabel()[0].GetValue() == "open" {
					n = int(s.GetCounter().GetValue())
				}
			}
		}
	}
	if n != 3 {
		t.Errorf("gatehouse_rate_limited_total{route=open} = %d, want 3", n)
	}
}

// TestRateLimitCountsBeforePolicy: by client, failed credentials count too, and the
// client is then refused even with the right password (429 before the policy runs).
func TestRateLimitCountsBeforePolicy(t *testing.T) {
	yml, env := rateLimitConfig(t, "{requests: 3, per: 1h}", "{requests: 3, per: 1m, by: client}")
	g := startGateway(t, yml, env)
	c := "X-Forwarded-For: 198.51.100.1"
	wantStatuses(t, statuses(t, g, 3, "/users/hello.txt", c, aliceWrong), 401, 401, 401)
	resp, body := g.do(t, "GET", "/users/hello.txt", c, aliceGood)
	wantStatus(t, resp, http.StatusTooManyRequests)
	// The route's error page for 429 is sent, with the 429.
	if body != "<p>slow down</p>" {
		t.Errorf("error page body %q", body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("the error page lost Retry-After")
	}
}

// TestRateLimitByHeader: each API key is counted apart; requests without one by client
// address; the key never reaches the log.
func TestRateLimitByHeader(t *testing.T) {
	yml, env := rateLimitConfig(t, "{requests: 2, per: 1m, by: header, header: x-api-key}", "{requests: 100, per: 1h}")
	g := startGateway(t, yml, env)
	c := "X-Forwarded-For: 192.0.2.9"
	wantStatuses(t, statuses(t, g, 3, "/open/hello.txt", c, "X-Api-Key: sk_live_SECRET1"), 200, 200, 429)
	wantStatuses(t, statuses(t, g, 3, "/open/hello.txt", c, "X-Api-Key: sk_live_SECRET2"), 200, 200, 429)
	wantStatuses(t, statuses(t, g, 3, "/open/hello.txt", c), 200, 200, 429)
	wantStatuses(t, statuses(t, g, 1, "/open/hello.txt", "X-Forwarded-For: 192.0.2.10"), 200)
	log := g.access.String()
	if strings.Contains(log, "SECRET") {
		t.Error("the access log holds an API key")
	}
	if !strings.Contains(log, `"reason":"rate limited (by header)"`) || !strings.Contains(log, `"reason":"rate limited (by client)"`) {
		t.Errorf("access log reasons:\n%s", log)
	}
}

// TestRateLimitByIdentity: counted per user once the policy allows; denied requests do
// not count; the user's limit holds whichever address they come from.
func TestRateLimitByIdentity(t *testing.T) {
	yml, env := rateLimitConfig(t, "{requests: 3, per: 1h}", "{requests: 2, per: 1m, by: identity}")
	g := startGateway(t, yml, env)
	wantStatuses(t, statuses(t, g, 5, "/users/hello.txt", aliceWrong), 401, 401, 401, 401, 401)
	wantStatuses(t, statuses(t, g, 1, "/users/hello.txt", aliceGood, "X-Forwarded-For: 192.0.2.1"), 200)
	wantStatuses(t, statuses(t, g, 2, "/users/hello.txt", aliceGood, "X-Forwarded-For: 192.0.2.2"), 200, 429)
	if log := g.access.String(); !strings.Contains(log, `"reason":"rate limited (by identity)"`) || !strings.Contains(log, `"user":"alice"`) {
		t.Errorf("access log:\n%s", log)
	}
}

// TestRateLimitKeptAcrossReload: a reload that keeps a route's rate_limit keeps its
// counts (and the registry); one that changes it starts the route fresh.
func TestRateLimitKeptAcrossReload(t *testing.T) {
	yml, env := rateLimitConfig(t, "{requests: 2, per: 1h}", "{requests: 100, per: 1h}")
	parse := func(y string) *config.Config {
		cfg, err := config.Parse("test.yaml", []byte(y), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	ctx := context.Background()
	st, err := gateway.Build(ctx, parse(yml), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.State().Close() })
	g := &gw{Server: srv}
	c := "X-Forwarded-For: 192.0.2.1"
	wantStatuses(t, statuses(t, g, 3, "/open/hello.txt", c), 200, 200, 429)

	reload := func(y string) {
		t.Helper()
		next, err := gateway.BuildFrom(ctx, parse(y), slog.New(slog.DiscardHandler), h.State())
		if err != nil {
			t.Fatal(err)
		}
		if next.RateLimits() != h.State().RateLimits() {
			t.Error("a reload made a new rate-limit registry")
		}
		h.Swap(next).Close()
	}
	reload(yml + "\n# unchanged\n")
	wantStatuses(t, statuses(t, g, 1, "/open/hello.txt", c), 429)
	reload(strings.Replace(yml, "{requests: 2, per: 1h}", "{requests: 3, per: 1h}", 1))
	wantStatuses(t, statuses(t, g, 4, "/open/hello.txt", c), 200, 200, 200, 429)
}

// BenchmarkServeRateLimited is BenchmarkServeSmallObject's request on a route without
// and with a rate_limit (by client, never reached): the difference is the check's cost
// on the request path.
func BenchmarkServeRateLimited(b *testing.B) {
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "obj-4k"), []byte(strings.Repeat("x", 4096)), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, rl := range []string{"", "rate_limit: {requests: 1000000000, per: 1h}"} {
		name := "without"
		if rl != "" {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			cfg, err := config.Parse("bench.yaml", []byte(`
origins:
  files:
    dir: {root: "${ROOT}"}
routes:
  - path: /bench/*
    origin: files
    strip_prefix: /bench
    public: true
    `+rl+`
`), func(k string) (string, bool) { return root, k == "ROOT" })
			if err != nil {
				b.Fatal(err)
			}
			st, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil)
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/bench/obj-4k", nil)
			req.RemoteAddr = "127.0.0.1:40000"
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// fleetMem is an in-memory fleet (what Redis keeps) for the gateway's fleet test.
type fleetMem struct {
	mu     sync.Mutex
	totals map[string]int64
}

func (f *fleetMem) Sync(_ context.Context, counts []ratelimit.Count) ([]ratelimit.Count, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ratelimit.Count, len(counts))
	for i, c := range counts {
		k := c.Key + "/" + strconv.FormatInt(c.Window, 10)
		f.totals[k] += c.N
		out[i] = ratelimit.Count{Key: c.Key, Window: c.Window, N: f.totals[k]}
	}
	return out, nil
}

// TestRateLimitFleet: three gateways joined to one fleet through
// State.RateLimits().SetFleet (as server.Run does) hold a client to one limit between
// them, once each has synced.
func TestRateLimitFleet(t *testing.T) {
	yml, env := rateLimitConfig(t, "{requests: 6, per: 1h}", "{requests: 100, per: 1h}")
	f := &fleetMem{totals: map[string]int64{}}
	gws := make([]*gw, 3)
	for i := range gws {
		gws[i] = startGateway(t, yml, env)
		gws[i].state.RateLimits().SetFleet(f, 3)
	}
	syncAll := func() {
		for _, g := range gws {
			if err := g.state.RateLimits().SyncOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	syncAll()
	c := "X-Forwarded-For: 203.0.113.5"
	ok := 0
	for range 4 {
		for _, g := range gws {
			for _, s := range statuses(t, g, 1, "/open/hello.txt", c) {
				if s == http.StatusOK {
					ok++
				}
			}
		}
		syncAll()
	}
	if ok < 6 || ok > 8 {
		t.Fatalf("three replicas admitted %d requests of a client limited to 6, want 6 (at most 8)", ok)
	}
	for _, g := range gws {
		wantStatuses(t, statuses(t, g, 1, "/open/hello.txt", c), 429)
	}
}
