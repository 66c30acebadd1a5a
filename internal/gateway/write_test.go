package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// Credentials of the write tests: alice (aliceFastHash) and bob, hashed at bcrypt's
// lowest cost when the tests start.
const (
	asAlice = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
	asBob   = "Authorization: Basic Ym9iOmJ1aWxkZXI="         // bob:builder
)

// wgw is a gatehouse with write routes: one bucket of its own and one folder.
type wgw struct {
	*gw
	bucket, dir string
	// served receives one value each time a request has been answered and logged, so
	// a test can wait for the gateway to finish a request its client abandoned.
	served chan struct{}
}

var bucketSeq atomic.Int64

// writeGateway serves, all behind basic auth for alice and bob:
//
//	/s3/*     bucket, any key, max_size 2GiB, GET HEAD PUT DELETE
//	/small/*  bucket under small/, max_size 1KiB, text/plain or image/*, create-only
//	/home/*   bucket under home/, key_prefix home/{user}/, max_size 1MiB
//	/dir/*    the folder, max_size 2GiB, GET PUT DELETE
//	/cached/* bucket under cached/, cached, max_size 1MiB
func writeGateway(t *testing.T) *wgw {
	t.Helper()
	needMinIO(t)
	bucket := fmt.Sprintf("writes-%d", bucketSeq.Add(1))
	if _, err := minio.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	bob, err := bcrypt.GenerateFromPassword([]byte("builder"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	auth := fmt.Sprintf(`{methods: [{basic: {users: {alice: %q, bob: %q}}}]}`, aliceFastHash, bob)
	yml := fmt.Sprintf(`
cache: {memory: {max_size: 64MiB}, slice_size: 1MiB}
origins:
  up:
    s3: {bucket: %s, endpoint: %q, path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
  folder:
    dir: {root: %q}
routes:
  - path: /s3/*
    origin: up
    strip_prefix: /s3
    methods: [GET, HEAD, PUT, DELETE]
    auth: %[4]s
    upload: {max_size: 2GiB}
  - path: /small/*
    origin: up
    strip_prefix: /small
    add_prefix: small/
    methods: [GET, PUT]
    auth: %[4]s
    upload: {max_size: 1KiB, content_types: [text/plain, image/*], overwrite: false}
  - path: /home/*
    origin: up
    strip_prefix: /home
    add_prefix: home/
    methods: [GET, PUT, DELETE]
    auth: %[4]s
    upload: {max_size: 1MiB, key_prefix: "home/{user}/"}
  - path: /dir/*
    origin: folder
    strip_prefix: /dir
    methods: [GET, PUT, DELETE]
    auth: %[4]s
    upload: {max_size: 2GiB}
  - path: /cached/*
    origin: up
    strip_prefix: /cached
    add_prefix: cached/
    methods: [GET, HEAD, PUT, DELETE]
    cache: {policy: optimized}
    auth: %[4]s
    upload: {max_size: 1MiB}
`, bucket, minio.Endpoint, dir, auth)
	cfg, err := config.Parse("test.yaml", []byte(yml), func(k string) (string, bool) {
		v, ok := map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st.Start(ctx)
	access := &syncBuffer{}
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.NewJSONHandler(access, nil)))
	served := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { served <- struct{}{} }()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		st.Close()
	})
	return &wgw{gw: &gw{Server: srv, access: access, state: st}, bucket: bucket, dir: dir, served: served}
}

// put sends a PUT of body (known length) with "Name: value" headers.
func (g *wgw) put(t *testing.T, path string, body []byte, headers ...string) (*http.Response, string) {
	t.Helper()
	return g.send(t, "PUT", path, bytes.NewReader(body), int64(len(body)), headers...)
}

// send sends a request whose body is r: of length n, or chunked when n is -1.
func (g *wgw) send(t *testing.T, method, path string, r io.Reader, n int64, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r != nil {
		req.Body, req.ContentLength = io.NopCloser(r), n
		if n == 0 {
			req.Body = http.NoBody
		}
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// stored returns the object at key in the test bucket, or ok false when there is none.
func (g *wgw) stored(t *testing.T, key string) (body string, ok bool) {
	t.Helper()
	out, err := minio.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &g.bucket, Key: &key})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return "", false
		}
		t.Fatalf("GetObject %q: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b), true
}

