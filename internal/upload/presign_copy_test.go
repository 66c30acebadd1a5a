package upload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestRegression_PresignedUploadCopiesOtherObjects: MinIO runs a PUT carrying an
// unsigned x-amz-copy-source as CopyObject (a part PUT as UploadPartCopy) with the
// signer's permissions. Signed with the origin's credentials, alice's presigned URL for
// her own key copied a secret from another bucket under her prefix, where she read it
// back, bypassing max_size too. Presigned uploads are now signed with STS credentials
// allowed only s3:PutObject on the key: the copy is refused (403) and nothing is stored,
// for a presigned PUT (with and without the signed headers a route adds) and for an
// Uppy part; the same URLs still take alice's own bytes.
func TestRegression_PresignedUploadCopiesOtherObjects(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: 16, KeyPrefix: "uploads/{user}/", Overwrite: true})
	secrets := s.bucket + "-secrets"
	minio.CreateBucket(t, secrets)
	ctx := context.Background()
	secret := bytes.Repeat([]byte("payroll "), 64) // over max_size too
	for _, k := range []string{"payroll.txt"} {
		if _, err := minio.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &secrets, Key: aws.String(k), Body: bytes.NewReader(secret)}); err != nil {
			t.Fatal(err)
		}
	}
	// put sends a PUT to a presigned URL with the headers given; it returns the status
	// and the body.
	put := func(u string, h map[string]string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	sources := []string{secrets + "/payroll.txt", "/" + secrets + "/payroll.txt", s.bucket + "/uploads/bob/x"}

	// An unsized presigned PUT is signed only where max_size is S3's 5 GiB or more
	// (TestRegression_PresignPutIgnoresMaxSize); a sized one anywhere.
	s.e.Limits.MaxSize = maxSinglePut
	for _, q := range []string{"filename=stolen.txt", "filename=stolen2.txt&size=0", "filename=stolen3.txt&content_type=text/plain", "filename=stolen4.txt&size=4"} {
		t.Run("PUT "+q, func(t *testing.T) {
			var res PresignResponse
			if st := s.call(t, "alice", "GET", "presign?"+q, nil, &res); st != 200 {
				t.Fatalf("presign: %d", st)
			}
			for _, src := range sources {
				h := map[string]string{"x-amz-copy-source": src}
				for k, v := range res.Headers {
					h[k] = v
				}
				if st, body := put(res.URL, h, nil); st != http.StatusForbidden || strings.Contains(body, "CopyObjectResult") {
					t.Errorf("copy from %s: %d %s, want 403", src, st, body)
				}
				if got := s.object(t, res.Key); got != nil {
					t.Fatalf("copy from %s stored %d bytes at %s", src, len(got), res.Key)
				}
			}
			if strings.Contains(q, "size=0") {
				return
			}
			// The URL itself works: alice's own bytes are stored.
			if st, body := put(res.URL, res.Headers, []byte("mine")); st != 200 {
				t.Fatalf("own upload: %d %s", st, body)
			}
			if got := s.object(t, res.Key); string(got) != "mine" {
				t.Errorf("stored %q", got)
			}
		})
	}

	s.e.Limits.MaxSize = 16
	t.Run("Uppy part", func(t *testing.T) {
		key, id := s.create(t, "alice", "stolen-part.bin")
		var sp struct{ URL string }
		if st := s.call(t, "alice", "GET", fmt.Sprintf("s3/multipart/%s/1?key=%s", id, url.QueryEscape(key)), nil, &sp); st != 200 {
			t.Fatalf("sign part: %d", st)
		}
		for _, src := range sources {
			if st, body := put(sp.URL, map[string]string{"x-amz-copy-source": src}, nil); st != http.StatusForbidden || strings.Contains(body, "CopyPartResult") {
				t.Errorf("part copy from %s: %d %s, want 403", src, st, body)
			}
		}
		parts, err := minio.Client.ListParts(ctx, &s3.ListPartsInput{Bucket: &s.bucket, Key: &key, UploadId: &id})
		if err != nil || parts == nil || len(parts.Parts) != 0 {
			t.Fatalf("after the refused copies: ListParts err %v, parts %d", err, len(parts.Parts))
		}
		// Completing with a made-up ETag stores nothing either.
		st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete?key="+url.QueryEscape(key),
			map[string]any{"parts": []completePart{{1, `"0123456789abcdef0123456789abcdef"`}}}, nil)
		if st == 200 {
			t.Errorf("complete with no part uploaded: 200")
		}
		if got := s.object(t, key); got != nil {
			t.Fatalf("stored %d bytes at %s", len(got), key)
		}
		// The same URL takes alice's own part.
		if st, body := put(sp.URL, nil, []byte("part")); st != 200 {
			t.Fatalf("own part: %d %s", st, body)
		}
		s.call(t, "alice", "DELETE", "s3/multipart/"+id+"?key="+url.QueryEscape(key), nil, nil)
	})
}
