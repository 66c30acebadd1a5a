// Package uppy is gatehouse's end-to-end browser test of the Uppy endpoints: Uppy's AWS
// S3 plugin (the uppy npm bundle, loaded by a page without a bundler) in Debian's
// chromium, driven by playwright-core, on an app served from another origin than
// gatehouse, uploads a 20 MiB file in 5 MiB parts through gatehouse's
// Companion-compatible endpoints (with CORS preflights), straight to a real MinIO. It
// runs when GATEHOUSE_E2E_BROWSER=1 (scripts/test sets it once chromium and the npm
// packages are installed) and is skipped otherwise.
package uppy

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// alice's password is "wonderland" (bcrypt cost 4: the test is not about costs).
const gatehouseConfig = `
origins:
  store:
    s3: {bucket: uploads, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - name: files
    path: /files/*
    origin: store
    strip_prefix: /files
    auth:
      methods:
        - basic: {users: {alice: "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."}}
    cors:
      allowed_origins: ["${APP_ORIGIN}"]
      allowed_headers: [Authorization]
    upload:
      max_size: 64MiB
      key_prefix: uploads/{user}/
      presign: {mode: bucket, expires: 15m}
`

const fileSize = 20 << 20

// TestBrowserUppy: the app's Uppy uploads the file in four parts PUT straight to MinIO;
// the object holds its bytes under alice's prefix, no multipart upload remains open,
// and the browser preflighted its calls to gatehouse.
func TestBrowserUppy(t *testing.T) {
	node := testenv.Browser(t, "uppy/dist/uppy.min.js")
	minio, err := testenv.StartMinIO()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(minio.Stop)
	minio.CreateBucket(t, "uploads")

	file := make([]byte, fileSize)
	rand.NewChaCha8([32]byte{'u', 'p', 'p', 'y'}).Read(file)
	app := httptest.NewServer(appHandler(file))
	t.Cleanup(app.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{"APP_ORIGIN": app.URL, "MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}
	cfg, err := config.Parse("e2e.yaml", []byte(gatehouseConfig), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	st, err := gateway.Build(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	var preflights atomic.Int32
	h := gateway.NewHandler(st, log, log)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			preflights.Add(1)
		}
		h.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); st.Close() })

	root, _ := filepath.Abs("../../..")
	artifacts := filepath.Join(root, "test-artifacts", "uppy")
	os.RemoveAll(artifacts)
	q := url.Values{
		"endpoint":      {base + config.UploadEndpointPrefix + "files"},
		"authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "browser.mjs")
	cmd.Env = append(os.Environ(), "APP_URL="+app.URL+"/?"+q.Encode(), "BUCKET_URL="+minio.Endpoint, "ARTIFACTS="+artifacts)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil || !strings.Contains(string(out), "E2E OK") {
		t.Fatalf("browser test failed: %v\ngatehouse log:\n%s", err, logs.String())
	}

	obj, err := minio.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("uploads/alice/big file.bin")})
	if err != nil {
		t.Fatalf("the object is not in MinIO: %v", err)
	}
	got, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || !bytes.Equal(got, file) {
		t.Errorf("the object holds %d bytes (%v), not the file's %d", len(got), err, len(file))
	}
	ups, err := minio.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("open multipart uploads: %d (%v)", len(ups.Uploads), err)
	}
	if preflights.Load() == 0 {
		t.Error("the browser sent gatehouse no CORS preflight")
	}
	t.Logf("%d preflights to gatehouse", preflights.Load())
}

// appHandler serves the app: its page, Uppy's dist bundle from node_modules, and the
// file to upload.
func appHandler(file []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "app.html") })
	mux.HandleFunc("GET /uppy.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "node_modules/uppy/dist/uppy.min.js")
	})
	mux.HandleFunc("GET /uppy.min.css", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "node_modules/uppy/dist/uppy.min.css")
	})
	mux.HandleFunc("GET /file.bin", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "file.bin", time.Time{}, bytes.NewReader(file))
	})
	return mux
}