// noUploads fails when the bucket has a multipart upload in progress.
func (g *wgw) noUploads(t *testing.T) {
	t.Helper()
	out, err := minio.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &g.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Uploads {
		t.Errorf("multipart upload left open: key %q, id %s", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
}

// lastAccess returns the last access-log line.
func (g *wgw) lastAccess(t *testing.T) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(g.access.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("access log %q: %v", lines[len(lines)-1], err)
	}
	return m
}

func TestWritePutGetDelete(t *testing.T) {
	g := writeGateway(t)
	for _, prefix := range []string{"/s3", "/dir"} {
		t.Run(prefix, func(t *testing.T) {
			resp, _ := g.put(t, prefix+"/notes/a.txt", []byte("version one"), asAlice, "Content-Type: text/plain")
			wantStatus(t, resp, http.StatusCreated)
			if etag := resp.Header.Get("ETag"); !strings.HasPrefix(etag, `"`) {
				t.Errorf("ETag %q", etag)
			}
			wantHeader(t, resp, "Cache-Control", "no-store")
			log := g.lastAccess(t)
			if log["key"] != "notes/a.txt" || log["bytes_received"] != float64(11) || log["status"] != float64(201) {
				t.Errorf("access log %v", log)
			}
			resp, body := g.do(t, "GET", prefix+"/notes/a.txt", asAlice)
			wantStatus(t, resp, 200)
			if body != "version one" {
				t.Errorf("GET after PUT: %q", body)
			}
			// A replacing PUT answers 201 as well (docs/uploads.md).
			resp, _ = g.put(t, prefix+"/notes/a.txt", []byte("version two"), asAlice)
			wantStatus(t, resp, http.StatusCreated)
			if _, body := g.do(t, "GET", prefix+"/notes/a.txt", asAlice); body != "version two" {
				t.Errorf("GET after second PUT: %q", body)
			}
			// An empty body is an empty object.
			resp, _ = g.send(t, "PUT", prefix+"/empty.txt", strings.NewReader(""), 0, asAlice)
			wantStatus(t, resp, http.StatusCreated)
			if resp, body := g.do(t, "GET", prefix+"/empty.txt", asAlice); resp.StatusCode != 200 || body != "" {
				t.Errorf("empty object: %d %q", resp.StatusCode, body)
			}
			for range 2 { // idempotent
				resp, _ = g.do(t, "DELETE", prefix+"/notes/a.txt", asAlice)
				wantStatus(t, resp, http.StatusNoContent)
			}
			resp, _ = g.do(t, "GET", prefix+"/notes/a.txt", asAlice)
			wantStatus(t, resp, 404)
			// A folder path names no object.
			resp, _ = g.put(t, prefix+"/notes/", []byte("x"), asAlice)
			wantStatus(t, resp, http.StatusBadRequest)
		})
	}
	if _, err := os.Stat(filepath.Join(g.dir, "empty.txt")); err != nil {
		t.Errorf("the folder origin holds no empty.txt: %v", err)
	}
}

func TestWriteAuthorization(t *testing.T) {
	g := writeGateway(t)
	// Unauthenticated, wrong password: 401 and nothing stored.
	for _, h := range []string{"X-None: 1", "Authorization: Basic YWxpY2U6bm9wZQ=="} {
		resp, _ := g.put(t, "/s3/anon.txt", []byte("nope"), h)
		wantStatus(t, resp, http.StatusUnauthorized)
		resp, _ = g.do(t, "DELETE", "/s3/anon.txt", h)
		wantStatus(t, resp, http.StatusUnauthorized)
	}
	if _, ok := g.stored(t, "anon.txt"); ok {
		t.Error("an unauthenticated PUT stored an object")
	}
	// key_prefix home/{user}/: each writes only under their own folder.
	resp, _ := g.put(t, "/home/alice/cv.txt", []byte("alice's"), asAlice)
	wantStatus(t, resp, http.StatusCreated)
	resp, _ = g.put(t, "/home/bob/cv.txt", []byte("bob's"), asBob)
	wantStatus(t, resp, http.StatusCreated)
	for _, c := range []struct{ method, path, who string }{
		{"PUT", "/home/bob/cv.txt", asAlice},
		{"PUT", "/home/bob/new.txt", asAlice},
		{"DELETE", "/home/bob/cv.txt", asAlice},
		{"PUT", "/home/alice/cv.txt", asBob},
		{"PUT", "/home/top.txt", asAlice},
		{"PUT", "/home/alicex/cv.txt", asAlice},
	} {
		resp, _ := g.send(t, c.method, c.path, strings.NewReader("overwritten"), 11, c.who)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, resp.StatusCode)
		}
	}
	if b, _ := g.stored(t, "home/bob/cv.txt"); b != "bob's" {
		t.Errorf("bob's object: %q", b)
	}
	if b, _ := g.stored(t, "home/alice/cv.txt"); b != "alice's" {
		t.Errorf("alice's object: %q", b)
	}
	if _, ok := g.stored(t, "home/bob/new.txt"); ok {
		t.Error("alice wrote under bob's prefix")
	}
	resp, _ = g.do(t, "DELETE", "/home/alice/cv.txt", asAlice)
	wantStatus(t, resp, http.StatusNoContent)
	// A method the route does not allow, by an authorized caller: 405 with Allow.
	resp, _ = g.do(t, "DELETE", "/small/a.txt", asAlice)
	wantStatus(t, resp, http.StatusMethodNotAllowed)
	wantHeader(t, resp, "Allow", "GET, PUT")
}

