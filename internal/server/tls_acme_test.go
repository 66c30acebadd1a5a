package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The ACME tests run letsencrypt's pebble (an ACME server) and pebble-challtestsrv (its
// DNS server, answering 127.0.0.1 for every name), both installed by scripts/test, whose
// paths it passes in GATEHOUSE_PEBBLE and GATEHOUSE_CHALLTESTSRV. Pebble validates
// challenges on the ports gatehouse listens on, on loopback.

// pebbleEnv is one running pebble, and the ports its validation uses.
type pebbleEnv struct {
	directory string         // the ACME directory URL
	caFile    string         // the CA that signed pebble's own HTTPS certificate
	roots     *x509.CertPool // pebble's issuing root, from its management API
	tlsPort   int            // where pebble checks tls-alpn-01: gatehouse's server.listen
	httpPort  int            // where pebble checks http-01: gatehouse's http_listen
	log       *logBuf
}

// freePorts returns n distinct loopback ports that were free a moment ago (each is held
// until all are chosen, so none is handed out twice).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// startPebble runs challtestsrv and pebble until the test ends; certificates pebble
// issues are valid for validity. With eab (key ID to base64url HMAC key), pebble
// requires an external account binding.
func startPebble(t *testing.T, validity time.Duration, eab map[string]string) *pebbleEnv {
	t.Helper()
	pebble, chall := os.Getenv("GATEHOUSE_PEBBLE"), os.Getenv("GATEHOUSE_CHALLTESTSRV")
	if pebble == "" || chall == "" {
		if os.Getenv("GATEHOUSE_REQUIRE_MINIO") == "1" {
			t.Fatal("GATEHOUSE_PEBBLE and GATEHOUSE_CHALLTESTSRV must be set (scripts/test installs pebble and sets them)")
		}
		t.Skip("GATEHOUSE_PEBBLE and GATEHOUSE_CHALLTESTSRV are unset (scripts/test installs pebble and sets them)")
	}
	dir := t.TempDir()
	ca := newTestCA(t)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pemCert(ca.cert), 0o644)
	certFile, keyFile := filepath.Join(dir, "pebble.pem"), filepath.Join(dir, "pebble.key")
	ca.issue(t, certFile, keyFile, 2, "")
	p := freePorts(t, 6)
	env := &pebbleEnv{caFile: caFile, tlsPort: p[0], httpPort: p[1], log: &logBuf{}}
	dns, api, mgmt, challMgmt := p[2], p[3], p[4], p[5]
	env.directory = fmt.Sprintf("https://127.0.0.1:%d/dir", api)

	run := func(name string, extraEnv []string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), extraEnv...)
		cmd.Stdout, cmd.Stderr = env.log, env.log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	run(chall, nil, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dns),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-management", fmt.Sprintf("127.0.0.1:%d", challMgmt))
	conf, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": fmt.Sprintf("127.0.0.1:%d", api), "managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmt),
		"certificate": certFile, "privateKey": keyFile, "httpPort": env.httpPort, "tlsPort": env.tlsPort,
		"externalAccountBindingRequired": eab != nil, "externalAccountMACKeys": eab,
		"retryAfter":   map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm": "ecdsa",
		"profiles":     map[string]any{"default": map[string]any{"description": "test", "validityPeriod": int(validity.Seconds())}},
	}})
	confFile := filepath.Join(dir, "pebble.json")
	os.WriteFile(confFile, conf, 0o644)
	run(pebble, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"},
		"-config", confFile, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dns))

	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var root []byte
	deadline := time.Now().Add(30 * time.Second)
	for { // pebble is a separate process: wait until its management API answers
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmt))
		if err == nil {
			root, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v; log:\n%s", err, env.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	env.roots = x509.NewCertPool()
	if !env.roots.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root is not PEM: %q", root)
	}
	return env
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// acmeConfig writes a gatehouse configuration obtaining a certificate for domain from
// env with the given challenges; extra is added to the acme block.
func (env *pebbleEnv) acmeConfig(t *testing.T, path, storage, domain, challenges, extra string) {
	t.Helper()
	root := filepath.Join(filepath.Dir(path), "site")
	os.MkdirAll(root, 0o755)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("A"), 0o644)
	httpListen := ""
	if strings.Contains(challenges, "http-01") {
		httpListen = fmt.Sprintf("\n      http_listen: 127.0.0.1:%d", env.httpPort)
	}
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
      storage: %s
      challenges: %s
      agree_tos: true%s%s
