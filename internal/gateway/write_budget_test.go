package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/origin/s3origin"
)

// holdUpload starts a chunked PUT of path on a connection of its own and sends 9 MiB of
// it (past the first 8 MiB part, so it holds its two part buffers), then waits until
// the bucket shows its multipart upload. It returns the connection, to go on with.
func (g *wgw) holdUpload(t *testing.T, path, key string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, br := g.dial(t)
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n%s\r\n\r\n", path, asAlice)
	fmt.Fprintf(conn, "%x\r\n%s\r\n", 9<<20, strings.Repeat("h", 9<<20))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := minio.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &g.bucket, Prefix: &key})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Uploads) > 0 {
			return conn, br
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no multipart upload started", path)
		}
	}
}

// TestRegression_UploadMemoryUnbounded: streamed uploads took part buffers without a
// limit across uploads, and a trickling body held them forever. With the origin's
// budget set to one multipart upload's buffers (16 MiB): while one chunked upload
// holds them, another is answered 503 with Retry-After and stores nothing, and a
// known-length PUT (no buffers) still succeeds; once the first ends, the other
// succeeds. A held upload whose body then trickles below the least rate is cut (400,
// nothing stored, no upload left open), which frees the budget too.
func TestRegression_UploadMemoryUnbounded(t *testing.T) {
	g := writeGateway(t)
	gateway.SetUploadBudget(g.state, "up", s3origin.NewBudget(16<<20))
	second := strings.Repeat("2", 9<<20)

	conn, br := g.holdUpload(t, "/s3/hold.bin", "hold.bin")
	resp, _ := g.send(t, "PUT", "/s3/second.bin", strings.NewReader(second), -1, asAlice)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("chunked PUT beyond the budget: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, ok := g.stored(t, "second.bin"); ok {
		t.Error("a refused upload stored an object")
	}
	if resp, _ := g.put(t, "/s3/known.bin", []byte(strings.Repeat("k", 1<<20)), asAlice); resp.StatusCode != http.StatusCreated {
		t.Errorf("known-length PUT while the budget is held: %d", resp.StatusCode)
	}
	io.WriteString(conn, "0\r\n\r\n") // the first upload ends
	if r, err := http.ReadResponse(br, nil); err != nil || r.StatusCode != http.StatusCreated {
		t.Fatalf("the held upload: %v %v", r, err)
	}
	if resp, _ := g.send(t, "PUT", "/s3/second.bin", strings.NewReader(second), -1, asAlice); resp.StatusCode != http.StatusCreated {
		t.Fatalf("chunked PUT once the budget is free: %d", resp.StatusCode)
	}
	if b, _ := g.stored(t, "second.bin"); b != second {
		t.Errorf("second.bin: stored %d bytes", len(b))
	}

	// A trickle: a byte every 50 ms against a least rate of 64 KiB a second.
	defer gateway.SetBodyRate(time.Second, 64<<10)()
	conn, br = g.holdUpload(t, "/s3/trickle.bin", "trickle.bin")
	cut := make(chan *http.Response, 1)
	go func() {
		r, _ := http.ReadResponse(br, nil)
		cut <- r
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(30 * time.Second)
	for trickling := true; trickling; {
		select {
		case <-tick.C:
			io.WriteString(conn, "1\r\nx\r\n")
		case r := <-cut:
			if r == nil || r.StatusCode != http.StatusBadRequest {
				t.Errorf("the trickle was answered %v, want 400", r)
			}
			trickling = false
		case <-timeout:
			t.Fatal("a trickling upload was not cut")
		}
	}
	if _, ok := g.stored(t, "trickle.bin"); ok {
		t.Error("the trickle stored an object")
	}
	if resp, _ := g.send(t, "PUT", "/s3/third.bin", strings.NewReader(second), -1, asAlice); resp.StatusCode != http.StatusCreated {
		t.Fatalf("chunked PUT once the trickle was cut: %d", resp.StatusCode)
	}
	g.noUploads(t)
}