func TestWriteLimits(t *testing.T) {
	g := writeGateway(t)
	over := bytes.Repeat([]byte("x"), 1025)
	md5Of := func(s string) string { h := md5.Sum([]byte(s)); return base64.StdEncoding.EncodeToString(h[:]) }
	sha256Of := func(s string) string { h := sha256.Sum256([]byte(s)); return base64.StdEncoding.EncodeToString(h[:]) }
	cases := []struct {
		name    string
		path    string
		body    []byte
		chunked bool
		headers []string
		want    int
		key     string // must not be stored when want is not 201
	}{
		{"exactly max_size", "/small/max.txt", over[:1024], false, []string{"Content-Type: text/plain"}, 201, ""},
		{"over max_size, known length", "/small/big.txt", over, false, []string{"Content-Type: text/plain"}, 413, "small/big.txt"},
		{"over max_size, chunked", "/small/big2.txt", over, true, []string{"Content-Type: text/plain"}, 413, "small/big2.txt"},
		{"chunked within max_size", "/small/chunked.txt", over[:1000], true, []string{"Content-Type: text/plain; charset=utf-8"}, 201, ""},
		{"content type not allowed", "/small/a.json", []byte("{}"), false, []string{"Content-Type: application/json"}, 415, "small/a.json"},
		{"no content type is octet-stream", "/small/a.bin", []byte("x"), false, nil, 415, "small/a.bin"},
		{"malformed content type", "/small/a.txt", []byte("x"), false, []string{"Content-Type: text/"}, 415, "small/a.txt"},
		{"image/* allows image/png", "/small/a.png", []byte("png"), false, []string{"Content-Type: IMAGE/PNG"}, 201, ""},
		{"create-only: exists", "/small/max.txt", []byte("again"), false, []string{"Content-Type: text/plain"}, 412, ""},
		{"If-Match refused", "/s3/ifmatch.txt", []byte("x"), false, []string{"If-Match: \"abc\""}, 400, "ifmatch.txt"},
		{"If-None-Match * honoured", "/s3/inm.txt", []byte("x"), false, []string{"If-None-Match: *"}, 201, ""},
		{"If-None-Match * on an existing key", "/s3/inm.txt", []byte("y"), false, []string{"If-None-Match: *"}, 412, ""},
		{"Content-MD5 matches", "/s3/md5.txt", []byte("hello"), false, []string{"Content-MD5: " + md5Of("hello")}, 201, ""},
		{"Content-MD5 mismatch", "/s3/md5bad.txt", []byte("hello"), false, []string{"Content-MD5: " + md5Of("jello")}, 400, "md5bad.txt"},
		{"Content-MD5 malformed", "/s3/md5mal.txt", []byte("hello"), false, []string{"Content-MD5: nope"}, 400, "md5mal.txt"},
		{"sha256 matches", "/s3/sha.txt", []byte("hello"), false, []string{"x-amz-checksum-sha256: " + sha256Of("hello")}, 201, ""},
		{"sha256 mismatch", "/s3/shabad.txt", []byte("hello"), false, []string{"x-amz-checksum-sha256: " + sha256Of("jello")}, 400, "shabad.txt"},
		{"sha256 mismatch, chunked", "/s3/shabad2.txt", []byte("hello"), true, []string{"x-amz-checksum-sha256: " + sha256Of("jello")}, 400, "shabad2.txt"},
		{"crc32 mismatch", "/s3/crc.txt", []byte("hello"), false, []string{"x-amz-checksum-crc32: AAAAAA=="}, 400, "crc.txt"},
		{"unverified algorithm", "/s3/sha1.txt", []byte("hello"), false, []string{"x-amz-checksum-sha1: AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, 400, "sha1.txt"},
		{"folder: checksum mismatch", "/dir/bad.txt", []byte("hello"), false, []string{"Content-MD5: " + md5Of("jello")}, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := int64(len(c.body))
			if c.chunked {
				n = -1
			}
			resp, _ := g.send(t, "PUT", c.path, bytes.NewReader(c.body), n, append(c.headers, asAlice)...)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.key != "" {
				if _, ok := g.stored(t, c.key); ok {
					t.Errorf("%q stored", c.key)
				}
			}
		})
	}
	if b, _ := g.stored(t, "small/max.txt"); b != string(over[:1024]) {
		t.Errorf("create-only object replaced: %d bytes", len(b))
	}
	if _, err := os.Stat(filepath.Join(g.dir, "bad.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("folder holds bad.txt: %v", err)
	}
	g.noUploads(t)
}

func TestWriteHostileKeys(t *testing.T) {
	g := writeGateway(t)
	for _, c := range []struct{ path, key string }{
		{"/s3/with%20space/a%20b.txt", "with space/a b.txt"},
		{"/s3/%C3%BCn%C3%AF/%E2%98%83.txt", "ünï/☃.txt"},
		{"/dir/with%20space/a%20b.txt", "with space/a b.txt"},
		{"/dir/%C3%BCn%C3%AF/%E2%98%83.txt", "ünï/☃.txt"},
	} {
		resp, _ := g.put(t, c.path, []byte(c.key), asAlice)
		wantStatus(t, resp, http.StatusCreated)
		if got := g.lastAccess(t)["key"]; got != c.key {
			t.Errorf("%s: key %v, want %q", c.path, got, c.key)
		}
		if _, body := g.do(t, "GET", c.path, asAlice); body != c.key {
			t.Errorf("GET %s: %q", c.path, body)
		}
	}
	for _, p := range []string{"/s3/%2e%2e/x", "/s3/a%2fb", "/s3/a%5cb", "/s3/a\\b", "/s3/a%00b", "/s3/.%2e/secret",
		"/dir/%2e%2e/x", "/dir/a%2f..%2fb", "/dir/..%5cx", "/dir/a%00b", "/s3/a%0d%0ab"} {
		status := g.rawPut(t, p, "hostile", asAlice)
		if status != http.StatusBadRequest {
			t.Errorf("PUT %q: %d, want 400", p, status)
		}
	}
	out, err := minio.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &g.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		if k := aws.ToString(o.Key); k != "with space/a b.txt" && k != "ünï/☃.txt" {
			t.Errorf("unexpected object %q", k)
		}
	}
	entries, _ := os.ReadDir(g.dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want 2", len(entries))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(g.dir), "x")); err == nil {
		t.Error("a write escaped the folder")
	}
}

// rawPut sends a PUT with the request target exactly as given and returns the status.
func (g *wgw) rawPut(t *testing.T, target, body string, headers ...string) int {
	t.Helper()
	conn, err := net.Dial("tcp", g.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: %d\r\n", target, len(body))
	for _, h := range headers {
		fmt.Fprintf(conn, "%s\r\n", h)
	}
	fmt.Fprintf(conn, "\r\n%s", body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("PUT %q: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWriteCachedRouteInvalidates(t *testing.T) {
	g := writeGateway(t)
	putObject(t, g.bucket, "cached/page.txt", "old", nil)
	for i, want := range []string{"Miss from gatehouse", "Hit from gatehouse"} {
		resp, body := g.do(t, "GET", "/cached/page.txt", asAlice)
		if body != "old" || resp.Header.Get("X-Cache") != want {
			t.Fatalf("GET %d: %q, X-Cache %q", i, body, resp.Header.Get("X-Cache"))
		}
	}
	resp, _ := g.put(t, "/cached/page.txt", []byte("new"), asAlice)
	wantStatus(t, resp, http.StatusCreated)
	resp, body := g.do(t, "GET", "/cached/page.txt", asAlice)
	if body != "new" {
		t.Fatalf("GET after PUT: %q (X-Cache %s)", body, resp.Header.Get("X-Cache"))
	}
	// Writes through another route of the same origin invalidate too.
	resp, _ = g.put(t, "/s3/cached/page.txt", []byte("newer"), asAlice)
	wantStatus(t, resp, http.StatusCreated)
	if _, body := g.do(t, "GET", "/cached/page.txt", asAlice); body != "newer" {
		t.Fatalf("GET after PUT on another route: %q", body)
	}
	g.do(t, "GET", "/cached/page.txt", asAlice) // cached again
	resp, _ = g.do(t, "DELETE", "/cached/page.txt", asAlice)
	wantStatus(t, resp, http.StatusNoContent)
	resp, _ = g.do(t, "GET", "/cached/page.txt", asAlice)
	wantStatus(t, resp, http.StatusNotFound)
}

// TestRegression_WriteRefusedNameIs400: a PUT of a key the bucket refuses as a name
// (MinIO: a segment over 255 bytes, XMinioInvalidObjectName, which reads map to "not
// found") answered 404; a write looks nothing up, so it is 400, as the folder answers.
func TestRegression_WriteRefusedNameIs400(t *testing.T) {
	g := writeGateway(t)
	for _, p := range []string{"/s3/" + strings.Repeat("a", 300), "/dir/" + strings.Repeat("a", 300)} {
		resp, _ := g.put(t, p, []byte("x"), asAlice)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT of a 300-byte segment on %s: %d, want 400", p[:5], resp.StatusCode)
		}
	}
}
