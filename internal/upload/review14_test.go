package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestRegression_ContentTypeControlChars: mime.ParseMediaType accepts control characters
// inside a quoted parameter, so a declared type like `text/plain; a="x\x01y"` passed the
// check: the presign call signed a header no client can send (200), and Uppy's create
// made the S3 SDK refuse the header, answered 502 after retries. Both are 400 now.
func TestRegression_ContentTypeControlChars(t *testing.T) {
	bad := []string{"text/plain; a=\"x\x01y\"", "text/plain; a=\"x\ty\"", "text/plain; a=\"x\x7fy\"", "text/plain; a=\"é\"", "text/plain\r\nX: y",
		"text/plain; a=\"" + strings.Repeat("x", 300) + "\""}
	for _, lim := range []Limits{{}, {ContentTypes: []string{"text/*"}}} {
		e := &Endpoint{Limits: lim}
		for _, ct := range bad {
			var pe *errPresign
			if _, err := e.contentType(ct); !errors.As(err, &pe) || pe.status != http.StatusBadRequest {
				t.Errorf("%v: contentType(%q) = %v, want 400", lim.ContentTypes, ct, err)
			}
		}
		if got, err := e.contentType(`text/plain; charset="utf-8"`); err != nil || got != `text/plain; charset="utf-8"` {
			t.Errorf("good type: %q %v", got, err)
		}
	}
	s := newUppyServer(t, Limits{MaxSize: 1 << 20, KeyPrefix: "uploads/{user}/", Overwrite: true})
	ct := "text/plain; a=\"x\x01y\""
	if st := s.call(t, "alice", "POST", "s3/multipart", map[string]string{"filename": "n.bin", "type": ct}, nil); st != http.StatusBadRequest {
		t.Errorf("create: %d, want 400", st)
	}
	if st := s.call(t, "alice", "GET", "s3/params?filename=n.bin&type=text%2Fplain%3B+a%3D%22x%01y%22", nil, nil); st != http.StatusBadRequest {
		t.Errorf("params: %d, want 400", st)
	}
	if st := s.presignJSON(t, "alice", map[string]any{"filename": "n.bin", "content_type": ct, "size": 1}); st != http.StatusBadRequest {
		t.Errorf("presign: %d, want 400", st)
	}
}

// FuzzContentType: a declared type the endpoint accepts is short, printable ASCII (so
// any HTTP client can send it as signed) and a media type.
func FuzzContentType(f *testing.F) {
	for _, s := range []string{"text/plain", "text/plain; a=\"x\x01y\"", "image/png; q=\"a b\"", "", "a/b; c=\"\\\"\""} {
		f.Add(s)
	}
	e := &Endpoint{}
	f.Fuzz(func(t *testing.T, ct string) {
		got, err := e.contentType(ct)
		if err != nil {
			var pe *errPresign
			if !errors.As(err, &pe) || pe.status < 400 || pe.status > 499 {
				t.Fatalf("refusal %v is not a 4xx", err)
			}
			return
		}
		if got == "" {
			return
		}
		if len(got) > maxContentType || strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			t.Fatalf("accepted %q", got)
		}
		if _, _, err := mime.ParseMediaType(got); err != nil {
			t.Fatalf("accepted %q: %v", got, err)
		}
	})
}

// presignJSON posts a presign call with a JSON body as user and returns the status
// (failing the test on a 5xx).
func (s *uppyServer) presignJSON(t *testing.T, user string, body map[string]any) int {
	t.Helper()
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.URL+s.e.Base+"presign", bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Errorf("presign: %d %s (a client must never cause a 5xx)", resp.StatusCode, data)
	}
	return resp.StatusCode
}

// presignBody is like presignJSON and also returns the answer's body.
func (s *uppyServer) presignBody(t *testing.T, user string, body map[string]any) (int, string) {
	t.Helper()
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.URL+s.e.Base+"presign", bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestRegression_PresignPutIgnoresMaxSize: the default presign call (method PUT, no
// size) gave a URL S3 accepts up to 5 GiB on, whatever max_size said. A presigned PUT
// now needs a size of 1 byte or more (signed as Content-Length) unless max_size is 5 GiB
// or more; POST, whose policy carries the range, needs none.
func TestRegression_PresignPutIgnoresMaxSize(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: 1 << 20, KeyPrefix: "uploads/{user}/", Overwrite: true})
	for _, body := range []map[string]any{
		{"filename": "a.txt"},
		{"filename": "a.txt", "method": "PUT"},
		{"filename": "a.txt", "size": 0},
	} {
		if st, out := s.presignBody(t, "alice", body); st != http.StatusBadRequest || !strings.Contains(out, "size") {
			t.Errorf("%v: %d %s, want 400 naming size", body, st, out)
		}
	}
	for _, body := range []map[string]any{
		{"filename": "a.txt", "size": 5},
		{"filename": "a.txt", "method": "POST"},
	} {
		if st, out := s.presignBody(t, "alice", body); st != http.StatusOK {
			t.Errorf("%v: %d %s, want 200", body, st, out)
		}
	}
	s.e.Limits.MaxSize = maxSinglePut
	if st, out := s.presignBody(t, "alice", map[string]any{"filename": "a.txt"}); st != http.StatusOK {
		t.Errorf("max_size 5 GiB, no size: %d %s, want 200", st, out)
	}
}

// TestRegression_CreateOnlyUppyUploadLeftOpen: on a create-only route a completion
// refused with 412 (the key holds an object) left the upload open, its parts stored and
// listed by ListMultipartUploads; it is aborted now. And create itself answers 412 when
// the key holds an object, before any part is sent.
func TestRegression_CreateOnlyUppyUploadLeftOpen(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: 1 << 20, KeyPrefix: "uploads/{user}/", Overwrite: false})
	key, id := s.create(t, "alice", "taken.bin")
	p := completePart{1, s.putPart(t, "alice", key, id, 1, []byte("late"))}
	if _, err := minio.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(key), Body: strings.NewReader("first")}); err != nil {
		t.Fatal(err)
	}
	q := "?key=" + url.QueryEscape(key)
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": []completePart{p}}, nil); st != http.StatusPreconditionFailed {
		t.Errorf("complete over an object: %d, want 412", st)
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("the refused upload was left open (%d)", n)
	}
	if got := string(s.object(t, key)); got != "first" {
		t.Errorf("object %q", got)
	}
	if st := s.call(t, "alice", "POST", "s3/multipart", map[string]any{"filename": "taken.bin", "type": "a/b"}, nil); st != http.StatusPreconditionFailed {
		t.Errorf("create over an object: %d, want 412", st)
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("a refused create left %d uploads", n)
	}
	// A free key still starts an upload.
	if _, id := s.create(t, "alice", "free.bin"); id == "" {
		t.Error("no upload id")
	}
}
