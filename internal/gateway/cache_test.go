package gateway_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// countingProxy sits between gatehouse and MinIO and counts what reaches the origin. It
// can be switched off, then answering 503 like an origin that is down.
type countingProxy struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  map[string]int // "METHOD /bucket/key" -> count
	bytes atomic.Int64   // response body bytes
	down  atomic.Bool
	delay atomic.Int64 // nanoseconds each request waits before it is forwarded (first-byte latency)
	// before, when set (before any request), runs before each request is forwarded, with
	// the number of requests for that method and path so far (1 for the first).
	before func(method, path string, n int)
}

func newCountingProxy(t testing.TB) *countingProxy {
	t.Helper()
	target, _ := url.Parse(minio.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	cp := &countingProxy{reqs: map[string]int{}}
	rp.ModifyResponse = func(resp *http.Response) error {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &cp.bytes}
		return nil
	}
	cp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cp.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		cp.mu.Lock()
		cp.reqs[r.Method+" "+r.URL.Path]++
		n := cp.reqs[r.Method+" "+r.URL.Path]
		cp.mu.Unlock()
		if cp.before != nil {
			cp.before(r.Method, r.URL.Path, n)
		}
		time.Sleep(time.Duration(cp.delay.Load()))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(cp.Close)
	return cp
}

func (cp *countingProxy) count(method, path string) int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.reqs[method+" "+path]
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func putObject(t testing.TB, bucket, key, body string, mod func(*s3.PutObjectInput)) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}
	if mod != nil {
		mod(in)
	}
	if _, err := minio.Client.PutObject(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// cacheGateway serves /c/* from bucket assets through a counting proxy with the given
// route cache section (YAML flow mapping) and top-level cache section.
func cacheGateway(t testing.TB, routeCache, topCache string, extraRoutes string) (*gw, *countingProxy) {
	t.Helper()
	cp := newCountingProxy(t)
	if topCache == "" {
		topCache = "{memory: {max_size: 64MiB}, slice_size: 1MiB}"
	}
	yml := fmt.Sprintf(`
cache: %s
origins:
  assets:
    s3: {bucket: assets, endpoint: %q, path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}", max_attempts: 1}
routes:
  - path: /c/*
    origin: assets
    strip_prefix: /c
    public: true
    cache: %s
%s`, topCache, cp.URL, routeCache, extraRoutes)
	g := startGateway(t, yml, map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})
	return g, cp
}

func TestCacheHitMissRevalidate(t *testing.T) {
	needMinIO(t)
	putObject(t, "assets", "cache/cycle.txt", "version one", nil)
	g, cp := cacheGateway(t, "{policy: custom, default_ttl: 1s, min_ttl: 0s, max_ttl: 1h}", "", "")
	clock := newCacheClock(g)

	resp, body := g.do(t, "GET", "/c/cache/cycle.txt")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "X-Cache", "Miss from gatehouse")
	if body != "version one" {
		t.Fatalf("body %q", body)
	}
	etag := resp.Header.Get("ETag")
	resp, body = g.do(t, "GET", "/c/cache/cycle.txt")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	wantHeader(t, resp, "ETag", etag)
	if body != "version one" || resp.Header.Get("Age") == "" {
		t.Fatalf("body %q, Age %q", body, resp.Header.Get("Age"))
	}
	// Conditional and range requests are answered from the cache too.
	resp, _ = g.do(t, "GET", "/c/cache/cycle.txt", "If-None-Match: "+etag)
	wantStatus(t, resp, 304)
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	resp, body = g.do(t, "GET", "/c/cache/cycle.txt", "Range: bytes=8-")
	wantStatus(t, resp, 206)
	wantHeader(t, resp, "Content-Range", "bytes 8-10/11")
	if body != "one" {
		t.Errorf("range body %q", body)
	}
	resp, _ = g.do(t, "HEAD", "/c/cache/cycle.txt")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	wantHeader(t, resp, "Content-Length", "11")
	if n := cp.count("GET", "/assets/cache/cycle.txt"); n != 1 {
		t.Fatalf("origin GETs = %d, want 1", n)
	}

	clock.advance(1100 * time.Millisecond) // stale: revalidated with If-None-Match, 304
	resp, body = g.do(t, "GET", "/c/cache/cycle.txt")
	wantHeader(t, resp, "X-Cache", "RefreshHit from gatehouse")
	wantHeader(t, resp, "Age", "0")
	if body != "version one" {
		t.Fatalf("body %q", body)
	}
	if n := cp.count("HEAD", "/assets/cache/cycle.txt"); n != 1 {
		t.Errorf("origin revalidations = %d, want 1", n)
	}
	resp, _ = g.do(t, "GET", "/c/cache/cycle.txt")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")

	putObject(t, "assets", "cache/cycle.txt", "version two!", nil)
	clock.advance(1100 * time.Millisecond) // stale and changed: fetched again
	resp, body = g.do(t, "GET", "/c/cache/cycle.txt")
	wantHeader(t, resp, "X-Cache", "Miss from gatehouse")
	if body != "version two!" || resp.Header.Get("ETag") == etag {
		t.Fatalf("body %q, ETag %q (old %q)", body, resp.Header.Get("ETag"), etag)
	}
	if n := cp.count("GET", "/assets/cache/cycle.txt"); n != 2 {
		t.Errorf("origin GETs = %d, want 2", n)
	}
}

