package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestRegression_UploadEndpointLogsCause: a call to the upload endpoint that failed at
// the origin (502) was logged without an error field (serveUpload never set the cause),
// so the operator could not tell why. The origin here refuses connections.
func TestRegression_UploadEndpointLogsCause(t *testing.T) {
	g := startGateway(t, fmt.Sprintf(`
origins:
  down:
    s3: {bucket: b, endpoint: "http://127.0.0.1:1", path_style: true, access_key_id: k, secret_access_key: s, max_attempts: 1}
routes:
  - name: up
    path: /up/*
    origin: down
    strip_prefix: /up
    auth: {methods: [{basic: {users: {alice: %q}}}]}
    upload: {max_size: 1MiB, key_prefix: "{user}/", presign: {expires: 5m}}
`, aliceFastHash), nil)
	req, err := http.NewRequest("POST", g.URL+"/_gatehouse/upload/up/s3/multipart", strings.NewReader(`{"filename":"a.bin","type":"text/plain"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", "wonderland")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", res.StatusCode)
	}
	log := g.access.String()
	if !strings.Contains(log, `"status":502`) || !strings.Contains(log, `"error":"uppy s3/multipart: `) {
		t.Errorf("access log lacks the cause:\n%s", log)
	}
}
