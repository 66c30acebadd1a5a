package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// uppyCall sends one Uppy call to the gateway's endpoint for route "up" as user
// ("" for none) and decodes a 200's JSON into out.
func uppyCall(t *testing.T, g *gw, user, method, sub string, body any, out any) (int, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, g.URL+"/_gatehouse/upload/up/"+sub, rd)
	if user != "" {
		req.SetBasicAuth(user, "wonderland")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, sub, err, data)
		}
	}
	return resp.StatusCode, resp.Header
}

// TestUppyThroughGateway: Uppy's multipart calls through the gateway's upload endpoint,
// with the route's basic auth and CORS: a preflight; 401 with the challenge and nothing
// started without credentials; bob cannot sign alice's upload; parts PUT with net/http
// straight to MinIO on the signed URLs; over max_size the complete is 413 and the upload
// aborted; within it the object is readable through the route.
func TestUppyThroughGateway(t *testing.T) {
	needMinIO(t)
	bucket := fmt.Sprintf("uppy-gw-%d", presignSeq.Add(1))
	if _, err := minio.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
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
    auth: {methods: [{basic: {users: {alice: %[3]q, bob: %[3]q}}}]}
    cors: {allowed_origins: [https://app.example], allowed_headers: [Authorization]}
    upload: {max_size: 12MiB, key_prefix: "up/{user}/", presign: {expires: 5m}}
`, bucket, minio.Endpoint, aliceFastHash), map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})
	open := func() int {
		out, err := minio.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}

	resp, _ := g.do(t, "OPTIONS", "/_gatehouse/upload/up/s3/multipart", "Origin: https://app.example",
		"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	create := map[string]any{"filename": "big.bin", "type": "application/octet-stream", "metadata": map[string]any{}}
	if st, h := uppyCall(t, g, "", "POST", "s3/multipart", create, nil); st != 401 || h.Get("WWW-Authenticate") == "" {
		t.Errorf("create without credentials: %d %v", st, h)
	}
	if n := open(); n != 0 {
		t.Fatalf("an unauthenticated create started %d uploads", n)
	}

	upload := func(sizes ...int) (string, string, []map[string]any, []byte) {
		var c struct{ Key, UploadID string }
		if st, _ := uppyCall(t, g, "alice", "POST", "s3/multipart", create, &c); st != 200 || c.Key != "up/alice/big.bin" {
			t.Fatalf("create: %d %+v", st, c)
		}
		q := "?key=" + url.QueryEscape(c.Key)
		if st, _ := uppyCall(t, g, "bob", "GET", "s3/multipart/"+c.UploadID+"/1"+q, nil, nil); st != 403 {
			t.Errorf("bob signs alice's part: %d, want 403", st)
		}
		var parts []map[string]any
		var all []byte
		for i, n := range sizes {
			var sp struct{ URL string }
			if st, _ := uppyCall(t, g, "alice", "GET", fmt.Sprintf("s3/multipart/%s/%d%s", c.UploadID, i+1, q), nil, &sp); st != 200 {
				t.Fatalf("sign %d: %d", i+1, st)
			}
			data := bytes.Repeat([]byte{byte('a' + i)}, n)
			all = append(all, data...)
			req, _ := http.NewRequest("PUT", sp.URL, bytes.NewReader(data))
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("PUT part %d: %v %v", i+1, resp, err)
			}
			resp.Body.Close()
			parts = append(parts, map[string]any{"PartNumber": i + 1, "ETag": resp.Header.Get("ETag")})
		}
		return c.UploadID, q, parts, all
	}

	id, q, parts, _ := upload(5<<20, 5<<20, 5<<20)
	if st, _ := uppyCall(t, g, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": parts}, nil); st != 413 {
		t.Errorf("complete of 15 MiB over 12 MiB: %d, want 413", st)
	}
	if n := open(); n != 0 {
		t.Errorf("the upload over max_size is still open (%d)", n)
	}

	id, q, parts, data := upload(5<<20, 1000)
	var done struct{ Location string }
	if st, _ := uppyCall(t, g, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": parts}, &done); st != 200 || done.Location != g.URL+"/up/alice/big.bin" {
		t.Fatalf("complete: %d %+v", st, done)
	}
	resp, body := g.do(t, "GET", "/up/alice/big.bin", "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==")
	if resp.StatusCode != 200 || body != string(data) {
		t.Errorf("GET the uploaded object: %d, %d bytes, want %d", resp.StatusCode, len(body), len(data))
	}
	if n := open(); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
}