func TestCacheCollapsesConcurrentMisses(t *testing.T) {
	needMinIO(t)
	putObject(t, "assets", "cache/collapse.txt", strings.Repeat("x", 100<<10), nil)
	g, cp := cacheGateway(t, "{policy: optimized}", "", "")
	const n = 500
	var wg sync.WaitGroup
	start := make(chan struct{})
	var bad atomic.Int32
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range n {
		wg.Go(func() {
			<-start
			resp, err := client.Get(g.URL + "/c/cache/collapse.txt")
			if err != nil {
				bad.Add(1)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || len(b) != 100<<10 {
				bad.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d requests failed", bad.Load())
	}
	if got := cp.count("GET", "/assets/cache/collapse.txt"); got != 1 {
		t.Fatalf("origin GETs = %d for %d concurrent misses, want exactly 1", got, n)
	}
	if c := g.state.Cache().Stats.Collapses.Load(); c == 0 {
		t.Log("all requests arrived after the first fetch had completed (no collapse counted)")
	}
}

func TestCacheStaleIfError(t *testing.T) {
	needMinIO(t)
	putObject(t, "assets", "cache/stale.txt", "still here", nil)
	g, cp := cacheGateway(t, "{policy: custom, default_ttl: 1s, max_ttl: 1s, stale_if_error: 2s}", "", "")
	clock := newCacheClock(g)
	resp, _ := g.do(t, "GET", "/c/cache/stale.txt")
	wantStatus(t, resp, 200)
	cp.down.Store(true)
	clock.advance(1100 * time.Millisecond) // past the TTL, inside the stale window
	resp, body := g.do(t, "GET", "/c/cache/stale.txt")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "Warning", `110 - "Response is Stale"`)
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	if body != "still here" || resp.Header.Get("Age") < "1" {
		t.Fatalf("body %q Age %q", body, resp.Header.Get("Age"))
	}
	clock.advance(2 * time.Second) // past TTL + stale_if_error
	resp, _ = g.do(t, "GET", "/c/cache/stale.txt")
	wantStatus(t, resp, 502)
	wantHeader(t, resp, "X-Cache", "Error from gatehouse")
	cp.down.Store(false)
	resp, _ = g.do(t, "GET", "/c/cache/stale.txt")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "X-Cache", "RefreshHit from gatehouse")
}

// A cached object must never reach a request that fails the route's authorization.
func TestCacheHitNeverBypassesAuth(t *testing.T) {
	needMinIO(t)
	putObject(t, "assets", "cache/secret.txt", "for alice only", nil)
	g, cp := cacheGateway(t, "{policy: optimized}", "", fmt.Sprintf(`
  - path: /auth/*
    origin: assets
    strip_prefix: /auth
    cache: {policy: optimized}
    auth:
      methods:
        - basic: {users: {alice: "%s"}}
`, aliceFastHash))
	good := "Authorization: Basic YWxpY2U6d29uZGVybGFuZA=="
	resp, _ := g.do(t, "GET", "/auth/cache/secret.txt", good)
	wantStatus(t, resp, 200)
	resp, body := g.do(t, "GET", "/auth/cache/secret.txt", good)
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	if body != "for alice only" {
		t.Fatalf("body %q", body)
	}
	for _, hdr := range [][]string{nil, {"Authorization: Basic YWxpY2U6bm9wZQ=="}} {
		resp, body = g.do(t, "GET", "/auth/cache/secret.txt", hdr...)
		wantStatus(t, resp, 401)
		if strings.Contains(body, "alice") || resp.Header.Get("X-Cache") != "" || resp.Header.Get("ETag") != "" {
			t.Fatalf("denied request saw the object: body %q, headers %v", body, resp.Header)
		}
	}
	if n := cp.count("GET", "/assets/cache/secret.txt"); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

// Query parameters are part of the key only when configured; signatures never are.
func TestCacheQueryKeys(t *testing.T) {
	needMinIO(t)
	putObject(t, "assets", "cache/q.txt", "q", nil)
	g, cp := cacheGateway(t, "{policy: optimized, query_keys: [v]}", "", "")
	for i, tc := range []struct{ query, status string }{
		{"?v=1", "Miss"}, {"?v=1&other=x", "Hit"}, {"?v=2", "Miss"}, {"?v=1&Signature=abc", "Hit"}, {"", "Miss"}, {"?token=z", "Hit"},
	} {
		resp, _ := g.do(t, "GET", "/c/cache/q.txt"+tc.query)
		if got := resp.Header.Get("X-Cache"); got != tc.status+" from gatehouse" {
			t.Errorf("%d %q: X-Cache %q, want %s", i, tc.query, got, tc.status)
		}
	}
	if n := cp.count("GET", "/assets/cache/q.txt"); n != 3 {
		t.Errorf("origin GETs = %d, want 3", n)
	}
}

// A range on a 256 MiB object fetches only the 1 MiB slices it covers.
func TestCacheRangeOnHugeObjectFetchesOnlyItsSlices(t *testing.T) {
	needMinIO(t)
	if testing.Short() {
		t.Skip("uploads 256 MiB")
	}
	const size = 256 << 20 // 256 slices; uploading 1 GiB to MinIO took 7 s of the package's run
	f, err := os.CreateTemp(t.TempDir(), "sparse-")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil { // a sparse file of zeros
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("needle"), 200<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := minio.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("assets"), Key: aws.String("cache/huge.bin"), Body: f, ContentLength: aws.Int64(size),
	}); err != nil {
		t.Fatal(err)
	}
	g, cp := cacheGateway(t, "{policy: optimized}", "", "")
	resp, body := g.do(t, "GET", "/c/cache/huge.bin", fmt.Sprintf("Range: bytes=%d-%d", 200<<20-2, 200<<20+7))
	wantStatus(t, resp, 206)
	wantHeader(t, resp, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", 200<<20-2, 200<<20+7, size))
	if body != "\x00\x00needle\x00\x00" {
		t.Fatalf("body %q", body)
	}
	// The range crosses a slice boundary (1 MiB slices): two slices, two GETs.
	if n, b := cp.count("GET", "/assets/cache/huge.bin"), cp.bytes.Load(); n != 2 || b != 2<<20 {
		t.Fatalf("origin GETs %d, bytes %d; want 2 GETs of one 1 MiB slice each", n, b)
	}
	resp, body = g.do(t, "GET", "/c/cache/huge.bin", fmt.Sprintf("Range: bytes=%d-%d", 200<<20, 200<<20+5))
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	if body != "needle" || cp.count("GET", "/assets/cache/huge.bin") != 2 {
		t.Fatalf("second range: body %q, origin GETs %d", body, cp.count("GET", "/assets/cache/huge.bin"))
	}
	// A suffix range: the size is known from the cached metadata, so only the last slice.
	resp, body = g.do(t, "GET", "/c/cache/huge.bin", "Range: bytes=-3")
	wantStatus(t, resp, 206)
	if len(body) != 3 || cp.count("GET", "/assets/cache/huge.bin") != 3 {
		t.Fatalf("suffix range: %d bytes, origin GETs %d", len(body), cp.count("GET", "/assets/cache/huge.bin"))
	}
}

// The disk tier survives a restart, and an entry truncated behind its back is deleted
// and fetched again, never served.
func TestCacheDiskTierSurvivesRestart(t *testing.T) {
	needMinIO(t)
	body := strings.Repeat("disk tier ", 300<<10) // about 2.9 MiB: three 1 MiB slices
	putObject(t, "assets", "cache/disk.txt", body, nil)
	dir := t.TempDir()
	top := fmt.Sprintf("{memory: {max_size: 64MiB}, slice_size: 1MiB, disk: {path: %q, max_size: 100MiB}}", dir)

	g1, cp1 := cacheGateway(t, "{policy: optimized}", top, "")
	resp, got := g1.do(t, "GET", "/c/cache/disk.txt")
	wantHeader(t, resp, "X-Cache", "Miss from gatehouse")
	if got != body || cp1.count("GET", "/assets/cache/disk.txt") != 3 {
		t.Fatalf("first fetch: %d bytes, %d origin GETs", len(got), cp1.count("GET", "/assets/cache/disk.txt"))
	}
	g1.Close()

	// "Restart": a new gateway, a new Store, the same folder.
	g2, cp2 := cacheGateway(t, "{policy: optimized}", top, "")
	resp, got = g2.do(t, "GET", "/c/cache/disk.txt")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	if got != body || cp2.count("GET", "/assets/cache/disk.txt") != 0 {
		t.Fatalf("after restart: %d bytes, %d origin GETs", len(got), cp2.count("GET", "/assets/cache/disk.txt"))
	}
	if n := g2.state.Cache().Stats.DiskHits.Load(); n != 4 {
		t.Errorf("disk hits %d, want 4 (metadata and three slices)", n)
	}
	g2.Close()

	// Truncate every slice file (metadata files are small JSON; keep them) and restart.
	var truncated int
	filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			if fi, _ := de.Info(); fi != nil && fi.Size() > 100<<10 {
				os.Truncate(p, fi.Size()-100)
				truncated++
			}
		}
		return nil
	})
	if truncated != 3 {
		t.Fatalf("truncated %d slice files, want 3", truncated)
	}
	g3, cp3 := cacheGateway(t, "{policy: optimized}", top, "")
	resp, got = g3.do(t, "GET", "/c/cache/disk.txt")
	wantStatus(t, resp, 200)
	if got != body {
		t.Fatalf("served %d bytes, want the intact %d", len(got), len(body))
	}
	if n := cp3.count("GET", "/assets/cache/disk.txt"); n != 3 {
		t.Errorf("origin GETs %d, want 3 (every truncated slice fetched again)", n)
	}
}

