package s3origin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestPutOnlyPolicy: the session policy allows only s3:PutObject on the key (the prefix
// with '*' for a POST form), and a key whose escaped form is too long for STS is cut to
// a prefix that fits, never past a rune.
func TestPutOnlyPolicy(t *testing.T) {
	parse := func(p string) (action, resource string) {
		var doc struct {
			Statement []struct {
				Effect   string
				Action   []string
				Resource []string
			}
		}
		if err := json.Unmarshal([]byte(p), &doc); err != nil || len(doc.Statement) != 1 {
			t.Fatalf("policy %s: %v", p, err)
		}
		s := doc.Statement[0]
		if s.Effect != "Allow" || len(s.Action) != 1 || len(s.Resource) != 1 {
			t.Fatalf("policy %s", p)
		}
		return s.Action[0], s.Resource[0]
	}
	for _, tc := range []struct {
		key    string
		prefix bool
		want   string
	}{
		{"uploads/alice/a <b> & c.txt", false, "arn:aws:s3:::bkt/uploads/alice/a <b> & c.txt"},
		{"uploads/alice/", true, "arn:aws:s3:::bkt/uploads/alice/*"},
		{"", true, "arn:aws:s3:::bkt/*"},
		{"ü" + strings.Repeat(`"`, 1020), false, ""},
		{strings.Repeat("é", 512), false, "arn:aws:s3:::bkt/" + strings.Repeat("é", 512)},
		{"a/" + strings.Repeat("\x01", 1022), false, ""},
	} {
		p, err := putOnlyPolicy("bkt", tc.key, tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) > maxSessionPolicy {
			t.Errorf("key %.20q: policy of %d bytes", tc.key, len(p))
		}
		action, res := parse(p)
		if action != "s3:PutObject" {
			t.Errorf("action %q", action)
		}
		switch {
		case tc.want != "" && res != tc.want:
			t.Errorf("resource %q, want %q", res, tc.want)
		case tc.want == "":
			// Cut: a prefix of the key, then '*'.
			cut, ok := strings.CutSuffix(strings.TrimPrefix(res, "arn:aws:s3:::bkt/"), "*")
			if !ok || !strings.HasPrefix(tc.key, cut) || !strings.HasPrefix(res, "arn:aws:s3:::bkt/") || !utf8Valid(cut) {
				t.Errorf("key %.20q: resource %.40q is not a cut of the key", tc.key, res)
			}
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestIsAWSEndpoint(t *testing.T) {
	for ep, want := range map[string]bool{
		"":                                       true,
		"https://s3.eu-west-1.amazonaws.com":     true,
		"https://S3.cn-north-1.AmazonAWS.com.cn": true,
		"http://127.0.0.1:9000":                  false,
		"https://amazonaws.com.evil.example":     false,
		"https://x.r2.cloudflarestorage.com":     false,
	} {
		if got := isAWSEndpoint(ep); got != want {
			t.Errorf("isAWSEndpoint(%q) = %v", ep, got)
		}
	}
}

// TestPresignScoped: against MinIO, a presigned PUT carries a session token (it is
// signed with STS credentials, not the origin's), works for the longest lifetime a route
// may set (7 days, beyond STS's usual 12 hours), and refuses a copy of another object of
// the bucket; a presigned POST for a key prefix is scoped the same way.
func TestPresignScoped(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	if _, err := b.Put(ctx, "other/secret", bytes.NewReader([]byte("secret")), origin.PutOptions{Size: 6}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p, err := b.PresignPut(ctx, "mine/a.txt", origin.PresignConditions{Expires: 7 * 24 * time.Hour, Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.URL, "X-Amz-Security-Token=") || strings.Contains(p.URL, minio.AccessKey) {
		t.Errorf("URL not signed with session credentials: %s", p.URL)
	}
	if d := p.Expires.Sub(now); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("expires in %s", d)
	}
	req, _ := http.NewRequest(http.MethodPut, p.URL, nil)
	req.Header.Set("X-Amz-Copy-Source", b.bucket+"/other/secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("copy: %s, want 403", resp.Status)
	}
	if _, _, ok := content(t, b, "mine/a.txt"); ok {
		t.Errorf("the copy was stored")
	}
	req, _ = http.NewRequest(http.MethodPut, p.URL, strings.NewReader("mine"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _, _ := content(t, b, "mine/a.txt"); resp.StatusCode != 200 || string(got) != "mine" {
		t.Errorf("own upload: %s, stored %q", resp.Status, got)
	}
	post, err := b.PresignPost(ctx, "mine/", origin.PresignConditions{Expires: time.Minute, KeyPrefix: true, MaxSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if post.Fields["X-Amz-Security-Token"] == "" && post.Fields["x-amz-security-token"] == "" {
		t.Errorf("POST fields carry no session token: %v", post.Fields)
	}
}

// BenchmarkPresignPut measures a presigned PUT against MinIO, STS call included (about
// 2 ms a call on loopback; docs/uploads.md quotes it).
func BenchmarkPresignPut(bm *testing.B) {
	minioOnce.Do(func() { minio, minioErr = testenv.StartMinIO() })
	if minioErr != nil {
		bm.Skip(minioErr)
	}
	ctx := context.Background()
	b, err := New(ctx, &config.S3Origin{
		Bucket: "presign-bench", Endpoint: minio.Endpoint, PathStyle: true, MaxAttempts: 2,
		AccessKeyID: minio.AccessKey, SecretAccessKey: minio.SecretKey,
	}, 10*time.Second)
	if err != nil {
		bm.Fatal(err)
	}
	for bm.Loop() {
		if _, err := b.PresignPut(ctx, "bench/key", origin.PresignConditions{Expires: time.Minute, Size: -1}); err != nil {
			bm.Fatal(err)
		}
	}
}

// TestPresignFailsClosedWithoutSTS: an S3-compatible endpoint that refuses AssumeRole (R2
// has no STS) makes every bucket-mode presign fail, with an error that is not the
// client's (the upload endpoint answers 502), and nothing signed with the origin's own
// credentials instead.
func TestPresignFailsClosedWithoutSTS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>no STS here</Message></Error></ErrorResponse>`)
	}))
	defer srv.Close()
	b, err := New(context.Background(), &config.S3Origin{
		Bucket: "bkt", Endpoint: srv.URL, PathStyle: true, MaxAttempts: 1,
		AccessKeyID: "origin-key", SecretAccessKey: "origin-secret",
	}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := origin.PresignConditions{Expires: time.Minute, Size: -1}
	if p, err := b.PresignPut(ctx, "k", c); err == nil || errors.Is(err, origin.ErrBadRequest) || p.URL != "" {
		t.Errorf("PresignPut = %q, %v; want a failure that is not the client's", p.URL, err)
	}
	if p, err := b.PresignPost(ctx, "k", c); err == nil || errors.Is(err, origin.ErrBadRequest) || p.URL != "" {
		t.Errorf("PresignPost = %q, %v", p.URL, err)
	}
	if u, _, err := b.PresignPart(ctx, "k", "upload-id", 1, time.Minute); err == nil || errors.Is(err, origin.ErrBadRequest) || u != "" {
		t.Errorf("PresignPart = %q, %v", u, err)
	}
}
