package gateway_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var minio *testenv.MinIO

const (
	bigSize  = 100 << 20
	helloTxt = "hello world"
)

var bigSum [32]byte

func TestMain(m *testing.M) {
	var err error
	minio, err = testenv.StartMinIO()
	switch {
	case errors.Is(err, testenv.ErrNoMinIO):
		fmt.Fprintln(os.Stderr, "MinIO tests skipped:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	default:
		if err := seed(); err != nil {
			minio.Stop()
			fmt.Fprintln(os.Stderr, "seeding MinIO:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if minio != nil {
		minio.Stop()
	}
	os.Exit(code)
}

// seed creates the buckets and objects the tests read.
func seed() error {
	ctx := context.Background()
	for _, b := range []string{"assets", "site"} {
		if _, err := minio.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			return err
		}
	}
	put := func(bucket, key, body string, mod func(*s3.PutObjectInput)) error {
		in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}
		if mod != nil {
			mod(in)
		}
		_, err := minio.Client.PutObject(ctx, in)
		return err
	}
	steps := []error{
		put("assets", "hello.txt", helloTxt, func(in *s3.PutObjectInput) {
			in.ContentType = aws.String("text/plain; charset=utf-8")
			in.CacheControl = aws.String("max-age=60")
			in.ContentDisposition = aws.String(`attachment; filename="hello.txt"`)
			in.ContentLanguage = aws.String("en")
		}),
		put("assets", "data.json.gz", "\x1f\x8b-not-really-gzip", func(in *s3.PutObjectInput) {
			in.ContentType = aws.String("application/json")
			in.ContentEncoding = aws.String("gzip")
		}),
		put("assets", "empty.txt", "", nil),
		put("site", "www/index.html", "<h1>home</h1>", func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html") }),
		put("site", "www/docs/index.html", "<h1>docs</h1>", func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html") }),
		put("site", "www/app.js", "console.log(1)", func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/javascript") }),
		put("site", "private/secret.txt", "top secret", nil),
	}
	if err := errors.Join(steps...); err != nil {
		return err
	}
	// A 100 MiB object of deterministic noise, uploaded from a (seekable) temp file.
	f, err := os.CreateTemp("", "gatehouse-big-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(noise(1), bigSize)); err != nil {
		return err
	}
	copy(bigSum[:], h.Sum(nil))
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	_, err = minio.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("assets"), Key: aws.String("big.bin"), Body: f})
	return err
}

// noise is an endless deterministic pseudo-random byte stream.
func noise(seed uint64) io.Reader { return &noiseReader{r: rand.New(rand.NewPCG(seed, seed))} }

type noiseReader struct{ r *rand.Rand }

func (n *noiseReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(n.r.Uint32())
	}
	return len(p), nil
}

func needMinIO(t testing.TB) {
	t.Helper()
	if minio == nil {
		t.Skip("MinIO not available")
	}
}

// s3Config is a gateway with two buckets on MinIO and a local folder beside them.
func s3Config(t *testing.T) (string, map[string]string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "local.txt"), []byte("from the folder"), 0o644)
	return `
origins:
  assets:
    s3:
      bucket: assets
      endpoint: ${MINIO_ENDPOINT}
      path_style: true
      access_key_id: ${MINIO_KEY}
      secret_access_key: ${MINIO_SECRET}
  site:
    s3:
      bucket: site
      endpoint: ${MINIO_ENDPOINT}
      path_style: true
      region: eu-west-1
      access_key_id: ${MINIO_KEY}
      secret_access_key: ${MINIO_SECRET}
  folder:
    dir:
      root: ${DIR}
routes:
  - path: /assets/*
    origin: assets
    strip_prefix: /assets
    public: true
  - path: /local/*
    origin: folder
    strip_prefix: /local
    public: true
  - path: /private/*
    origin: site
    auth: {}
  - path: "*"
    origin: site
    add_prefix: www/
    index: index.html
    public: true
`, map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey, "DIR": dir}
}

