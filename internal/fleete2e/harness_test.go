// Package fleete2e runs three gatehouse processes sharing one Redis and one MinIO, as
// a fleet behind a load balancer would, and checks what docs/fleet.md promises: an
// invalidation on one reaches all, failed logins count across all, a revocation on one
// denies on all, and a paused or restarted Redis gives the documented answers.
package fleete2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const (
	bucket     = "fleet"
	adminToken = "fleet-admin-token-0123456789"
	keyID      = "KFLEET"
)

// binary is the gatehouse binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-fleet-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	out, err := exec.Command("go", "build", "-o", binary, "../../cmd/gatehouse").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building gatehouse: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is one fleet: Redis, MinIO, a signing key and three replicas.
type world struct {
	t        *testing.T
	redis    *testenv.Redis
	minio    *testenv.MinIO
	key      crypto.Signer
	dir      string
	opts     worldOptions
	replicas []*replica
}

// worldOptions add to every replica's configuration file.
type worldOptions struct {
	redis     string // appended to the redis section (indented two spaces)
	keyGroups string // more entries of key_groups (indented two spaces)
	routes    string // more routes, after the others (indented two spaces)
}

// replica is one running gatehouse process.
type replica struct {
	name   string
	cmd    *exec.Cmd
	public string // http://127.0.0.1:PORT
	admin  string // 127.0.0.1:PORT
	logs   *syncBuffer
	exited chan struct{} // closed when the process has exited
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newWorld starts Redis, MinIO and n replicas with extraRedis appended to the redis
// section.
func newWorld(t *testing.T, n int, extraRedis string) *world {
	t.Helper()
	return newWorldWith(t, n, worldOptions{redis: extraRedis})
}

// newWorldWith starts Redis, MinIO and n replicas whose configuration has opts added.
func newWorldWith(t *testing.T, n int, opts worldOptions) *world {
	t.Helper()
	rd, err := testenv.StartRedis()
	if errors.Is(err, testenv.ErrNoRedis) {
		t.Skip("redis-server not installed (scripts/test installs it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rd.Stop)
	mn, err := testenv.StartMinIO()
	if errors.Is(err, testenv.ErrNoMinIO) {
		t.Skip("minio not installed (scripts/test installs it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mn.Stop)
	mn.CreateBucket(t, bucket)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, redis: rd, minio: mn, key: key, dir: t.TempDir(), opts: opts}
	pub, err := cfsign.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "public.pem"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		w.start(fmt.Sprintf("r%d", i), string(hash), opts.redis)
	}
	return w
}

// config is one replica's file. Every replica has the same file but its listeners.
func (w *world) config(name, hash, extraRedis string) string {
	return fmt.Sprintf(`
server:
  trusted_proxies: [127.0.0.1/32]
admin:
  token: %s
log:
  level: debug
  format: text
  access: off
origins:
  minio:
    s3: {bucket: %s, endpoint: %s, path_style: true, access_key_id: %s, secret_access_key: %s, max_attempts: 1}
    timeout: 5s
key_groups:
  fleet:
    keys: [{id: %s, file: %s}]
%s
cache:
  memory: {max_size: 64MiB}
redis:
  addresses: [%s]
  timeout: 300ms
  max_staleness: 3s
  replicas: 3
%s
routes:
  - name: public
    path: /pub/*
    origin: minio
    public: true
    cache: {policy: custom, default_ttl: 1h, min_ttl: 1h, max_ttl: 1h}
  - name: basic
    path: /basic/*
    origin: minio
    auth: {methods: [{basic: {users: {alice: "%s"}, max_failures: 10}}]}
  - name: signed
    path: /signed/*
    origin: minio
    auth: {methods: [{signed: {key_groups: [fleet]}}]}
  - name: limited
    path: /limited/*
    origin: minio
    public: true
    rate_limit: {requests: 30, per: 1m, by: client}
%s
`, adminToken, bucket, w.minio.Endpoint, w.minio.AccessKey, w.minio.SecretKey, keyID,
		filepath.Join(w.dir, "public.pem"), w.opts.keyGroups, w.redis.Addr, extraRedis, hash, w.opts.routes)
}

func (w *world) start(name, hash, extraRedis string) *replica {
	t := w.t
	file := filepath.Join(w.dir, name+".yaml")
	if err := os.WriteFile(file, []byte(w.config(name, hash, extraRedis)), 0o600); err != nil {
		t.Fatal(err)
	}
	pp, err1 := testenv.FreePort()
	ap, err2 := testenv.FreePort()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, public: fmt.Sprintf("http://127.0.0.1:%d", pp), admin: fmt.Sprintf("127.0.0.1:%d", ap), logs: &syncBuffer{}}
	r.cmd = exec.Command(binary, "serve", "--config", file, "--listen", fmt.Sprintf("127.0.0.1:%d", pp), "--admin", r.admin)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("%s's log:\n%s", r.name, r.logs.String())
		}
	})
	w.replicas = append(w.replicas, r)
	eventually(t, 30*time.Second, name+" ready", func() bool {
		select {
		case <-r.exited: // a configuration it refused, a port taken: say so at once
			t.Fatalf("%s exited before it was ready:\n%s", name, r.logs.String())
		default:
		}
		resp, err := http.Get("http://" + r.admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

// put writes an object to MinIO.
func (w *world) put(key, body string) {
	w.t.Helper()
	_, err := w.minio.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: ptr(bucket), Key: &key, Body: strings.NewReader(body)})
	if err != nil {
		w.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// sign returns a signed URL for path on r.
func (w *world) sign(r *replica, path string) string {
	w.t.Helper()
	u, err := cfsign.SignURL(r.public+path, keyID, w.key, cfsign.SignOptions{Expires: time.Now().Add(time.Hour).Truncate(time.Second)})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// get fetches url with extra headers ("Name: value"), returning status, body and
// X-Cache.
func get(t *testing.T, url string, headers ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("X-Cache")
}

// admin calls r's admin API.
func admin(t *testing.T, r *replica, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+r.admin+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// cli runs the gatehouse binary against r's admin listener.
func cli(t *testing.T, r *replica, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--admin", r.admin)...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_TOKEN="+adminToken)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// eventually polls cond every 20 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
