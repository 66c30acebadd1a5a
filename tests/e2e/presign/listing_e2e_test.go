package presign

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// A listing route whose uploads the bucket presigns: alice's folder gets the form.
const listingConfig = `
origins:
  store:
    s3: {bucket: listing, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - name: shared
    path: /shared/*
    origin: store
    strip_prefix: /shared
    add_prefix: shared/
    listing: true
    auth:
      methods:
        - basic: {users: {alice: "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."}}
    upload:
      max_size: 1KiB
      key_prefix: shared/{user}/
      presign: {mode: bucket, expires: 5m}
`

// TestBrowserListingUploadForm: in headless chromium, alice opens her folder's listing
// through gatehouse (basic auth), chooses a file, submits the page's form (no script),
// and lands back on the listing, which shows the file; the object is in MinIO under the
// folder with its bytes. A file over max_size is refused by MinIO and stored nowhere.
func TestBrowserListingUploadForm(t *testing.T) {
	node := testenv.Browser(t)
	minio, err := testenv.StartMinIO()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(minio.Stop)
	minio.CreateBucket(t, "listing")
	ctx := context.Background()
	if _, err := minio.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("listing"), Key: aws.String("shared/alice/readme.txt"),
		Body: strings.NewReader("seed")}); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}
	cfg, err := config.Parse("e2e.yaml", []byte(listingConfig), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	st, err := gateway.Build(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: gateway.NewHandler(st, log, log)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); st.Close() })

	root, _ := filepath.Abs("../../..")
	artifacts := filepath.Join(root, "test-artifacts", "presign-listing")
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, node, "listing.mjs")
	cmd.Env = append(os.Environ(), "LISTING_URL="+base+"/shared/alice/", "ORIGIN="+base, "USERNAME=alice", "PASSWORD=wonderland",
		"BUCKET_URL="+minio.Endpoint, "ARTIFACTS="+artifacts)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil || !strings.Contains(string(out), "E2E OK") {
		t.Fatalf("browser test failed: %v\ngatehouse log:\n%s", err, logs.String())
	}

	obj, err := minio.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("listing"), Key: aws.String("shared/alice/hello listing.txt")})
	if err != nil {
		t.Fatalf("the object is not in MinIO: %v", err)
	}
	got, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || string(got) != "hello from the listing form" {
		t.Errorf("the object holds %q (%v)", got, err)
	}
	t.Logf("stored with Content-Type %q", aws.ToString(obj.ContentType))
	if _, err := minio.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("listing"), Key: aws.String("shared/alice/big.txt")}); err == nil {
		t.Error("MinIO stored the file over max_size")
	}
	// The page was fetched with basic auth; the log shows alice listing her folder.
	if !strings.Contains(logs.String(), "user=alice") {
		t.Errorf("no request by alice in the log:\n%s", logs.String())
	}
}
