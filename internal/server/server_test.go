package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

type logBuf = testenv.SyncBuffer

type running struct {
	pub, admin string
	logs       *logBuf
	cancel     context.CancelFunc
	done       chan error
	probed     chan struct{} // a value after each round of readiness probes
	reloaded   chan error    // each SIGHUP's outcome
}

// start runs the server on the config file at path until the test ends.
func start(t *testing.T, path string) *running {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: &logBuf{}, cancel: cancel, done: make(chan error, 1),
		probed: make(chan struct{}, 1), reloaded: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		r.done <- Run(ctx, Options{
			Config: cfg,
			Reload: func() (*config.Config, error) { return config.Load(path) },
			Log:    slog.New(slog.NewTextHandler(r.logs, nil)),
			Listening: func(pub, admin string) {
				r.pub, r.admin = "http://"+pub, "http://"+admin
				close(ready)
			},
			Probed: func() {
				select {
				case r.probed <- struct{}{}:
				default: // the test is not waiting for this round
				}
			},
			Reloaded: func(err error) { r.reloaded <- err },
		})
	}()
	select {
	case <-ready:
	case err := <-r.done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeConfig(t *testing.T, path, root string, extraRoute string) {
	t.Helper()
	body := fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s}
admin: {listen: "127.0.0.1:0"}
origins:
  files: {dir: {root: %q}}
routes:
  - {path: /a.txt, origin: files, public: true}
%s`, root, extraRoute)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	writeConfig(t, path, dir, "")
	r := start(t, path)
	if code, body := get(t, r.admin+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	wait(t, r.probed) // the first round runs at start
	if code, body := get(t, r.admin+"/readyz"); code != 200 || !strings.Contains(body, `"ready":true`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	if code, _ := get(t, r.pub+"/a.txt"); code != 200 {
		t.Fatalf("GET /a.txt: %d", code)
	}
}

// TestReloadOnSIGHUP: a good new file takes effect; a bad one is refused and the running
// configuration keeps serving.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("B"), 0o644)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	writeConfig(t, path, dir, "")
	r := start(t, path)
	if code, _ := get(t, r.pub+"/b.txt"); code != 404 {
		t.Fatalf("before reload /b.txt: %d", code)
	}
	writeConfig(t, path, dir, "  - {path: /b.txt, origin: files, public: true}\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := wait(t, r.reloaded); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if code, _ := get(t, r.pub+"/b.txt"); code != 200 {
		t.Fatalf("after reload /b.txt: %d", code)
	}

	os.WriteFile(path, []byte("routes: [{path: /b.txt, origin: files}]\nbogus: 1\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := wait(t, r.reloaded); err == nil || !strings.Contains(r.logs.String(), "reload refused") {
		t.Fatalf("bad reload: %v; log:\n%s", err, r.logs.String())
	}
	if code, body := get(t, r.pub+"/b.txt"); code != 200 || body != "B" {
		t.Fatalf("after bad reload /b.txt: %d %q", code, body)
	}
	if !strings.Contains(r.logs.String(), "bogus") {
		t.Errorf("refusal does not name the bad key:\n%s", r.logs.String())
	}
}

// TestGracefulShutdown: a request in flight when the server is told to stop completes.
// The origin sends the first byte of the body, signals, and holds the rest until the
// server has stopped accepting connections, so the request is streaming through the
// whole shutdown.
func TestGracefulShutdown(t *testing.T) {
	streaming, release := make(chan struct{}), make(chan struct{})
	var streamingOnce, releaseOnce sync.Once
	releaseBody := func() { releaseOnce.Do(func() { close(release) }) }
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "6")
		w.WriteHeader(200)
		if r.URL.Path != "/b/obj" { // the readiness probe
			w.Write([]byte("xxxxxx"))
			return
		}
		w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		streamingOnce.Do(func() { close(streaming) })
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte("xxxxx"))
	}))
	defer slow.Close()
	defer releaseBody() // before slow.Close, which waits for the handler
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s}
origins:
  slow: {s3: {bucket: b, endpoint: %q, path_style: true, access_key_id: k, secret_access_key: s}}
routes:
  - {path: "*", origin: slow, public: true}
`, slow.URL)), 0o644)
	r := start(t, path)
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(r.pub + "/obj")
		if err != nil {
			res <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{resp.StatusCode, string(b), err}
	}()
	select {
	case <-streaming: // the request is now streaming
	case got := <-res:
		t.Fatalf("request ended before the origin sent its body: %+v", got)
	}
	r.cancel()
	// Shutdown closes the listener first: once a new connection is refused, the server
	// is shutting down with the request still in flight.
	addr := strings.TrimPrefix(r.pub, "http://")
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	releaseBody()
	got := <-res
	if got.err != nil || got.code != 200 || got.body != "xxxxxx" {
		t.Fatalf("in-flight request: %+v", got)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	r.done <- nil // for the cleanup
	if _, err := http.Get(r.pub + "/obj"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// wait returns the next value from c, failing the test after 10 s.
func wait[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10s")
		panic("unreachable")
	}
}

// waitFor polls cond: only for what has no event to wait for (a listener that closed).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTLSAndHTTP2 serves HTTPS from a fresh self-signed certificate and expects HTTP/2.
func TestTLSAndHTTP2(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
	certFile, keyFile := selfSigned(t)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", tls: {cert_file: %q, key_file: %q}}
origins: {files: {dir: {root: %q}}}
routes: [{path: /a.txt, origin: files, public: true}]
`, certFile, keyFile, dir)), 0o644)
	r := start(t, path)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	resp, err := client.Get(strings.Replace(r.pub, "http://", "https://", 1) + "/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("status %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
}

func TestTLSFilesCheckedAtBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", tls: {cert_file: /nonexistent.pem, key_file: /nonexistent.key}}
origins: {files: {dir: {root: %q}}}
routes: [{path: /a.txt, origin: files, public: true}]
`, t.TempDir())), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "gatehouse.yaml:2: server.tls") {
		t.Fatalf("got %v, want an error naming server.tls at line 2", err)
	}
}

func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}
