package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/upload"
)

var presignSeq atomic.Int64

const (
	presignAlice = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
	presignKey   = "0123456789abcdef0123456789abcdef-test-key"
)

// presignGateway serves, behind basic auth for alice, on a fresh bucket:
//
//	/up/*  mode bucket, keys under up/{user}/, max_size 1KiB, text/plain, CORS for
//	       https://app.example
//	/gw/*  mode gateway (PUT through gatehouse), keys under gw/{user}/, max_size 1KiB
func presignGateway(t *testing.T) (*gw, string) {
	t.Helper()
	needMinIO(t)
	bucket := fmt.Sprintf("presign-%d", presignSeq.Add(1))
	if _, err := minio.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	auth := fmt.Sprintf(`{methods: [{basic: {users: {alice: %q}}}]}`, aliceFastHash)
	g := startGateway(t, fmt.Sprintf(`
origins:
  up:
    s3: {bucket: %s, endpoint: %q, path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - name: up
    path: /up/*
    origin: up
    strip_prefix: /up
    add_prefix: up/
    auth: %[3]s
    cors: {allowed_origins: [https://app.example], allowed_methods: [GET], allowed_headers: [Authorization]}
    upload: {max_size: 1KiB, content_types: [text/plain], key_prefix: "up/{user}/", presign: {expires: 5m}}
  - name: gw
    path: /gw/*
    origin: up
    strip_prefix: /gw
    add_prefix: gw/
    methods: [GET, PUT]
    auth: %[3]s
    upload: {max_size: 1KiB, key_prefix: "gw/{user}/", presign: {mode: gateway, key: "${PRESIGN_KEY}"}}
`, bucket, minio.Endpoint, auth), map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey, "PRESIGN_KEY": presignKey})
	return g, bucket
}

