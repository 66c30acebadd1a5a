package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// testCA issues leaf certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue writes a leaf for 127.0.0.1 (and the chain) to certFile and its key to keyFile.
func (ca *testCA) issue(t *testing.T, certFile, keyFile string, serial int64, ocspURL string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(12 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if ocspURL != "" {
		tmpl.OCSPServer = []string{ocspURL}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return leaf
}

// servedLeaf dials addr with TLS and returns the certificate it was shown.
func servedLeaf(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", strings.TrimPrefix(addr, "http://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// TestRegression_TLSFilesNotReloaded: server.tls's certificate and key were read once at
// start, so a renewed certificate put in place (and SIGHUP) was not served until a
// restart. Now a reload serves the new pair, and a pair that does not load refuses the
// reload and keeps the running certificate.
func TestRegression_TLSFilesNotReloaded(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, certFile, keyFile, 1, "")
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("A"), 0o644)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s, tls: {cert_file: %q, key_file: %q}}
origins: {files: {dir: {root: %q}}}
routes: [{path: /a.txt, origin: files, public: true}]
`, certFile, keyFile, root)), 0o644)
	r := start(t, path)
	if got := servedLeaf(t, r.pub).SerialNumber.Int64(); got != 1 {
		t.Fatalf("serial %d at start, want 1", got)
	}

	renewed := ca.issue(t, certFile, keyFile, 2, "")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := wait(t, r.reloaded); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := servedLeaf(t, r.pub); !got.Equal(renewed) {
		t.Fatalf("after reload serial %d is served, want the renewed certificate (2)", got.SerialNumber)
	}
	if strings.Contains(r.logs.String(), "take effect on restart only") {
		t.Errorf("a new certificate is not a restart-only change:\n%s", r.logs.String())
	}

	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	err := wait(t, r.reloaded)
	if err == nil || !strings.Contains(err.Error(), "server.tls") || !strings.Contains(r.logs.String(), "reload refused") {
		t.Fatalf("reload with a bad key: %v; log:\n%s", err, r.logs.String())
	}
	if got := servedLeaf(t, r.pub); !got.Equal(renewed) {
		t.Fatalf("after the refused reload serial %d is served, want the running certificate (2)", got.SerialNumber)
	}
}

// ocspResponder answers OCSP requests for ca's leaves with status (a fresh response
// valid for validity each time) and counts them.
type ocspResponder struct {
	ca       *testCA
	now      func() time.Time
	validity time.Duration
	status   atomic.Int64
	asked    atomic.Int64
	down     atomic.Bool
}

func (o *ocspResponder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.asked.Add(1)
	if o.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := o.now()
	resp, err := ocsp.CreateResponse(o.ca.cert, o.ca.cert, ocsp.Response{Status: int(o.status.Load()), SerialNumber: req.SerialNumber,
		ThisUpdate: now, NextUpdate: now.Add(o.validity), RevokedAt: now}, o.ca.key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// TestOCSPStapling: a file certificate naming an OCSP responder is served with the
// responder's answer stapled; it is fetched again halfway to its NextUpdate, no longer
// stapled once past it (responder down), and a revoked status is never stapled.
func TestOCSPStapling(t *testing.T) {
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }

	ca := newTestCA(t)
	resp := &ocspResponder{ca: ca, now: now, validity: 4 * time.Hour}
	resp.status.Store(ocsp.Good)
	srv := httptest.NewServer(resp)
	defer srv.Close()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	leaf := ca.issue(t, certFile, keyFile, 7, srv.URL)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}

	logs := &logBuf{}
	c, err := newCertificates(&config.TLS{CertFile: certFile, KeyFile: keyFile},
		&gateway.State{TLS: &tls.Config{Certificates: []tls.Certificate{pair}}}, slog.New(slog.NewTextHandler(logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.staple.wg.Wait() // the fetch newCertificates started, on the real clock: start over
	c.staple.now, c.staple.entries = now, map[[32]byte]*stapleEntry{}
	resp.asked.Store(0)
	c.setFile(c.file.Load())
	c.staple.wg.Wait()

	handshake := func() []byte {
		t.Helper()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go func() { tls.Server(a, c.tlsConfig()).Handshake() }()
		pool := x509.NewCertPool()
		pool.AddCert(ca.cert)
		cl := tls.Client(b, &tls.Config{RootCAs: pool, ServerName: "localhost", Time: now})
		if err := cl.Handshake(); err != nil {
			t.Fatal(err)
		}
		return cl.ConnectionState().OCSPResponse
	}
	stapled := func() *ocsp.Response {
		t.Helper()
		der := handshake()
		if der == nil {
			return nil
		}
		r, err := ocsp.ParseResponseForCert(der, leaf, ca.cert)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	first := stapled()
	if first == nil || first.Status != ocsp.Good || first.SerialNumber.Int64() != 7 {
		t.Fatalf("stapled %+v, want a good response for serial 7; log:\n%s", first, logs.String())
	}
	if n := resp.asked.Load(); n != 1 {
		t.Fatalf("responder asked %d times, want 1", n)
	}

	advance(time.Hour) // before the refresh time (2h): the same response, no new request
	if r := stapled(); r == nil || !r.ThisUpdate.Equal(first.ThisUpdate) || resp.asked.Load() != 1 {
		t.Fatalf("at 1h: stapled %+v, asked %d; want the first response, no new request", r, resp.asked.Load())
	}

	advance(90 * time.Minute) // past the refresh time: the handshake starts a fetch
	stapled()
	c.staple.wg.Wait()
	second := stapled()
	if resp.asked.Load() != 2 || second == nil || !second.ThisUpdate.After(first.ThisUpdate) {
		t.Fatalf("after the refresh time: asked %d, stapled %+v; want a second, newer response", resp.asked.Load(), second)
	}

	resp.down.Store(true)
	advance(4*time.Hour + time.Minute) // past the second response's NextUpdate, responder down
	if r := stapled(); r != nil {
		t.Fatalf("an expired response is stapled: %+v", r)
	}
	c.staple.wg.Wait()
	if !strings.Contains(logs.String(), "OCSP: fetching the certificate's status failed") {
		t.Errorf("a failed fetch is not logged:\n%s", logs.String())
	}

	resp.down.Store(false)
	resp.status.Store(ocsp.Revoked)
	advance(2 * time.Minute) // past the retry time
	stapled()
	c.staple.wg.Wait()
	if r := stapled(); r != nil {
		t.Fatalf("a revoked response is stapled: %+v", r)
	}
	if !strings.Contains(logs.String(), "status=revoked") {
		t.Errorf("a revoked certificate is not logged:\n%s", logs.String())
	}
}

// TestChallengeFilter: tls-alpn-01 is removed from an authorization when only http-01
// is offered; other responses pass unchanged.
func TestChallengeFilter(t *testing.T) {
	authz := `{"status":"pending","identifier":{"type":"dns","value":"a.example.com"},"challenges":[` +
		`{"type":"tls-alpn-01","url":"https://ca/1","token":"t"},{"type":"http-01","url":"https://ca/2","token":"t"},` +
		`{"type":"dns-01","url":"https://ca/3","token":"t"}]}`
	for _, tc := range []struct{ body, want string }{
		{authz, "http-01"},
		{`{"status":"valid","certificate":"https://ca/cert"}`, ""},
		{`not json`, ""},
	} {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(tc.body))}
		out, err := filterChallenges(resp, func(typ string) bool { return typ == "http-01" })
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		if out.ContentLength != int64(len(got)) {
			t.Errorf("ContentLength %d for %d bytes", out.ContentLength, len(got))
		}
		if tc.want == "" {
			if string(got) != tc.body {
				t.Errorf("changed %q to %q", tc.body, got)
			}
			continue
		}
		var z struct {
			Status     string
			Challenges []struct{ Type, URL string }
		}
		if err := json.Unmarshal(got, &z); err != nil || z.Status != "pending" || len(z.Challenges) != 1 ||
			z.Challenges[0].Type != tc.want || z.Challenges[0].URL != "https://ca/2" {
			t.Errorf("filtered to %s (%v)", got, err)
		}
	}
}

// TestACMERedirect: the http_listen handler redirects a configured domain to https
// (with the public port unless 443) and refuses other hosts.
func TestACMERedirect(t *testing.T) {
	storage := filepath.Join(t.TempDir(), "acme", "store")
	a := &config.ACME{Domains: []string{"files.example.com"}, Storage: storage, Directory: config.LetsEncryptDirectory,
		Challenges: []string{config.ChallengeTLSALPN01}, AgreeTOS: true}
	c, err := newCertificates(&config.TLS{ACME: a}, &gateway.State{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(storage); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("storage folder: %v, %v; want it created with mode 0700", fi, err)
	}
	for _, tc := range []struct {
		port, host, target string
		code               int
		location           string
	}{
		{"443", "files.example.com", "/a/b?c=1", 308, "https://files.example.com/a/b?c=1"},
		{"443", "Files.Example.com:80", "/x", 308, "https://files.example.com/x"},
		{"8443", "files.example.com", "/x", 308, "https://files.example.com:8443/x"},
		{"443", "evil.example.net", "/x", 400, ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", tc.target, nil)
		r.Host = tc.host
		c.httpHandler(tc.port).ServeHTTP(w, r)
		if w.Code != tc.code || w.Header().Get("Location") != tc.location {
			t.Errorf("%s%s on port %s: %d %q, want %d %q", tc.host, tc.target, tc.port, w.Code, w.Header().Get("Location"), tc.code, tc.location)
		}
	}
	if _, err := c.getCertificate(&tls.ClientHelloInfo{ServerName: "evil.example.net"}); err == nil {
		t.Error("a certificate was sought for a host not in domains")
	}
	if _, err := c.getCertificate(&tls.ClientHelloInfo{ServerName: "files.example.com", SupportedProtos: []string{acmeALPN}}); err == nil ||
		!bytes.Contains([]byte(err.Error()), []byte("no token cert")) {
		t.Errorf("tls-alpn-01 hello without a pending challenge: %v", err)
	}
}

// FuzzFilterChallenges: whatever the ACME server sends, filtering neither fails nor
// leaves a challenge type that is not allowed in an authorization it rewrote.
func FuzzFilterChallenges(f *testing.F) {
	f.Add(`{"status":"pending","challenges":[{"type":"tls-alpn-01"},{"type":"http-01"}]}`)
	f.Add(`{"challenges":null}`)
	f.Add(`{"challenges":[1,2]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}
		out, err := filterChallenges(resp, func(typ string) bool { return typ == "http-01" })
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		if out.ContentLength != int64(len(got)) {
			t.Fatalf("ContentLength %d for %d bytes", out.ContentLength, len(got))
		}
		if string(got) == body {
			return
		}
		var z struct{ Challenges []struct{ Type string } }
		if err := json.Unmarshal(got, &z); err != nil {
			t.Fatalf("rewritten body is not JSON: %v", err)
		}
		for _, c := range z.Challenges {
			if c.Type != "http-01" {
				t.Fatalf("challenge %q kept", c.Type)
			}
		}
	})
}
