package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The generated body has exactly its size and repeats the 1 MiB block across reads of
// any size.
func TestPatternBody(t *testing.T) {
	const size = 3<<20 + 12345
	got, err := io.ReadAll(io.LimitReader(newPatternBody(size), size+1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != size {
		t.Fatalf("read %d bytes, want %d", len(got), size)
	}
	for off := 0; off < size; off += len(pattern) {
		end := min(off+len(pattern), size)
		if !bytes.Equal(got[off:end], pattern[:end-off]) {
			t.Fatalf("bytes %d-%d are not the pattern", off, end)
		}
	}
}

// put sends the length (or chunks), the credentials asked for, and fails on a non-2xx.
func TestUploadPut(t *testing.T) {
	type seen struct {
		length   int64
		chunked  bool
		auth     string
		sha, got int64
	}
	var last seen
	status := http.StatusCreated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		last = seen{length: r.ContentLength, chunked: len(r.TransferEncoding) > 0, auth: r.Header.Get("Authorization"), got: n}
		if r.Header.Get("X-Amz-Content-Sha256") == "UNSIGNED-PAYLOAD" {
			last.sha = 1
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	ctx := context.Background()
	basic := &uploadClient{http: srv.Client(), basic: [2]string{"bench", "pw"}}
	if err := basic.put(ctx, srv.URL+"/bench/k", 5000, false); err != nil {
		t.Fatal(err)
	}
	if last.length != 5000 || last.chunked || last.got != 5000 || !strings.HasPrefix(last.auth, "Basic ") {
		t.Errorf("known length, Basic: server saw %+v", last)
	}
	if err := basic.put(ctx, srv.URL+"/bench/k", 5000, true); err != nil {
		t.Fatal(err)
	}
	if last.length != -1 || !last.chunked || last.got != 5000 {
		t.Errorf("chunked: server saw %+v", last)
	}
	signed := &uploadClient{http: srv.Client(), creds: aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}, signer: v4.NewSigner()}
	if err := signed.put(ctx, srv.URL+"/bench/k", 100, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(last.auth, "AWS4-HMAC-SHA256 Credential=k/") || last.sha != 1 {
		t.Errorf("SigV4: server saw %+v", last)
	}
	status = http.StatusForbidden
	if err := signed.put(ctx, srv.URL+"/bench/k", 100, false); err == nil {
		t.Error("a 403 answer was not an error")
	}
}