func TestCacheCompression(t *testing.T) {
	needMinIO(t)
	page := strings.Repeat("<p>compress me please</p>\n", 400)
	putObject(t, "assets", "cache/page.html", page, func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html; charset=utf-8") })
	putObject(t, "assets", "cache/tiny.html", "<p>hi</p>", func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html") })
	putObject(t, "assets", "cache/pic.png", page, func(in *s3.PutObjectInput) { in.ContentType = aws.String("image/png") })
	putObject(t, "assets", "cache/other.html", page, func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html") })
	g, cp := cacheGateway(t, "{policy: optimized}", "{memory: {max_size: 64MiB}, slice_size: 1MiB, compression: {min_size: 1000}}", "")
	decode := map[string]func([]byte) ([]byte, error){
		"gzip": func(b []byte) ([]byte, error) {
			r, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		},
		"br": func(b []byte) ([]byte, error) { return io.ReadAll(brotli.NewReader(bytes.NewReader(b))) },
		"zstd": func(b []byte) ([]byte, error) {
			d, err := zstd.NewReader(nil)
			if err != nil {
				return nil, err
			}
			defer d.Close()
			return d.DecodeAll(b, nil)
		},
		"": func(b []byte) ([]byte, error) { return b, nil },
	}
	for _, tc := range []struct {
		name, path, accept, rng, wantEnc string
	}{
		{"gzip", "/c/cache/page.html", "gzip", "", "gzip"},
		{"browser", "/c/cache/page.html", "gzip, deflate, br, zstd", "", "br"},
		{"zstd preferred by q", "/c/cache/page.html", "br;q=0.5, zstd", "", "zstd"},
		{"none", "/c/cache/page.html", "", "", ""},
		{"identity only", "/c/cache/page.html", "identity", "", ""},
		{"refused codings", "/c/cache/page.html", "gzip;q=0, br;q=0", "", ""},
		{"range: identity", "/c/cache/page.html", "gzip", "bytes=0-9", ""},
		{"below min_size", "/c/cache/tiny.html", "gzip", "", ""},
		{"type not compressible", "/c/cache/pic.png", "gzip", "", ""},
		{"gzip again (cached variant)", "/c/cache/page.html", "gzip", "", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Accept-Encoding: " + tc.accept}
			if tc.rng != "" {
				hdr = append(hdr, "Range: "+tc.rng)
			}
			resp, body := g.do(t, "GET", tc.path, hdr...)
			wantHeader(t, resp, "Content-Encoding", tc.wantEnc)
			wantHeader(t, resp, "Vary", "Accept-Encoding")
			plain, err := decode[tc.wantEnc]([]byte(body))
			if err != nil {
				t.Fatalf("decoding %s: %v", tc.wantEnc, err)
			}
			want := page
			switch {
			case tc.rng != "":
				want = page[:10]
			case strings.Contains(tc.path, "tiny"):
				want = "<p>hi</p>"
			}
			if string(plain) != want {
				t.Fatalf("body differs (%d bytes, want %d)", len(plain), len(want))
			}
			if tc.wantEnc != "" && len(body) >= len(page) {
				t.Errorf("%s body %d bytes, not smaller than %d", tc.wantEnc, len(body), len(page))
			}
		})
	}
	if n := cp.count("GET", "/assets/cache/page.html"); n != 1 {
		t.Errorf("origin GETs %d, want 1", n)
	}

	// HEAD describes what a GET with the same Accept-Encoding gets: coding, weak ETag, and
	// the length once that variant exists (none before: it is not known without
	// compressing). A 304 names the tag the 200 carried.
	getResp, getBody := g.do(t, "GET", "/c/cache/page.html", "Accept-Encoding: gzip")
	for _, tc := range []struct{ name, path, accept, wantEnc, wantLen string }{
		{"head gzip (variant stored)", "/c/cache/page.html", "gzip", "gzip", strconv.Itoa(len(getBody))},
		{"head identity", "/c/cache/page.html", "", "", strconv.Itoa(len(page))},
		{"head png", "/c/cache/pic.png", "gzip", "", strconv.Itoa(len(page))},
		{"head zstd of an object never fetched", "/c/cache/other.html", "zstd", "zstd", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := g.do(t, "HEAD", tc.path, "Accept-Encoding: "+tc.accept)
			wantStatus(t, resp, 200)
			wantHeader(t, resp, "Content-Encoding", tc.wantEnc)
			wantHeader(t, resp, "Content-Length", tc.wantLen)
			wantHeader(t, resp, "Vary", "Accept-Encoding")
			if etag := resp.Header.Get("ETag"); (tc.wantEnc != "") != strings.HasPrefix(etag, "W/") {
				t.Errorf("ETag %q for coding %q", etag, tc.wantEnc)
			}
		})
	}
	if resp, _ := g.do(t, "HEAD", "/c/cache/page.html", "Accept-Encoding: gzip"); resp.Header.Get("ETag") != getResp.Header.Get("ETag") {
		t.Errorf("HEAD ETag %q, GET ETag %q", resp.Header.Get("ETag"), getResp.Header.Get("ETag"))
	}
	resp, _ := g.do(t, "GET", "/c/cache/page.html", "Accept-Encoding: gzip", "If-None-Match: "+getResp.Header.Get("ETag"))
	wantStatus(t, resp, 304)
	wantHeader(t, resp, "ETag", getResp.Header.Get("ETag"))

	// An object stored with a Content-Encoding is never compressed again.
	resp, body := g.do(t, "GET", "/c/data.json.gz", "Accept-Encoding: br")
	wantHeader(t, resp, "Content-Encoding", "gzip")
	if body != "\x1f\x8b-not-really-gzip" {
		t.Errorf("pre-encoded body changed: %q", body)
	}
	// Vary is on errors too: a cache in front must not reuse them across encodings.
	resp, _ = g.do(t, "GET", "/c/cache/none.html", "Accept-Encoding: gzip")
	wantStatus(t, resp, 404)
	wantHeader(t, resp, "Vary", "Accept-Encoding")
}

// An object replaced while its slices are being sent: the bytes already sent are the old
// version's, and the connection is cut (the client sees a truncated body, never one made
// of two versions), with read-ahead fetching the later slices.
func TestCacheObjectChangesMidStream(t *testing.T) {
	needMinIO(t)
	v1, v2 := strings.Repeat("1", 3<<20), strings.Repeat("2", 3<<20)
	putObject(t, "assets", "cache/changing.bin", v1, nil)
	g, cp := cacheGateway(t, "{policy: optimized}", "{memory: {max_size: 64MiB}, slice_size: 1MiB, read_ahead: 2}", "")
	var replaced atomic.Bool
	cp.before = func(method, path string, n int) {
		if method == "GET" && path == "/assets/cache/changing.bin" && n == 2 && !replaced.Swap(true) {
			key, bucket := "cache/changing.bin", "assets"
			minio.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(v2)})
		}
	}
	resp, err := http.Get(g.URL + "/c/cache/changing.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil || len(body) >= len(v1) {
		t.Fatalf("status %d, %d bytes, err %v: want a 200 cut short", resp.StatusCode, len(body), err)
	}
	if string(body) != v1[:len(body)] {
		t.Fatal("the body mixes two versions")
	}
	if !replaced.Load() {
		t.Fatal("the object was never replaced: the test did not test anything")
	}
	// The next request starts over and gets version 2 whole.
	resp2, body2 := g.do(t, "GET", "/c/cache/changing.bin")
	wantStatus(t, resp2, 200)
	if body2 != v2 {
		t.Fatalf("after the change: %d bytes, want version 2 whole", len(body2))
	}
}

