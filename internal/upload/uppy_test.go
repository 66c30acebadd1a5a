package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/origin/s3origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/route"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// userAuth vouches for whoever X-Test-User names: the tests' stand-in for basic or jwt.
type userAuth struct{}

func (userAuth) Name() string { return "test" }
func (userAuth) Authenticate(_ context.Context, r *policy.Request) (*policy.Identity, error) {
	u := r.HTTP.Header.Get("X-Test-User")
	if u == "" {
		return nil, policy.ErrNoCredentials
	}
	return &policy.Identity{Subject: "user:" + u, User: u, Source: "test"}, nil
}

var (
	minioOnce sync.Once
	minio     *testenv.MinIO
	minioErr  error
	bucketN   int
)

// uppyServer serves an upload endpoint (route "files" on /files/*, key_prefix
// uploads/{user}/) over a fresh MinIO bucket.
type uppyServer struct {
	*httptest.Server
	e      *Endpoint
	bucket string
}

func newUppyServer(t *testing.T, lim Limits) *uppyServer {
	t.Helper()
	minioOnce.Do(func() { minio, minioErr = testenv.StartMinIO() })
	if errors.Is(minioErr, testenv.ErrNoMinIO) {
		t.Skip(minioErr)
	}
	if minioErr != nil {
		t.Fatal(minioErr)
	}
	bucketN++
	name := fmt.Sprintf("uppy-%d", bucketN)
	minio.CreateBucket(t, name)
	b, err := s3origin.New(context.Background(), &config.S3Origin{
		Bucket: name, Endpoint: minio.Endpoint, PathStyle: true, MaxAttempts: 2,
		AccessKeyID: minio.AccessKey, SecretAccessKey: minio.SecretKey,
	}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pat, err := route.Compile("/files/*")
	if err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{
		Route: "files", Base: config.UploadEndpointPrefix + "files/",
		Policy:  &policy.Policy{Authenticators: []policy.Authenticator{userAuth{}}},
		Pattern: pat, Keys: route.KeyMap{StripPrefix: "/files/"},
		Limits: lim, Mode: config.PresignBucket, Expires: 5 * time.Minute,
		Multipart: b,
	}
	if p, ok := any(b).(origin.Presigner); ok {
		e.Presigner = p
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub, ok := strings.CutPrefix(r.URL.Path, e.Base)
		if !ok {
			http.NotFound(w, r)
			return
		}
		e.Serve(w, r, &policy.Request{HTTP: r, Scheme: "http"}, sub)
	}))
	t.Cleanup(srv.Close)
	return &uppyServer{Server: srv, e: e, bucket: name}
}

// call makes one call on the endpoint as user ("" for none) and decodes its JSON answer
// into out (when not nil); it returns the status.
func (s *uppyServer) call(t *testing.T, user, method, sub string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, s.URL+s.e.Base+sub, rd)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, sub, err, data)
		}
	}
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s: %d %s (a client must never cause a 5xx)", method, sub, resp.StatusCode, data)
	}
	return resp.StatusCode
}

// create starts an upload of filename as user and returns key and upload id.
func (s *uppyServer) create(t *testing.T, user, filename string) (string, string) {
	t.Helper()
	var res struct{ Key, UploadID string }
	if st := s.call(t, user, "POST", "s3/multipart", map[string]any{"filename": filename, "type": "application/octet-stream", "metadata": map[string]any{"name": filename, "relativePath": nil}}, &res); st != 200 {
		t.Fatalf("create: %d", st)
	}
	return res.Key, res.UploadID
}

// putPart signs part n as user and PUTs data to the bucket on the signed URL.
func (s *uppyServer) putPart(t *testing.T, user, key, id string, n int, data []byte) string {
	t.Helper()
	var sp struct{ URL string }
	if st := s.call(t, user, "GET", fmt.Sprintf("s3/multipart/%s/%d?key=%s", id, n, url.QueryEscape(key)), nil, &sp); st != 200 {
		t.Fatalf("sign part %d: %d", n, st)
	}
	req, _ := http.NewRequest(http.MethodPut, sp.URL, bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT part %d: %s", n, resp.Status)
	}
	return resp.Header.Get("ETag")
}

