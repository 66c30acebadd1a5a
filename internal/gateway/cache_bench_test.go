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
)

func cacheDirConfig(dir, memory string) string {
	return `
cache: {memory: {max_size: ` + memory + `}}
origins:
  folder: {dir: {root: "` + dir + `"}}
routes:
  - {path: /f/*, origin: folder, strip_prefix: /f, public: true, cache: {policy: optimized}}
`
}

func buildState(t testing.TB, yml string, prev *gateway.State) *gateway.State {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := gateway.BuildFrom(context.Background(), cfg, slog.New(slog.DiscardHandler), prev)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A reload keeps the cache when its storage settings are unchanged.
func TestCacheSurvivesReload(t *testing.T) {
	dir := t.TempDir()
	a := buildState(t, cacheDirConfig(dir, "8MiB"), nil)
	b := buildState(t, cacheDirConfig(dir, "8MiB"), a)
	c := buildState(t, cacheDirConfig(dir, "16MiB"), b)
	if a.Cache() == nil || a.Cache() != b.Cache() {
		t.Error("same settings: the Store was not kept")
	}
	if c.Cache() == b.Cache() {
		t.Error("new memory size: the Store was kept")
	}
}

// BenchmarkCacheHitHTTP is a memory hit through the whole request path (routing, policy,
// cache lookup, headers, body) over a loopback HTTP connection.
func BenchmarkCacheHitHTTP(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "small.txt"), []byte(strings.Repeat("x", 4096)), 0o644)
	st := buildState(b, cacheDirConfig(dir, "8MiB"), nil)
	srv := httptest.NewServer(gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil))
	defer srv.Close()
	url := srv.URL + "/f/small.txt"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkCacheHitHandler is the same without the network: the handler alone.
func BenchmarkCacheHitHandler(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "small.txt"), []byte(strings.Repeat("x", 4096)), 0o644)
	st := buildState(b, cacheDirConfig(dir, "8MiB"), nil)
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil)
	req := httptest.NewRequest("GET", "/f/small.txt", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 || w.Body.Len() != 4096 {
			b.Fatal(w.Code)
		}
	}
}