func TestS3GetAndHead(t *testing.T) {
	needMinIO(t)
	yml, env := s3Config(t)
	g := startGateway(t, yml, env)
	for _, method := range []string{"GET", "HEAD"} {
		resp, body := g.do(t, method, "/assets/hello.txt")
		wantStatus(t, resp, 200)
		if method == "GET" && body != helloTxt {
			t.Errorf("body %q", body)
		}
		if method == "HEAD" && body != "" {
			t.Errorf("HEAD returned a body: %q", body)
		}
		wantHeader(t, resp, "Content-Length", "11")
		wantHeader(t, resp, "Content-Type", "text/plain; charset=utf-8")
		wantHeader(t, resp, "Cache-Control", "max-age=60")
		wantHeader(t, resp, "Content-Disposition", `attachment; filename="hello.txt"`)
		wantHeader(t, resp, "Content-Language", "en")
		wantHeader(t, resp, "Accept-Ranges", "bytes")
		if !strings.HasPrefix(resp.Header.Get("ETag"), `"`) || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("ETag %q, Last-Modified %q", resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
		}
	}
	resp, _ := g.do(t, "GET", "/assets/data.json.gz", "Accept-Encoding: identity")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "Content-Encoding", "gzip")
	resp, body := g.do(t, "GET", "/assets/empty.txt")
	wantStatus(t, resp, 200)
	if body != "" || resp.Header.Get("Content-Length") != "0" {
		t.Errorf("empty object: %q, length %q", body, resp.Header.Get("Content-Length"))
	}
}

func TestS3Ranges(t *testing.T) {
	needMinIO(t)
	yml, env := s3Config(t)
	g := startGateway(t, yml, env)
	for _, tc := range []struct {
		rng, body, contentRange string
		status                  int
	}{
		{"bytes=0-4", "hello", "bytes 0-4/11", 206},
		{"bytes=6-", "world", "bytes 6-10/11", 206},
		{"bytes=-5", "world", "bytes 6-10/11", 206},
		{"bytes=6-1000", "world", "bytes 6-10/11", 206},
		{"bytes=10-10", "d", "bytes 10-10/11", 206},
		{"bytes=11-", "", "bytes */11", 416},
		{"bytes=100-200", "", "bytes */11", 416},
		{"bytes=0-1,3-4", helloTxt, "", 200}, // multi-range: whole object
		{"bytes=x-y", helloTxt, "", 200},     // invalid: ignored
		{"pages=1-2", helloTxt, "", 200},
	} {
		t.Run(tc.rng, func(t *testing.T) {
			resp, body := g.do(t, "GET", "/assets/hello.txt", "Range: "+tc.rng)
			wantStatus(t, resp, tc.status)
			wantHeader(t, resp, "Content-Range", tc.contentRange)
			if tc.status != 416 && body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
		})
	}
	head, _ := g.do(t, "HEAD", "/assets/hello.txt")
	etag := head.Header.Get("ETag")
	resp, body := g.do(t, "GET", "/assets/hello.txt", "Range: bytes=0-4", "If-Range: "+etag)
	wantStatus(t, resp, 206)
	if body != "hello" {
		t.Errorf("If-Range match: body %q", body)
	}
	resp, body = g.do(t, "GET", "/assets/hello.txt", "Range: bytes=0-4", `If-Range: "stale"`)
	wantStatus(t, resp, 200)
	if body != helloTxt {
		t.Errorf("If-Range mismatch: body %q", body)
	}
	resp, _ = g.do(t, "GET", "/assets/hello.txt", "Range: bytes=0-4", "If-Range: W/"+etag)
	wantStatus(t, resp, 200)
	// A date validator cannot be checked exactly in one origin call: the whole object.
	resp, body = g.do(t, "GET", "/assets/hello.txt", "Range: bytes=0-4", "If-Range: "+head.Header.Get("Last-Modified"))
	wantStatus(t, resp, 200)
	if body != helloTxt {
		t.Errorf("If-Range date: body %q", body)
	}
}

