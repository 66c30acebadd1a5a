// Package login is gatehouse's end-to-end browser test of the login authenticator: a
// real MinIO, a real OpenID provider (oidc-provider, on loopback) and Debian's chromium
// driven by playwright-core. It runs when GATEHOUSE_E2E_BROWSER=1 (scripts/test sets it
// once chromium and the npm packages are installed) and is skipped otherwise.
package login

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const gatehouseConfig = `
key_groups:
  site:
    keys:
      - {id: KE2ELOGIN00001, file: "${PUB}"}
origins:
  site:
    s3: {bucket: site, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
pages:
  title: Example Corp intranet
  primary_color: "#0b5cad"
routes:
  - path: /www/*
    origin: site
    index: index.html
    auth:
      methods:
        - name: staff
          login:
            issuer: "${ISSUER}"
            client_id: gatehouse
            client_secret: "${CLIENT_SECRET}"
            scopes: [openid, email]
            hosts: ["${HOST}"]
            email_domains: [example.com]
            key_group: site
            key_id: KE2ELOGIN00001
            private_key_file: "${PRIV}"
`

// TestBrowserLogin: protected page -> login -> provider -> back on the page with the
// object from MinIO; logout -> login again; a user of another domain is denied with the
// built-in page. Screenshots go to test-artifacts/login/ at the repository root.
func TestBrowserLogin(t *testing.T) {
	node := testenv.Browser(t, "oidc-provider")
	minio, err := testenv.StartMinIO()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(minio.Stop)
	minio.CreateBucket(t, "site")
	if _, err := minio.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String("www/index.html"),
		Body: strings.NewReader("<!doctype html><title>intranet</title><h1>Welcome, staff</h1>"), ContentType: aws.String("text/html")}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	key, err := cfsign.GenerateKey("rsa")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := cfsign.MarshalPrivateKeyPEM(key)
	pub, _ := cfsign.MarshalPublicKeyPEM(key.Public())
	os.WriteFile(filepath.Join(dir, "priv.pem"), priv, 0o600)
	os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o644)

	// gatehouse's address must be known before the provider starts (redirect URI).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)
	startNode(t, []string{"PORT=" + fmt.Sprint(port), "REDIRECT_URI=" + base + "/_gatehouse/callback"}, node, "provider.mjs")

	env := map[string]string{"HOST": ln.Addr().String(), "PUB": filepath.Join(dir, "pub.pem"), "PRIV": filepath.Join(dir, "priv.pem"), "ISSUER": issuer,
		"CLIENT_SECRET": "e2e-secret", "MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}
	cfg, err := config.Parse("e2e.yaml", []byte(gatehouseConfig), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	st, err := gateway.Build(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gateway.NewHandler(st, log, log), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); st.Close() })

	root, _ := filepath.Abs("../../..")
	artifacts := filepath.Join(root, "test-artifacts", "login")
	os.RemoveAll(artifacts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "browser.mjs")
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+base, "ISSUER="+issuer, "ARTIFACTS="+artifacts)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil || !strings.Contains(string(out), "E2E OK") {
		t.Fatalf("browser test failed: %v\ngatehouse log:\n%s", err, logs.String())
	}
	for _, want := range []string{"login: signed in", "user=ana@example.com", "login: denied", "user=eve@other.com"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("gatehouse log lacks %q:\n%s", want, logs.String())
		}
	}
}

// startNode runs a node script until the test ends and waits for it to print READY.
func startNode(t *testing.T, env []string, node, script string) {
	t.Helper()
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%s exited before it was ready", script)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready after 30s", script)
	}
}
