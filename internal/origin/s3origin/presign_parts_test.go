package s3origin

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestPresignPart: parts PUT by a plain HTTP client on presigned URLs (no credentials,
// no SDK) make an upload that ListParts sees and CompleteMultipart turns into the
// object; the URL signs nothing but the host.
func TestPresignPart(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	key := "uppy/alice/big file ü.bin"
	id, err := b.CreateMultipart(ctx, key, origin.PutOptions{ContentType: "application/octet-stream"})
	if err != nil {
		t.Fatal(err)
	}
	data := body(minPartSize + 1000)
	chunks := [][]byte{data[:minPartSize], data[minPartSize:]}
	var parts []origin.Part
	for i, c := range chunks {
		u, h, err := b.PresignPart(ctx, key, id, i+1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 0 {
			t.Errorf("part %d must send headers %v: a browser sends none", i+1, h)
		}
		q, _ := url.Parse(u)
		if sh := q.Query().Get("X-Amz-SignedHeaders"); sh != "host" {
			t.Errorf("signed headers %q, want host only", sh)
		}
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(c))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			t.Fatalf("PUT part %d: %s, ETag %q", i+1, resp.Status, resp.Header.Get("ETag"))
		}
		parts = append(parts, origin.Part{Number: i + 1, ETag: resp.Header.Get("ETag")})
	}
	listed, next, err := b.ListParts(ctx, key, id, 0, 0)
	if err != nil || next != 0 || len(listed) != 2 || listed[0].Size != minPartSize || listed[1].Size != 1000 {
		t.Fatalf("ListParts = %+v, %d, %v", listed, next, err)
	}
	if _, err := b.CompleteMultipart(ctx, key, id, parts, ""); err != nil {
		t.Fatal(err)
	}
	if got, _, ok := content(t, b, key); !ok || !bytes.Equal(got, data) {
		t.Fatalf("object: %d bytes, want %d", len(got), len(data))
	}
	if n := openUploads(t, b); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
}

// TestPresignPartRefuses: what cannot name a part is ErrBadRequest, before any signing.
func TestPresignPartRefuses(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	for _, tc := range []struct {
		key, id string
		n       int
		exp     time.Duration
	}{
		{"k", "id", 0, time.Minute},
		{"k", "id", origin.MaxParts + 1, time.Minute},
		{"k", "", 1, time.Minute},
		{"k", "id", 1, 0},
		{"k", "id", 1, 8 * 24 * time.Hour},
		{strings.Repeat("k", 2000), "id", 1, time.Minute},
	} {
		if _, _, err := b.PresignPart(ctx, tc.key, tc.id, tc.n, tc.exp); !errors.Is(err, origin.ErrBadRequest) && !errors.Is(err, origin.ErrKeyTooLong) {
			t.Errorf("PresignPart(%.20q, %q, %d, %s) = %v, want ErrBadRequest", tc.key, tc.id, tc.n, tc.exp, err)
		}
	}
}