// BenchmarkCacheMiss streams a 64 MiB object that is never stored (TTL 0: every request
// is a miss) through an origin with 20 ms of first-byte latency per request, as S3 has:
// without read-ahead each 4 MiB slice (the default size) pays the latency in turn; with
// it, once per window.
// "uncached" is the same object on a route without the cache (one origin request).
//
//	go test -run '^$' -bench CacheMiss ./internal/gateway/   (with MinIO)
func BenchmarkCacheMiss(b *testing.B) {
	needMinIO(b)
	const size = 64 << 20
	body := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(body[i:], rng.Uint64())
	}
	putObject(b, "assets", "cache/bench-64m", string(body), nil)
	for _, ra := range []string{"uncached", "0", "4", "8"} {
		b.Run("read_ahead="+ra, func(b *testing.B) {
			n := ra
			if ra == "uncached" {
				n = "0"
			}
			g, cp := cacheGateway(b, "{policy: custom, default_ttl: 0s, min_ttl: 0s, max_ttl: 0s}",
				"{memory: {max_size: 64MiB}, slice_size: 4MiB, read_ahead: "+n+"}",
				"  - {path: /u/*, origin: assets, strip_prefix: /u, public: true}\n")
			cp.delay.Store(int64(20 * time.Millisecond))
			path := "/c/cache/bench-64m"
			if ra == "uncached" {
				path = "/u/cache/bench-64m"
			}
			b.SetBytes(size)
			for b.Loop() {
				resp, err := http.Get(g.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				got, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || got != size || resp.StatusCode != 200 {
					b.Fatalf("status %d, %d bytes, err %v", resp.StatusCode, got, err)
				}
			}
		})
	}
}