// presignCall posts a JSON presign call and decodes the answer.
func presignCall(t *testing.T, g *gw, route, body string, headers ...string) (int, upload.PresignResponse, string) {
	t.Helper()
	code, out := curlRun(t, append(append([]string{"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body}, hdrArgs(headers)...),
		g.URL+"/_gatehouse/upload/"+route+"/presign")...)
	var res upload.PresignResponse
	if code == 200 {
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("presign answer %q: %v", out, err)
		}
	}
	return code, res, out
}

func hdrArgs(headers []string) []string {
	var args []string
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	return args
}

// curlRun runs the real curl binary and returns the status and body.
func curlRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl binary")
	}
	out, err := exec.Command(path, append([]string{"-sS", "-o", "-", "-w", "\n%{http_code}"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	code, _ := strconv.Atoi(s[i+1:])
	return code, s[:i]
}

// tempFile holds data.
func tempFile(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// curlPut PUTs the file holding data to a presigned answer, with its headers.
func curlPut(t *testing.T, res upload.PresignResponse, rawURL, data string, extra ...string) (int, string) {
	t.Helper()
	args := []string{"-X", "PUT", "-T", tempFile(t, data)}
	for k, v := range res.Headers {
		args = append(args, "-H", k+": "+v)
	}
	return curlRun(t, append(append(args, hdrArgs(extra)...), rawURL)...)
}

// storedObject reads key from the bucket; ok false when there is none.
func storedObject(t *testing.T, bucket, key string) (string, string, bool) {
	t.Helper()
	out, err := minio.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return "", "", false
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	ct := ""
	if out.ContentType != nil {
		ct = *out.ContentType
	}
	return string(data), ct, true
}

// TestPresignEndpointAuthorizes: the endpoint decides with the route's policy: no
// credentials 401 with the route's challenge, nothing signed; no-store on every answer;
// unknown routes and calls 404.
func TestPresignEndpointAuthorizes(t *testing.T) {
	g, _ := presignGateway(t)
	code, _, out := presignCall(t, g, "up", `{"filename":"a.txt","content_type":"text/plain"}`)
	if code != 401 || strings.Contains(out, "X-Amz") || strings.Contains(out, "url") {
		t.Fatalf("unauthenticated: %d %s", code, out)
	}
	code, _, out = presignCall(t, g, "up", `{"filename":"a.txt"}`, "Authorization: Basic YWxpY2U6d3Jvbmc=")
	if code != 401 || strings.Contains(out, "X-Amz") {
		t.Fatalf("wrong password: %d %s", code, out)
	}
	resp, body := g.do(t, "POST", "/_gatehouse/upload/up/presign")
	wantStatus(t, resp, 401)
	wantHeader(t, resp, "Cache-Control", "no-store")
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") || strings.Contains(body, "X-Amz") {
		t.Errorf("challenge %q body %q", resp.Header.Get("WWW-Authenticate"), body)
	}
	for _, p := range []string{"/_gatehouse/upload/nope/presign", "/_gatehouse/upload/up/other", "/_gatehouse/upload/up", "/_gatehouse/upload/"} {
		resp, _ := g.do(t, "GET", p, presignAlice)
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, _ = g.do(t, "PUT", "/_gatehouse/upload/up/presign", presignAlice)
	wantStatus(t, resp, 405)
}

// TestPresignBucketPut: alice gets a presigned PUT for a file under her prefix and the
// real curl stores it in the bucket; keys outside her prefix, other types and sizes
// over max_size are refused before anything is signed.
func TestPresignBucketPut(t *testing.T) {
	g, bucket := presignGateway(t)
	code, res, out := presignCall(t, g, "up", `{"filename":"a b.txt","content_type":"text/plain","size":11}`, presignAlice)
	if code != 200 || res.Method != "PUT" || res.Key != "up/alice/a b.txt" || res.Headers["Content-Type"] != "text/plain" ||
		time.Until(res.Expires) > 5*time.Minute+time.Second || time.Until(res.Expires) < 4*time.Minute {
		t.Fatalf("presign: %d %s", code, out)
	}
	if code, out := curlPut(t, res, res.URL, "hello world", "Content-Type: text/html"); code != 403 {
		t.Errorf("other type at the bucket: %d %s", code, out)
	}
	if code, out := curlPut(t, res, res.URL, "hello world!"); code != 403 {
		t.Errorf("other size at the bucket: %d %s", code, out)
	}
	if code, out := curlPut(t, res, res.URL, "hello world"); code != 200 {
		t.Fatalf("PUT to the bucket: %d %s", code, out)
	}
	if got, ct, ok := storedObject(t, bucket, "up/alice/a b.txt"); !ok || got != "hello world" || ct != "text/plain" {
		t.Fatalf("stored %v %q %q", ok, got, ct)
	}
	// The same call by query, with key as a path on the route.
	resp, body := g.do(t, "GET", "/_gatehouse/upload/up/presign?key=/up/alice/q.txt&content_type=text/plain&size=5", presignAlice)
	if resp.StatusCode != 200 || !strings.Contains(body, `"key":"up/alice/q.txt"`) {
		t.Errorf("by query: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"key":"/up/bob/x.txt","content_type":"text/plain"}`, 403},
		{`{"key":"/gw/alice/x.txt","content_type":"text/plain"}`, 400},
		{`{"filename":"../x.txt","content_type":"text/plain"}`, 400},
		{`{"filename":"a/b.txt","content_type":"text/plain"}`, 400},
		{`{"filename":"x.png","content_type":"image/png"}`, 415},
		{`{"filename":"x.bin"}`, 415}, // no type: application/octet-stream, not accepted here
		{`{"filename":"x.txt","content_type":"text/plain","size":1025}`, 413},
		{`{"filename":"x.txt","key":"/up/alice/x.txt"}`, 400},
		{`{"filename":"x.txt","method":"PATCH"}`, 400},
		{`{"filename":"x.txt","extra":1}`, 400},
		{`{"filename":`, 400},
	} {
		code, _, out := presignCall(t, g, "up", tc.body, presignAlice)
		if code != tc.want || strings.Contains(out, "X-Amz") {
			t.Errorf("%s: %d %s, want %d", tc.body, code, out, tc.want)
		}
	}
}

// TestPresignBucketPostLimits: a presigned POST's policy makes MinIO refuse a body over
// max_size (content-length-range) and another Content-Type.
func TestPresignBucketPostLimits(t *testing.T) {
	g, bucket := presignGateway(t)
	code, res, out := presignCall(t, g, "up", `{"filename":"form.txt","content_type":"text/plain","method":"POST"}`, presignAlice)
	if code != 200 || res.Method != "POST" || res.Fields["key"] != "up/alice/form.txt" || res.Fields["policy"] == "" {
		t.Fatalf("presign: %d %s", code, out)
	}
	form := func(fields map[string]string, data string) (int, string) {
		var args []string
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			args = append(args, "--form-string", k+"="+fields[k])
		}
		return curlRun(t, append(args, "-F", "file=@"+tempFile(t, data), res.URL)...)
	}
	if code, out := form(res.Fields, strings.Repeat("x", 1025)); code != 400 || !strings.Contains(out, "EntityTooLarge") {
		t.Errorf("over max_size: %d %s", code, out)
	}
	other := map[string]string{}
	for k, v := range res.Fields {
		other[k] = v
	}
	other["Content-Type"] = "text/html"
	if code, out := form(other, "<p>"); code != 403 {
		t.Errorf("other type: %d %s", code, out)
	}
	if _, _, ok := storedObject(t, bucket, "up/alice/form.txt"); ok {
		t.Fatal("a refused POST stored an object")
	}
	if code, out := form(res.Fields, strings.Repeat("y", 1024)); code/100 != 2 {
		t.Fatalf("POST: %d %s", code, out)
	}
	if got, _, ok := storedObject(t, bucket, "up/alice/form.txt"); !ok || len(got) != 1024 {
		t.Fatalf("stored %v %d bytes", ok, len(got))
	}
}

// TestPresignEndpointCORS: a browser's preflight to the endpoint passes with the
// route's cors origins and headers (Content-Type added for the JSON call), and the
// answers carry the route's CORS headers.
func TestPresignEndpointCORS(t *testing.T) {
	g, _ := presignGateway(t)
	resp, _ := g.do(t, "OPTIONS", "/_gatehouse/upload/up/presign", "Origin: https://app.example",
		"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type")
	wantStatus(t, resp, 204)
	wantHeader(t, resp, "Access-Control-Allow-Origin", "https://app.example")
	resp, _ = g.do(t, "OPTIONS", "/_gatehouse/upload/up/presign", "Origin: https://evil.example", "Access-Control-Request-Method: POST")
	wantStatus(t, resp, 403)
	resp, _ = g.do(t, "POST", "/_gatehouse/upload/up/presign", "Origin: https://app.example")
	wantStatus(t, resp, 401)
	wantHeader(t, resp, "Access-Control-Allow-Origin", "https://app.example")
	wantHeader(t, resp, "Cache-Control", "no-store")
}

// TestPresignGatewayMode: a gateway-signed PUT stores through gatehouse; a tampered
// key, size, type, expiry or method is refused and stores nothing; the signature never
// opens GET.
func TestPresignGatewayMode(t *testing.T) {
	g, bucket := presignGateway(t)
	code, res, out := presignCall(t, g, "gw", `{"filename":"f.txt","content_type":"text/plain","size":5}`, presignAlice)
	if code != 200 || res.Method != "PUT" || !strings.HasPrefix(res.URL, g.URL+"/gw/alice/f.txt?") {
		t.Fatalf("presign: %d %s", code, out)
	}
	if code, _, _ := presignCall(t, g, "gw", `{"filename":"f.txt","method":"POST"}`, presignAlice); code != 400 {
		t.Errorf("POST in mode gateway: %d", code)
	}
	u, _ := url.Parse(res.URL)
	tamper := func(name, value string) string {
		q := u.Query()
		q.Set(name, value)
		v := *u
		v.RawQuery = q.Encode()
		return v.String()
	}
	other := *u
	other.Path = "/gw/alice/g.txt"
	past := upload.NewSigner([]byte(presignKey)).Sign(upload.Grant{Route: "gw", Key: "gw/alice/f.txt", MaxSize: 5, ContentType: "text/plain",
		Expires: time.Now().Add(-time.Second), User: "alice"})
	expired := *u
	expired.RawQuery = past.Encode()
	for name, target := range map[string]string{
		"other key":     other.String(),
		"bigger size":   tamper("X-Gatehouse-Max-Size", "6"),
		"later expiry":  tamper("X-Gatehouse-Expires", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)),
		"other user":    tamper("X-Gatehouse-User", "bob"),
		"other type":    tamper("X-Gatehouse-Content-Type", "text/html"),
		"bad signature": tamper("X-Gatehouse-Signature", strings.Repeat("A", 43)),
		"expired":       expired.String(),
	} {
		if code, out := curlPut(t, res, target, "hello"); code != 401 && code != 403 {
			t.Errorf("%s: %d %s", name, code, out)
		}
	}
	untyped := res
	untyped.Headers = nil
	if code, _ := curlPut(t, untyped, res.URL, "hello", "Content-Type: text/html"); code != 401 && code != 403 {
		t.Errorf("other Content-Type: %d", code)
	}
	if code, _ := curlPut(t, untyped, res.URL, "hello"); code != 401 && code != 403 {
		t.Errorf("no Content-Type: %d", code)
	}
	// Two Content-Types, the signed one first: refused, not read as the first.
	if code, _ := curlPut(t, res, res.URL, "hello", "Content-Type: text/html"); code != 401 && code != 403 {
		t.Errorf("two Content-Types: %d", code)
	}
	if code, _ := curlPut(t, res, res.URL, "hello!"); code != 401 && code != 403 {
		t.Errorf("over the signed size: %d", code)
	}
	for _, key := range []string{"gw/alice/f.txt", "gw/alice/g.txt"} {
		if _, _, ok := storedObject(t, bucket, key); ok {
			t.Fatalf("a refused PUT stored %s", key)
		}
	}
	if code, out := curlPut(t, res, res.URL, "hello"); code/100 != 2 {
		t.Fatalf("signed PUT: %d %s", code, out)
	}
	if got, ct, ok := storedObject(t, bucket, "gw/alice/f.txt"); !ok || got != "hello" || ct != "text/plain" {
		t.Fatalf("stored %v %q %q", ok, got, ct)
	}
	// The signature is for PUT only: a GET with it is as good as one without.
	if code, out := curlRun(t, res.URL); code != 401 || strings.Contains(out, "hello") {
		t.Errorf("GET with the signature: %d %s", code, out)
	}
	if code, out := curlRun(t, "-X", "DELETE", res.URL); code/100 == 2 {
		t.Errorf("DELETE with the signature: %d %s", code, out)
	}
	// A signature never buys another signature: the endpoint decides without it.
	if code, out := curlRun(t, "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", `{"filename":"h.txt"}`,
		g.URL+"/_gatehouse/upload/gw/presign?"+u.RawQuery); code != 400 && code != 401 {
		t.Errorf("endpoint with a signature: %d %s", code, out)
	}
}
