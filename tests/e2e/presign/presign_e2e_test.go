// Package presign is gatehouse's end-to-end browser test of presigned POST uploads: a
// page served from another origin than gatehouse asks the route's upload endpoint
// (cross-origin, preflighted) for a presigned POST and submits a real HTML form, in
// Debian's chromium driven by playwright-core, straight to a real MinIO, which enforces
// the policy's content-length-range. It runs when GATEHOUSE_E2E_BROWSER=1 (scripts/test
// sets it once chromium and the npm packages are installed) and is skipped otherwise.
package presign

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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
    s3: {bucket: forms, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
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
      max_size: 1KiB
      content_types: [text/plain]
      key_prefix: uploads/{user}/
      presign: {mode: bucket, expires: 5m}
`

// TestBrowserPresignedPost: the form stores a file within max_size under alice's
// prefix, MinIO refuses one over it, bad credentials get a 401 and nothing signed, and
// the browser preflighted its calls to gatehouse.
func TestBrowserPresignedPost(t *testing.T) {
	node := testenv.Browser(t)
	minio, err := testenv.StartMinIO()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(minio.Stop)
	minio.CreateBucket(t, "forms")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "app.html") })
	app := httptest.NewServer(mux)
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
	artifacts := filepath.Join(root, "test-artifacts", "presign")
	os.RemoveAll(artifacts)
	basic := func(userpass string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass)) }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "browser.mjs")
	cmd.Env = append(os.Environ(), "APP_URL="+app.URL+"/", "ENDPOINT="+base+config.UploadEndpointPrefix+"files",
		"AUTH="+basic("alice:wonderland"), "BAD_AUTH="+basic("alice:wrong"), "BUCKET_URL="+minio.Endpoint, "ARTIFACTS="+artifacts)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil || !strings.Contains(string(out), "E2E OK") {
		t.Fatalf("browser test failed: %v\ngatehouse log:\n%s", err, logs.String())
	}

	obj, err := minio.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("forms"), Key: aws.String("uploads/alice/hello form.txt")})
	if err != nil {
		t.Fatalf("the object is not in MinIO: %v", err)
	}
	got, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || string(got) != "hello from a form" || aws.ToString(obj.ContentType) != "text/plain" {
		t.Errorf("the object holds %q (%v), type %q", got, err, aws.ToString(obj.ContentType))
	}
	if _, err := minio.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("forms"), Key: aws.String("uploads/alice/big.txt")}); err == nil {
		t.Error("MinIO stored the file over max_size")
	}
	if preflights.Load() == 0 {
		t.Error("the browser sent gatehouse no CORS preflight")
	}
}