// TestRegression_SliceSizeChangeServesOldSlices: slices stored on disk at one slice_size
// were read back after a restart with another as if cut at the new size, and the
// response was cut mid-body. Slice keys now carry the slice size: the new size misses,
// fetches and serves the object whole.
func TestRegression_SliceSizeChangeServesOldSlices(t *testing.T) {
	needMinIO(t)
	body := strings.Repeat("slice size ", 300<<10) // about 3.2 MiB
	putObject(t, "assets", "cache/resliced.txt", body, nil)
	dir := t.TempDir()
	top := func(slice string) string {
		return fmt.Sprintf("{memory: {max_size: 64MiB}, slice_size: %s, disk: {path: %q, max_size: 100MiB}}", slice, dir)
	}
	g1, _ := cacheGateway(t, "{policy: optimized}", top("1MiB"), "")
	if _, got := g1.do(t, "GET", "/c/cache/resliced.txt"); got != body {
		t.Fatalf("first fetch: %d bytes", len(got))
	}
	g1.Close()
	g2, _ := cacheGateway(t, "{policy: optimized}", top("2MiB"), "")
	resp, got := g2.do(t, "GET", "/c/cache/resliced.txt")
	wantStatus(t, resp, 200)
	if got != body {
		t.Fatalf("after a slice_size change: %d bytes, want %d", len(got), len(body))
	}
	resp, got = g2.do(t, "GET", "/c/cache/resliced.txt", "Range: bytes=2097000-2098000")
	wantStatus(t, resp, 206)
	if got != body[2097000:2098001] {
		t.Errorf("range across the new slice boundary: %q", got)
	}
	g2.Close()
}