origins: {files: {dir: {root: %q}}}
routes: [{path: /a.txt, origin: files, public: true}]
`, env.tlsPort, domain, env.directory, env.caFile, storage, challenges, httpListen, extra, root)), 0o644)
}

// httpsGet fetches /a.txt from gatehouse with domain as SNI, verifying the certificate
// against pebble's root, and returns the served leaf.
func (env *pebbleEnv) httpsGet(t *testing.T, domain string) *x509.Certificate {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: env.roots, ServerName: domain}}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/a.txt", env.tlsPort))
	if err != nil {
		t.Fatalf("HTTPS request for %s: %v; pebble log:\n%s", domain, err, env.log.String())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "A" {
		t.Fatalf("HTTPS request for %s: %d %q", domain, resp.StatusCode, body)
	}
	return resp.TLS.PeerCertificates[0]
}

// stop ends a server started with start before the test ends.
func (r *running) stop() {
	r.cancel()
	err := <-r.done
	r.done <- err // for start's cleanup
}

// TestACMEPebble obtains certificates from pebble with each challenge type, reuses the
// stored certificate on restart, and renews when renew_before exceeds the remaining
// validity.
func TestACMEPebble(t *testing.T) {
	t.Run("tls-alpn-01", func(t *testing.T) {
		env := startPebble(t, 240*time.Hour, nil)
		dir := t.TempDir()
		path, storage := filepath.Join(dir, "gatehouse.yaml"), filepath.Join(dir, "acme")
		const domain = "alpn.gatehouse.example.com"
		env.acmeConfig(t, path, storage, domain, "[tls-alpn-01]", "")
		r := start(t, path)
		first := env.httpsGet(t, domain)
		// Pebble logs its http-01 attempts, not its tls-alpn-01 ones.
		if l := env.log.String(); strings.Contains(l, "validate w/ HTTP") || strings.Count(l, "set VALID by completed challenge") != 1 ||
			strings.Contains(l, "set INVALID") {
			t.Errorf("pebble's log should show one valid authorization, not by http-01:\n%s", l)
		}
		// A handshake waiting on autocert's order returns as soon as the certificate is
		// made, a moment before the ordering call stores (and logs) it: wait for that, or
		// the restart below could find nothing stored.
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(r.logs.String(), "ACME: certificate obtained"); {
			if time.Now().After(deadline) {
				t.Fatalf("the order is not logged:\n%s", r.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.stop()

		// A restart serves the stored certificate: no new order.
		r = start(t, path)
		if got := env.httpsGet(t, domain); !got.Equal(first) {
			t.Fatalf("after a restart serial %s is served, want the stored %s", got.SerialNumber, first.SerialNumber)
		}
		if strings.Contains(r.logs.String(), "ACME: certificate obtained") {
			t.Fatalf("a restart ordered a new certificate:\n%s", r.logs.String())
		}
		r.stop()

		// renew_before longer than the 10-day validity: renewed at once.
		env.acmeConfig(t, path, storage, domain, "[tls-alpn-01]", "\n      renew_before: 264h")
		r = start(t, path)
		deadline := time.Now().Add(time.Minute)
		for env.httpsGet(t, domain).Equal(first) {
			if time.Now().After(deadline) {
				t.Fatalf("not renewed; gatehouse log:\n%s\npebble log:\n%s", r.logs.String(), env.log.String())
			}
			time.Sleep(100 * time.Millisecond) // autocert's renewal runs on its own timer
		}
		if n := strings.Count(env.log.String(), "Issued certificate"); n < 2 {
			t.Errorf("pebble issued %d certificates, want a renewal", n)
		}
		if !strings.Contains(r.logs.String(), "renewed at every chance") {
			t.Errorf("renew_before beyond the lifetime is not warned about:\n%s", r.logs.String())
		}
	})

	t.Run("http-01", func(t *testing.T) {
		env := startPebble(t, 240*time.Hour, nil)
		dir := t.TempDir()
		path, storage := filepath.Join(dir, "gatehouse.yaml"), filepath.Join(dir, "acme")
		const domain = "http.gatehouse.example.com"
		env.acmeConfig(t, path, storage, domain, "[http-01]", "")
		r := start(t, path)
		env.httpsGet(t, domain)
		// One order, validated over http-01: tls-alpn-01, which autocert tries first, was
		// never offered to it (an attempt would have failed and needed a second order).
		if l := env.log.String(); !strings.Contains(l, "validate w/ HTTP") || strings.Count(l, "Added order") != 1 ||
			strings.Contains(l, "set INVALID") {
			t.Errorf("pebble's log should show one order, validated by http-01:\n%s", l)
		}
		if fi, err := os.Stat(storage); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("storage: %v %v, want a folder with mode 0700", fi, err)
		}
		// Plain HTTP on http_listen redirects to https.
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/a.txt?x=1", env.httpPort), nil)
		req.Host = domain
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := fmt.Sprintf("https://%s:%d/a.txt?x=1", domain, env.tlsPort); resp.StatusCode != 308 || resp.Header.Get("Location") != want {
			t.Errorf("http_listen: %d %q, want 308 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		if strings.Contains(r.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", r.logs.String())
		}

		// A name not in domains gets no certificate and places no order.
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", env.tlsPort), &tls.Config{ServerName: "other.example.com", RootCAs: env.roots})
		if err == nil {
			c.Close()
			t.Error("a handshake for a name not in domains succeeded")
		}
		if n := strings.Count(env.log.String(), "Added order"); n != 1 {
			t.Errorf("%d orders after a handshake for another name, want 1", n)
		}
	})

	t.Run("external account binding", func(t *testing.T) {
		const kid, key = "kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
		env := startPebble(t, 240*time.Hour, map[string]string{kid: key})
		dir := t.TempDir()
		path, storage := filepath.Join(dir, "gatehouse.yaml"), filepath.Join(dir, "acme")
		const domain = "eab.gatehouse.example.com"
		env.acmeConfig(t, path, storage, domain, "[tls-alpn-01]", "\n      eab: {key_id: "+kid+", hmac_key: "+key+"}")
		start(t, path)
		env.httpsGet(t, domain)
	})
}
