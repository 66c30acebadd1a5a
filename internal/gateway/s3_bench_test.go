package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// BenchmarkServeS3Object4KiB is BenchmarkServeSmallObject on an S3 origin without a
// cache: every request is an uncached 4 KiB GET to a real MinIO, the harness's
// "uncached 4 KiB" scenario without the client's network. MinIO runs on the same
// machine, so ns/op includes its work; allocs/op, the profile's share of the S3 client
// and cpu-ns/op (this process's CPU time per request, user and system, GC included;
// MinIO's is not counted) are the figures to compare.
//
//	GATEHOUSE_MINIO=$HOME/.cache/gatehouse/bin/minio go test -run '^$' -bench ServeS3Object4KiB -benchmem ./internal/gateway/
func BenchmarkServeS3Object4KiB(b *testing.B) {
	needMinIO(b)
	putObject(b, "assets", "bench/obj-4k", strings.Repeat("x", 4096), nil)
	cfg, err := config.Parse("bench.yaml", []byte(`
origins:
  assets:
    s3:
      bucket: assets
      endpoint: ${MINIO_ENDPOINT}
      path_style: true
      access_key_id: ${MINIO_KEY}
      secret_access_key: ${MINIO_SECRET}
routes:
  - path: /bench/*
    origin: assets
    public: true
`), func(k string) (string, bool) {
		v, ok := map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}[k]
		return v, ok
	})
	if err != nil {
		b.Fatal(err)
	}
	st, err := gateway.Build(context.Background(), cfg, slogDiscard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	h := gateway.NewHandler(st, slogDiscard, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/bench/obj-4k", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("User-Agent", "wrk")

	b.ReportAllocs()
	b.SetBytes(4096)
	start := processCPU()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Body.Len() != 4096 {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
