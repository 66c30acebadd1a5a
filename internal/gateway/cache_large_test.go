package gateway_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// BenchmarkCacheLargeRangesHTTP serves 1 MiB ranges of a cached 128 MiB object over a
// loopback connection, from a cache with a disk tier and a memory tier large enough to
// hold the object, as the harness's "range" scenario does with 1 GiB. It reports the Go
// heap in use after the object was cached and read (heap-inuse-MiB, after a GC). Under
// strace -f -e trace=sendfile the ranges go out with sendfile.
//
//	go test -run '^$' -bench CacheLargeRangesHTTP -benchmem ./internal/gateway/
func BenchmarkCacheLargeRangesHTTP(b *testing.B) {
	const size, rangeSize = 128 << 20, 1 << 20
	dir := b.TempDir()
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i / 7)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), body, 0o644); err != nil {
		b.Fatal(err)
	}
	body = nil
	st := buildState(b, `
cache: {memory: {max_size: 512MiB}, disk: {path: "`+b.TempDir()+`", max_size: 1GiB}, slice_size: 4MiB}
origins:
  folder: {dir: {root: "`+dir+`"}}
routes:
  - {path: /f/*, origin: folder, strip_prefix: /f, public: true, cache: {policy: optimized}}
`, nil)
	srv := httptest.NewServer(gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil))
	defer srv.Close()
	get := func(rng string) int64 {
		req, _ := http.NewRequest("GET", srv.URL+"/f/big.bin", nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode/100 != 2 {
			b.Fatalf("%s: %s, %v", rng, resp.Status, err)
		}
		return n
	}
	if n := get(""); n != size {
		b.Fatalf("whole object: %d bytes", n)
	}
	b.SetBytes(rangeSize)
	b.ReportAllocs()
	b.ResetTimer()
	i := int64(0)
	for b.Loop() {
		first := (i * rangeSize) % size
		i++
		if n := get(fmt.Sprintf("bytes=%d-%d", first, first+rangeSize-1)); n != rangeSize {
			b.Fatalf("range at %d: %d bytes", first, n)
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
	runtime.KeepAlive(st)
}