func (s *uppyServer) openUploads(t *testing.T) int {
	t.Helper()
	out, err := minio.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func (s *uppyServer) object(t *testing.T, key string) []byte {
	t.Helper()
	out, err := minio.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(key)})
	if err != nil {
		return nil
	}
	defer out.Body.Close()
	data, _ := io.ReadAll(out.Body)
	return data
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(n), byte(n >> 8)}).Read(b)
	return b
}

const mib = 1 << 20

type completePart struct {
	PartNumber int
	ETag       string
}

// TestUppyMultipart: the calls Uppy makes, in its order, with net/http: create, sign
// and PUT three parts straight to the bucket, list, batch sign, complete; the object
// holds the bytes and no upload remains open.
func TestUppyMultipart(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: 64 * mib, KeyPrefix: "uploads/{user}/", Overwrite: true})
	key, id := s.create(t, "alice", "big file ü.bin")
	if key != "uploads/alice/big file ü.bin" || id == "" {
		t.Fatalf("create: key %q, id %q", key, id)
	}
	data := randomBytes(10*mib + 1234)
	chunks := [][]byte{data[:5*mib], data[5*mib : 10*mib], data[10*mib:]}
	var parts []completePart
	for i, c := range chunks {
		parts = append(parts, completePart{i + 1, s.putPart(t, "alice", key, id, i+1, c)})
	}
	q := "?key=" + url.QueryEscape(key)
	var listed []struct {
		PartNumber int
		ETag       string
		Size       int64
	}
	if st := s.call(t, "alice", "GET", "s3/multipart/"+id+q, nil, &listed); st != 200 || len(listed) != 3 || listed[2].Size != 1234 || listed[0].ETag != parts[0].ETag {
		t.Fatalf("list: %d %+v", st, listed)
	}
	var batch struct{ PresignedUrls map[string]string }
	if st := s.call(t, "alice", "GET", "s3/multipart/"+id+"/batch"+q+"&partNumbers=1,2", nil, &batch); st != 200 || len(batch.PresignedUrls) != 2 || batch.PresignedUrls["2"] == "" {
		t.Fatalf("batch: %d %+v", st, batch)
	}
	var done struct{ Location, Key string }
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": parts}, &done); st != 200 {
		t.Fatalf("complete: %d", st)
	}
	if want := s.URL + "/files/uploads/alice/big%20file%20%C3%BC.bin"; done.Location != want || done.Key != key {
		t.Errorf("complete: location %q key %q, want %q", done.Location, done.Key, want)
	}
	if got := s.object(t, key); !bytes.Equal(got, data) {
		t.Errorf("object: %d bytes, want %d", len(got), len(data))
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
	// Abort: the upload is gone, and aborting it again succeeds (Companion's {}).
	key2, id2 := s.create(t, "alice", "second.bin")
	if st := s.call(t, "alice", "DELETE", "s3/multipart/"+id2+"?key="+url.QueryEscape(key2), nil, nil); st != 200 {
		t.Fatalf("abort: %d", st)
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("%d uploads left open after abort", n)
	}
}

