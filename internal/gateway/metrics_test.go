package gateway_test

import (
	"context"
	"fmt"
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
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
)

// metricSample returns the value of one series in m's exposition ("" labels: none).
func metricSample(t *testing.T, m *metrics.Metrics, series string) (float64, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f, true
		}
	}
	return 0, false
}

// TestMetricsS3Origin: the S3 origin reports its real calls (below the cache: a hit makes
// none) with S3's status, keeps its write capabilities (a PUT is stored), and a reload's
// State counts on in the same series.
func TestMetricsS3Origin(t *testing.T) {
	needMinIO(t)
	yml := fmt.Sprintf(`
cache: {memory: {max_size: 64MiB}, slice_size: 1MiB}
origins:
  assets:
    s3: {bucket: assets, endpoint: %q, path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}", max_attempts: 1}
routes:
  - name: m
    path: /m/*
    origin: assets
    strip_prefix: /m
    add_prefix: metrics-test/
    methods: [GET, HEAD, PUT]
    cache: {policy: optimized}
    auth: {methods: [{name: staff, basic: {users: {alice: %q}}}]}
    upload: {max_size: 1MiB}
`, minio.Endpoint, aliceFastHash)
	cfg, err := config.Parse("test.yaml", []byte(yml), func(k string) (string, bool) {
		v, ok := map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	st, err := gateway.Build(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	h := gateway.NewHandler(st, log, nil)
	m := metrics.New()
	h.Instrument(m)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.State().Close() })

	do := func(method, path, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body == "" {
			req.Body = nil
		}
		req.SetBasicAuth("alice", "wonderland")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want && !(want == http.StatusCreated && resp.StatusCode == http.StatusOK) { // an overwrite
			t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	wantSample := func(series string, want float64) {
		t.Helper()
		if got, ok := metricSample(t, m, series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	do("PUT", "/m/a.txt", "0123456789", http.StatusCreated)
	do("GET", "/m/a.txt", "", http.StatusOK) // miss
	do("GET", "/m/a.txt", "", http.StatusOK) // hit: S3 is not asked
	do("GET", "/m/missing.txt", "", http.StatusNotFound)
	wantSample(`gatehouse_origin_requests_total{operation="PutObject",origin="assets",status="200"}`, 1)
	wantSample(`gatehouse_origin_requests_total{operation="GetObject",origin="assets",status="206"}`, 1) // the cache reads slices
	wantSample(`gatehouse_origin_requests_total{operation="GetObject",origin="assets",status="404"}`, 1)
	wantSample(`gatehouse_origin_request_duration_seconds_count{operation="GetObject",origin="assets"}`, 2)
	wantSample(`gatehouse_http_requests_total{cache="Hit",method="GET",route="m",status_class="2xx"}`, 1)
	wantSample(`gatehouse_uploads_total{result="stored",route="m"}`, 1)
	wantSample(`gatehouse_upload_received_bytes_total{route="m"}`, 10)

	// A reload: the new State's origin (a new client) reports into the same series.
	next, err := gateway.BuildFrom(context.Background(), cfg, log, h.State())
	if err != nil {
		t.Fatal(err)
	}
	h.Swap(next).Close()
	do("GET", "/m/missing.txt", "", http.StatusNotFound)
	do("GET", "/m/a.txt", "", http.StatusOK) // the cache was kept: still a hit
	wantSample(`gatehouse_origin_requests_total{operation="GetObject",origin="assets",status="404"}`, 2)
	wantSample(`gatehouse_http_requests_total{cache="Hit",method="GET",route="m",status_class="2xx"}`, 2)
	wantSample(`gatehouse_auth_decisions_total{authenticator="staff",outcome="identity",route="m"}`, 6)
}

// BenchmarkCacheHitHandlerMetrics is BenchmarkCacheHitHandler with metrics on: what
// recording a request costs on the hit path.
func BenchmarkCacheHitHandlerMetrics(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "small.txt"), []byte(strings.Repeat("x", 4096)), 0o644)
	st := buildState(b, cacheDirConfig(dir, "8MiB"), nil)
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil)
	h.Instrument(metrics.New())
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
