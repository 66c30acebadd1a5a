package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// The hit-path benchmarks serve a cached 4 KiB object the way `gatehouse serve` does in
// bench/run: the access log written by server.Loggers to /dev/null, metrics on (the
// admin listener is configured there), and a response writer that costs nothing of its
// own, so allocs/op and B/op are gatehouse's. net/http's own per-request costs (its
// response, its header map) are in BenchmarkCacheHitHTTP.

// benchWriter is a reusable http.ResponseWriter that discards the body.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(p)
	return len(p), nil
}

// reset readies w for the next request, keeping its map (net/http makes a new one per
// request; that cost is not gatehouse's).
func (w *benchWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// hitHandler builds a handler for yml (ROOT is the folder origin's directory, holding
// a 4 KiB small.txt) with the production access log and metrics.
func hitHandler(b *testing.B, yml string) *gateway.Handler {
	b.Helper()
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "small.txt"), []byte(strings.Repeat("x", 4096)), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse("bench.yaml", []byte(yml), func(k string) (string, bool) { return root, k == "ROOT" })
	if err != nil {
		b.Fatal(err)
	}
	log, access, closer, err := server.Loggers(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closer.Close() })
	st, err := gateway.Build(context.Background(), cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	h := gateway.NewHandler(st, log, access)
	h.Instrument(metrics.New())
	return h
}

func serveHits(b *testing.B, h *gateway.Handler, reqs []*http.Request) {
	b.Helper()
	w := &benchWriter{h: http.Header{}}
	for _, r := range reqs { // the first request of each URL fills the cache
		w.reset()
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK || w.n != 4096 {
			b.Fatalf("warm-up: status %d, %d bytes", w.status, w.n)
		}
	}
	b.ReportAllocs()
	b.SetBytes(4096)
	i := 0
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, reqs[i])
		if w.status != http.StatusOK || w.n != 4096 {
			b.Fatalf("status %d, %d bytes", w.status, w.n)
		}
		if i++; i == len(reqs) {
			i = 0
		}
	}
}

const hitLog = `
log: {access: /dev/null}
cache: {memory: {max_size: 64MiB}}
origins:
  files: {dir: {root: "${ROOT}"}}
`

// BenchmarkCacheHitServe: a public cached 4 KiB hit, as bench/run's cached scenario.
func BenchmarkCacheHitServe(b *testing.B) {
	h := hitHandler(b, hitLog+`
routes:
  - {name: bench, path: /bench/*, origin: files, strip_prefix: /bench, public: true, cache: {policy: optimized}}
`)
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:18080/bench/small.txt", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("User-Agent", "wrk")
	serveHits(b, h, []*http.Request{r})
}

// BenchmarkSignedCacheHit: a cached 4 KiB hit through a canned-policy signed URL (RSA,
// as `gatehouse keygen` makes), 1,000 distinct URLs in turn, as bench/run's signed
// scenario: the signature check (its verified-signature cache warm) runs on every hit.
func BenchmarkSignedCacheHit(b *testing.B) {
	key, err := cfsign.GenerateKey("rsa")
	if err != nil {
		b.Fatal(err)
	}
	pub, err := cfsign.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		b.Fatal(err)
	}
	pemYAML := strings.ReplaceAll(strings.TrimSpace(string(pub)), "\n", "\\n")
	h := hitHandler(b, hitLog+`
key_groups:
  bench:
    keys:
      - {id: KBENCH0000001, pem: "`+pemYAML+`"}
routes:
  - name: bench
    path: /bench/*
    origin: files
    strip_prefix: /bench
    cache: {policy: optimized}
    auth: {methods: [{signed: {key_groups: [bench]}}]}
`)
	base := time.Now().Add(time.Hour)
	reqs := make([]*http.Request, 1000)
	for i := range reqs {
		u, err := cfsign.SignURL("http://127.0.0.1:18081/bench/small.txt", "KBENCH0000001", key,
			cfsign.SignOptions{Expires: base.Add(time.Duration(i) * time.Second)})
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = httptest.NewRequest(http.MethodGet, u, nil)
		reqs[i].RemoteAddr = "127.0.0.1:40000"
		reqs[i].Header.Set("User-Agent", "wrk")
	}
	serveHits(b, h, reqs)
}