// TestUppyScoped: a caller can never create, sign, list, complete or abort an upload
// outside their own prefix; unauthenticated calls sign nothing.
func TestUppyScoped(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: 64 * mib, KeyPrefix: "uploads/{user}/", Overwrite: true})
	key, id := s.create(t, "bob", "bob.bin")
	etag := s.putPart(t, "bob", key, id, 1, []byte("bob's part"))
	q := "?key=" + url.QueryEscape(key)
	for _, tc := range []struct {
		user, method, sub string
		body              any
		want              int
	}{
		{"alice", "GET", "s3/multipart/" + id + "/1" + q, nil, 403},
		{"alice", "GET", "s3/multipart/" + id + "/batch" + q + "&partNumbers=1", nil, 403},
		{"alice", "GET", "s3/multipart/" + id + q, nil, 403},
		{"alice", "POST", "s3/multipart/" + id + "/complete" + q, map[string]any{"parts": []completePart{{1, etag}}}, 403},
		{"alice", "DELETE", "s3/multipart/" + id + q, nil, 403},
		{"alice", "GET", "s3/multipart/" + id + "/1?key=uploads/alice/../bob/bob.bin", nil, 400},
		{"alice", "GET", "s3/multipart/" + id + "/1?key=elsewhere/x", nil, 403},
		{"alice", "POST", "s3/multipart", map[string]any{"filename": "../bob/x", "type": "text/plain"}, 400},
		{"alice", "POST", "s3/multipart", map[string]any{"filename": "a/b", "type": "text/plain"}, 400},
		{"", "GET", "s3/multipart/" + id + "/1" + q, nil, 403}, // 401 with an authenticator that challenges
		{"", "POST", "s3/multipart", map[string]any{"filename": "x", "type": "text/plain"}, 403},
		{"alice", "GET", "s3/multipart/" + id + "/0" + q, nil, 400},
		{"alice", "GET", "s3/multipart/" + id + "/10001" + q, nil, 400},
		{"alice", "GET", "s3/multipart/bad!id/1" + q, nil, 400},
		{"alice", "GET", "s3/multipart/" + id + "/1", nil, 400},
		{"alice", "PUT", "s3/multipart/" + id + q, nil, 405},
		{"alice", "GET", "s3/other", nil, 404},
	} {
		if st := s.call(t, tc.user, tc.method, tc.sub, tc.body, nil); st != tc.want {
			t.Errorf("%s %s %s: %d, want %d", tc.user, tc.method, tc.sub, st, tc.want)
		}
	}
	req, _ := http.NewRequest("PUT", s.URL+s.e.Base+"s3/multipart/"+id+q, nil)
	req.Header.Set("X-Test-User", "bob")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, DELETE" {
		t.Errorf("PUT on an upload: %v %v, want 405 with Allow: GET, DELETE", resp, err)
	} else {
		resp.Body.Close()
	}
	// Bob's upload is untouched by Alice's attempts: he completes it.
	var done struct{ Key string }
	if st := s.call(t, "bob", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": []completePart{{1, etag}}}, &done); st != 200 {
		t.Fatalf("bob's complete: %d", st)
	}
	if got := s.object(t, key); string(got) != "bob's part" {
		t.Errorf("bob's object: %q", got)
	}
}

