package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
)

// BenchmarkServeSmallObject measures gatehouse's own per-request cost: the whole handler
// (request ID, client address, path cleaning, route match, the public decision, the
// origin call, header writing, the body copy and the JSON access-log line) for a 4 KiB
// object on a folder origin, without a network. The load-test harness (bench/run) profiles
// it with -cpuprofile; allocations per request are the figure to watch.
func BenchmarkServeSmallObject(b *testing.B) {
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "obj-4k"), []byte(strings.Repeat("x", 4096)), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse("bench.yaml", []byte(`
origins:
  files:
    dir: {root: "${ROOT}"}
routes:
  - path: /bench/*
    origin: files
    strip_prefix: /bench
    public: true
`), func(k string) (string, bool) { return root, k == "ROOT" })
	if err != nil {
		b.Fatal(err)
	}
	st, err := gateway.Build(context.Background(), cfg, slogDiscard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	// As `log.access` set to a file (server.Loggers): one JSON line per request.
	h := gateway.NewHandler(st, slogDiscard, slog.New(httpx.NewAccessHandler(io.Discard)))
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/bench/obj-4k", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("User-Agent", "wrk")

	b.ReportAllocs()
	b.SetBytes(4096)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Body.Len() != 4096 {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
}