func TestS3Conditional(t *testing.T) {
	needMinIO(t)
	yml, env := s3Config(t)
	g := startGateway(t, yml, env)
	head, _ := g.do(t, "HEAD", "/assets/hello.txt")
	etag, lm := head.Header.Get("ETag"), head.Header.Get("Last-Modified")
	lmTime, _ := http.ParseTime(lm)
	past, future := lmTime.Add(-time.Hour).Format(http.TimeFormat), lmTime.Add(time.Hour).Format(http.TimeFormat)
	for _, tc := range []struct {
		name   string
		method string
		hdr    []string
		status int
	}{
		{"if-none-match hit", "GET", []string{"If-None-Match: " + etag}, 304},
		{"if-none-match hit HEAD", "HEAD", []string{"If-None-Match: " + etag}, 304},
		{"if-none-match miss", "GET", []string{`If-None-Match: "other"`}, 200},
		{"if-modified-since same", "GET", []string{"If-Modified-Since: " + lm}, 304},
		{"if-modified-since future", "GET", []string{"If-Modified-Since: " + future}, 304},
		{"if-modified-since past", "GET", []string{"If-Modified-Since: " + past}, 200},
		{"if-none-match miss beats ims", "GET", []string{`If-None-Match: "other"`, "If-Modified-Since: " + future}, 200},
		{"if-match hit", "GET", []string{"If-Match: " + etag}, 200},
		{"if-match miss", "GET", []string{`If-Match: "other"`}, 412},
		{"if-match miss HEAD", "HEAD", []string{`If-Match: "other"`}, 412},
		{"if-unmodified-since past", "GET", []string{"If-Unmodified-Since: " + past}, 412},
		{"if-unmodified-since future", "GET", []string{"If-Unmodified-Since: " + future}, 200},
		{"if-match hit beats ius", "GET", []string{"If-Match: " + etag, "If-Unmodified-Since: " + past}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.do(t, tc.method, "/assets/hello.txt", tc.hdr...)
			wantStatus(t, resp, tc.status)
			if tc.status == 304 {
				wantHeader(t, resp, "ETag", etag)
				if body != "" {
					t.Errorf("304 with body %q", body)
				}
			}
		})
	}
}

func TestS3PrefixMappingAndSeveralOrigins(t *testing.T) {
	needMinIO(t)
	yml, env := s3Config(t)
	g := startGateway(t, yml, env)
	for path, want := range map[string]string{
		"/":                 "<h1>home</h1>",   // site: www/index.html
		"/docs/":            "<h1>docs</h1>",   // site: www/docs/index.html
		"/app.js":           "console.log(1)",  // site: www/app.js
		"/assets/hello.txt": helloTxt,          // assets bucket, prefix stripped
		"/local/local.txt":  "from the folder", // dir origin beside the buckets
	} {
		resp, body := g.do(t, "GET", path)
		wantStatus(t, resp, 200)
		if body != want {
			t.Errorf("%s: body %q, want %q", path, body, want)
		}
	}
	// The query string never takes part in matching: this is still the denied route.
	resp, _ := g.do(t, "GET", "/private/secret.txt?x=/assets/hello.txt")
	wantStatus(t, resp, 403)
	// /private/* comes before "*", so www/../private is not reachable another way either.
	resp, _ = g.do(t, "GET", "/secret.txt")
	wantStatus(t, resp, 404)
}

func TestS3MissingKeyAndErrorsLeakNothing(t *testing.T) {
	needMinIO(t)
	yml, env := s3Config(t)
	g := startGateway(t, yml, env)
	for _, p := range []string{"/assets/nope.txt", "/nope.html", "/docs/missing/"} {
		resp, body := g.do(t, "GET", p)
		wantStatus(t, resp, 404)
		if body != "404 Not Found\n" {
			t.Errorf("%s: body %q", p, body)
		}
	}
	resp, _ := g.do(t, "HEAD", "/assets/nope.txt")
	wantStatus(t, resp, 404)
	// The log has the cause; the client does not.
	if !strings.Contains(g.access.String(), `"key":"nope.txt"`) {
		t.Errorf("access log lacks the key:\n%s", g.access.String())
	}
}