// TestUppyLimits: max_size (declared at create, then the parts' sum before complete:
// 413 and aborted), part sizes, ETags that do not match, and create-only routes.
func TestUppyLimits(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: 12 * mib, KeyPrefix: "uploads/{user}/", Overwrite: false})
	if st := s.call(t, "alice", "POST", "s3/multipart", map[string]any{"filename": "x", "type": "a/b", "size": 12*mib + 1}, nil); st != 413 {
		t.Errorf("create over max_size: %d, want 413", st)
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("a refused create left %d uploads", n)
	}

	key, id := s.create(t, "alice", "huge.bin")
	var parts []completePart
	for n := 1; n <= 3; n++ {
		parts = append(parts, completePart{n, s.putPart(t, "alice", key, id, n, randomBytes(5*mib))})
	}
	q := "?key=" + url.QueryEscape(key)
	bad := []completePart{parts[0], {2, `"0123456789abcdef0123456789abcdef"`}}
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": bad}, nil); st != 400 {
		t.Errorf("complete with a wrong ETag: %d, want 400", st)
	}
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": parts}, nil); st != 413 {
		t.Errorf("complete over max_size: %d, want 413", st)
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("an upload over max_size was left open (%d)", n)
	}
	if s.object(t, key) != nil {
		t.Error("an upload over max_size made an object")
	}

	// A part under 5 MiB that is not the last: 400 (S3 would refuse it anyway).
	key, id = s.create(t, "alice", "small.bin")
	parts = []completePart{{1, s.putPart(t, "alice", key, id, 1, []byte("tiny"))}, {2, s.putPart(t, "alice", key, id, 2, []byte("end"))}}
	q = "?key=" + url.QueryEscape(key)
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": parts}, nil); st != 400 {
		t.Errorf("complete with a small middle part: %d, want 400", st)
	}
	// One small part is a whole (small) object; the route is create-only, so a second
	// upload to the same key, started before the first completed, is refused at
	// complete (412) and aborted; once the object exists, create itself is 412.
	key2, id2 := s.create(t, "alice", "small.bin")
	p := completePart{1, s.putPart(t, "alice", key2, id2, 1, []byte("again"))}
	q2 := "?key=" + url.QueryEscape(key2)
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id+"/complete"+q, map[string]any{"parts": parts[1:]}, nil); st != 200 {
		t.Fatalf("complete: %d", st)
	}
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id2+"/complete"+q2, map[string]any{"parts": []completePart{p}}, nil); st != 412 {
		t.Errorf("create-only complete over an object: %d, want 412", st)
	}
	if string(s.object(t, key)) != "end" {
		t.Error("a create-only upload replaced the object")
	}
	if st := s.call(t, "alice", "POST", "s3/multipart", map[string]any{"filename": "small.bin", "type": "a/b"}, nil); st != 412 {
		t.Errorf("create-only create over an object: %d, want 412", st)
	}
	// Completing an upload that no longer exists: 404, not a 5xx.
	if st := s.call(t, "alice", "POST", "s3/multipart/"+id2+"/complete"+q2, map[string]any{"parts": []completePart{p}}, nil); st != 404 {
		t.Errorf("complete of an aborted upload: %d, want 404", st)
	}
}

// TestUppyParams: the single-file call answers a presigned POST that Uppy submits as a
// form (fields, then the file); the object lands under the caller's prefix, at the
// location Uppy derives (url + fields.key).
func TestUppyParams(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: mib, KeyPrefix: "uploads/{user}/", Overwrite: true})
	if s.e.Presigner == nil {
		t.Skip("the S3 origin does not presign POSTs in this build")
	}
	var p struct {
		Method, URL, Key string
		Fields           map[string]string
	}
	if st := s.call(t, "alice", "GET", "s3/params?filename=note.txt&type=text/plain&metadata%5Bname%5D=note.txt", nil, &p); st != 200 {
		t.Fatalf("params: %d", st)
	}
	if p.Method != "POST" || p.Key != "uploads/alice/note.txt" || p.Fields["key"] != p.Key {
		t.Fatalf("params: %+v", p)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range p.Fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "note.txt")
	fw.Write([]byte("hello"))
	mw.Close()
	resp, err := http.Post(p.URL, mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("form POST: %s", resp.Status)
	}
	if got := s.object(t, p.Key); string(got) != "hello" {
		t.Errorf("object: %q", got)
	}
	for _, q := range []string{"filename=../x", "filename=a%2Fb", "type=text/plain", "filename=a&filename=b"} {
		if st := s.call(t, "alice", "GET", "s3/params?"+q, nil, nil); st != 400 {
			t.Errorf("params?%s: %d, want 400", q, st)
		}
	}
}

// TestUppyGatewayMode: parts cannot be presigned through gatehouse, so a route in mode
// gateway refuses Uppy's create (400) before an upload is started, and its params.
func TestUppyGatewayMode(t *testing.T) {
	s := newUppyServer(t, Limits{MaxSize: mib, KeyPrefix: "uploads/{user}/", Overwrite: true})
	s.e.Mode = config.PresignGateway
	if st := s.call(t, "alice", "POST", "s3/multipart", map[string]any{"filename": "a", "type": "text/plain"}, nil); st != 400 {
		t.Errorf("create in mode gateway: %d, want 400", st)
	}
	if st := s.call(t, "alice", "GET", "s3/params?filename=a", nil, nil); st != 400 {
		t.Errorf("params in mode gateway: %d, want 400", st)
	}
	if n := s.openUploads(t); n != 0 {
		t.Errorf("%d uploads started", n)
	}
}
