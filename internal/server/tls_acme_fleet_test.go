package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestACMEFleetSharedStore runs two replicas (two server.Run) with server.tls.acme.store:
// redis on one redis-server, started together and both wanting the same domain's
// certificate from pebble over http-01. Pebble's http-01 validation reaches a proxy that
// asks both replicas for the token and answers only when both give the same key
// authorization: the replica that did not order knows the token only from Redis, so
// the order succeeds only because the token is shared. The fleet's order lock lets one
// replica order; the other loads what it stored, so both serve the same certificate
// (same leaf over TLS) after exactly one order.
func TestACMEFleetSharedStore(t *testing.T) {
	env := startPebble(t, 240*time.Hour, nil)
	rd, err := testenv.StartRedis()
	if errors.Is(err, testenv.ErrNoRedis) {
		t.Skip("redis-server not installed (scripts/test installs it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rd.Stop)

	const domain = "fleet.gatehouse.example.com"
	p := freePorts(t, 3)
	listenA, listenB := env.tlsPort, p[0]
	httpA, httpB := p[1], p[2]

	// The validation proxy on pebble's http-01 port.
	var mu sync.Mutex
	var answered []string // one line per validation request
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		get := func(port int) (int, []byte) {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, r.URL.Path), nil)
			req.Host = r.Host
			resp, err := http.DefaultTransport.RoundTrip(req)
			// The other replica may still be starting: wait for its listener.
			for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				resp, err = http.DefaultTransport.RoundTrip(req)
			}
			if err != nil {
				return 0, []byte(err.Error())
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		codeA, bodyA := get(httpA)
		codeB, bodyB := get(httpB)
		mu.Lock()
		answered = append(answered, fmt.Sprintf("%s: A %d %q, B %d %q", r.URL.Path, codeA, bodyA, codeB, bodyB))
		mu.Unlock()
		if codeA != 200 || codeB != 200 || !bytes.Equal(bodyA, bodyB) {
			http.Error(w, "the replicas do not both answer the token", http.StatusBadGateway)
			return
		}
		w.Write(bodyB)
	})}
	pl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", env.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	go proxy.Serve(pl)
	t.Cleanup(func() { proxy.Close() })

	dir := t.TempDir()
	root := filepath.Join(dir, "site")
	os.MkdirAll(root, 0o755)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("A"), 0o644)
	write := func(name string, listen, httpListen int) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(fmt.Sprintf(`
server:
  listen: 127.0.0.1:%d
  shutdown_timeout: 5s
  tls:
    acme:
      domains: [%s]
      email: ops@example.com
      directory: %s
      ca_file: %s
      store: redis
      challenges: [http-01]
      http_listen: 127.0.0.1:%d
      agree_tos: true
redis:
  addresses: [%s]
  timeout: 2s
origins: {files: {dir: {root: %q}}}
routes: [{path: /a.txt, origin: files, public: true}]
`, listen, domain, env.directory, env.caFile, httpListen, rd.Addr, root)), 0o644)
		return path
	}
	pathA, pathB := write("a.yaml", listenA, httpA), write("b.yaml", listenB, httpB)

	// Both start together (within milliseconds); each handshake waits for its
	// replica's first certificate.
	a, b := start(t, pathA), start(t, pathB)

	leafA := httpsLeaf(t, env, listenA, domain)
	leafB := httpsLeaf(t, env, listenB, domain)
	mu.Lock()
	validations := strings.Join(answered, "\n")
	mu.Unlock()
	if validations == "" {
		t.Fatalf("pebble validated nothing through the proxy; pebble log:\n%s", env.log.String())
	}
	if !leafA.Equal(leafB) {
		t.Errorf("the replicas serve different certificates: A serial %s (sha256 %x), B serial %s (sha256 %x)",
			leafA.SerialNumber, sha256.Sum256(leafA.Raw), leafB.SerialNumber, sha256.Sum256(leafB.Raw))
	}
	if n := strings.Count(env.log.String(), "Added order"); n != 1 {
		t.Errorf("pebble got %d orders, want 1 (the order lock lets one replica order)", n)
	}
	if n := strings.Count(a.logs.String()+b.logs.String(), "ACME: certificate obtained"); n != 1 {
		t.Errorf("%d replicas logged an order, want 1:\nA:\n%s\nB:\n%s", n, a.logs.String(), b.logs.String())
	}
	t.Logf("validations:\n%s", validations)

	// What autocert stored is in Redis under the fleet's prefix; the lock is released
	// and the token deleted.
	for key, want := range map[string]string{
		"{gatehouse}:acme:acme_account+key":     "1",
		"{gatehouse}:acme:" + domain:            "1",
		"{gatehouse}:acme:lock:" + domain:       "0",
		"{gatehouse}:acme:" + tokenOf(answered): "0",
	} {
		if got, err := rd.Do("EXISTS", key); err != nil || got != want {
			t.Errorf("EXISTS %s = %q, %v; want %s", key, got, err, want)
		}
	}

	// A replica started later loads the stored certificate: no order.
	a.stop()
	a = start(t, pathA)
	if got := httpsLeaf(t, env, listenA, domain); !got.Equal(leafB) {
		t.Errorf("a restarted replica serves serial %s, want the stored %s", got.SerialNumber, leafB.SerialNumber)
	}
	if n := strings.Count(env.log.String(), "Added order"); n != 1 || strings.Contains(a.logs.String(), "ACME: certificate obtained") {
		t.Errorf("pebble got %d orders after a restart, want still 1; the restarted replica's log:\n%s", n, a.logs.String())
	}
}

// httpsLeaf fetches /a.txt from the listener on port with domain as SNI, verifying the
// certificate against pebble's root, and returns the served leaf.
func httpsLeaf(t *testing.T, env *pebbleEnv, port int, domain string) *x509.Certificate {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: env.roots, ServerName: domain}}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/a.txt", port))
	if err != nil {
		t.Fatalf("HTTPS request to port %d: %v; pebble log:\n%s", port, err, env.log.String())
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(body) != "A" {
		t.Fatalf("HTTPS request to port %d: %d %q", port, resp.StatusCode, body)
	}
	return resp.TLS.PeerCertificates[0]
}

// tokenOf is autocert's cache name of the first validated token ("<token>+http-01").
func tokenOf(answered []string) string {
	if len(answered) == 0 {
		return "none"
	}
	path, _, _ := strings.Cut(answered[0], ":")
	return path[strings.LastIndex(path, "/")+1:] + "+http-01"
}