func TestS3CredentialsFromDefaultChain(t *testing.T) {
	needMinIO(t)
	t.Setenv("AWS_ACCESS_KEY_ID", minio.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", minio.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	g := startGateway(t, `
origins:
  assets:
    s3: {bucket: assets, endpoint: "${E}", path_style: true, region: us-east-1}
routes:
  - {path: "*", origin: assets, public: true}
`, map[string]string{"E": minio.Endpoint})
	resp, body := g.do(t, "GET", "/hello.txt")
	wantStatus(t, resp, 200)
	if body != helloTxt {
		t.Errorf("body %q", body)
	}
	g.state.ProbeAll(context.Background(), slogDiscard)
	if ready, res := g.state.Ready(); !ready {
		t.Errorf("not ready: %+v", res)
	}
}

func TestS3WrongCredentialsAndMissingBucket(t *testing.T) {
	needMinIO(t)
	g := startGateway(t, `
origins:
  badkeys:
    s3: {bucket: assets, endpoint: "${E}", path_style: true, access_key_id: wrong, secret_access_key: wrongwrong, max_attempts: 1}
  nobucket:
    s3: {bucket: no-such-bucket, endpoint: "${E}", path_style: true, access_key_id: "${K}", secret_access_key: "${S}", max_attempts: 1}
routes:
  - {path: /bad/*, origin: badkeys, strip_prefix: /bad, public: true}
  - {path: /none/*, origin: nobucket, strip_prefix: /none, public: true}
`, map[string]string{"E": minio.Endpoint, "K": minio.AccessKey, "S": minio.SecretKey})
	resp, body := g.do(t, "GET", "/bad/hello.txt")
	wantStatus(t, resp, 502)
	resp, _ = g.do(t, "GET", "/none/hello.txt")
	wantStatus(t, resp, 502)
	if strings.Contains(body, "assets") || strings.Contains(body, "127.0.0.1") || strings.Contains(body, "InvalidAccessKeyId") {
		t.Errorf("error body leaks internals: %q", body)
	}
	g.state.ProbeAll(context.Background(), slogDiscard)
	if ready, _ := g.state.Ready(); ready {
		t.Error("ready with bad credentials and a missing bucket")
	}
}

// TestS3LargeObjectBoundedMemory streams 100 MiB through the gateway and checks that the
// heap never grows by more than a few MiB: the body is never buffered.
func TestS3LargeObjectBoundedMemory(t *testing.T) {
	needMinIO(t)
	yml, env := s3Config(t)
	g := startGateway(t, yml, env)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	resp, err := http.Get(g.URL + "/assets/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	close(done)
	if err != nil || n != bigSize {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
	if [32]byte(h.Sum(nil)) != bigSum {
		t.Fatal("checksum mismatch")
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("streamed %d MiB; heap in use grew by at most %.1f MiB (base %.1f MiB)", bigSize>>20, float64(growth)/(1<<20), float64(base.HeapInuse)/(1<<20))
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB while streaming: the body is being buffered", growth>>20)
	}
}

func TestS3OriginDownAndTimeout(t *testing.T) {
	// A port with nothing listening: refused, so 502.
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// A listener that accepts and never answers: 504 after the origin timeout.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	g := startGateway(t, fmt.Sprintf(`
origins:
  down:
    s3: {bucket: b, endpoint: "http://127.0.0.1:%d", path_style: true, access_key_id: k, secret_access_key: s, max_attempts: 1}
  slow:
    s3: {bucket: b, endpoint: "http://%s", path_style: true, access_key_id: k, secret_access_key: s, max_attempts: 3}
    timeout: 300ms
routes:
  - {path: /down/*, origin: down, public: true}
  - {path: /slow/*, origin: slow, public: true}
`, port, hang.Addr()), nil)
	resp, body := g.do(t, "GET", "/down/x")
	wantStatus(t, resp, 502)
	if body != "502 Bad Gateway\n" {
		t.Errorf("body %q", body)
	}
	start := time.Now()
	resp, body = g.do(t, "GET", "/slow/x")
	wantStatus(t, resp, 504)
	if body != "504 Gateway Timeout\n" {
		t.Errorf("body %q", body)
	}
	// Retries must not multiply the timeout: the whole header phase is bounded.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %s", d)
	}
	resp, _ = g.do(t, "HEAD", "/slow/x")
	wantStatus(t, resp, 504)
}
