package cli_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestCheckProbeSaysWhy: `check --probe` prints one line per origin and authenticator
// with the probe's reason and message (a wrong secret key, a missing bucket, nothing
// listening, a wrong login issuer), against a real MinIO and the test OpenID provider,
// and exits 1. The secret key appears nowhere.
func TestCheckProbeSaysWhy(t *testing.T) {
	m, err := testenv.StartMinIO()
	if errors.Is(err, testenv.ErrNoMinIO) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	m.CreateBucket(t, "files")
	idp := testenv.NewOIDCProvider(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("http://127.0.0.1:%d", port)

	dir := t.TempDir()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	os.WriteFile(filepath.Join(dir, "priv.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
	root := filepath.Join(dir, "site")
	os.Mkdir(root, 0o755)

	cfg := writeFile(t, dir, "probe.yaml", fmt.Sprintf(`
key_groups:
  site:
    keys: [{id: KLOGIN0000001, file: %[1]q}]
origins:
  a-folder:
    dir: {root: %[2]q}
  b-badsecret:
    s3: {bucket: files, endpoint: %[3]q, path_style: true, region: us-east-1, access_key_id: %[4]q, secret_access_key: not-the-secret, max_attempts: 1}
  c-nobucket:
    s3: {bucket: nobucket, endpoint: %[3]q, path_style: true, region: us-east-1, access_key_id: %[4]q, secret_access_key: %[5]q, max_attempts: 1}
  d-refused:
    s3: {bucket: files, endpoint: %[6]q, path_style: true, region: us-east-1, access_key_id: %[4]q, secret_access_key: %[5]q, max_attempts: 1}
  e-good:
    s3: {bucket: files, endpoint: %[3]q, path_style: true, region: us-east-1, access_key_id: %[4]q, secret_access_key: %[5]q}
routes:
  - {path: /b/*, origin: b-badsecret, public: true}
  - {path: /c/*, origin: c-nobucket, public: true}
  - {path: /d/*, origin: d-refused, public: true}
  - {path: /e/*, origin: e-good, public: true}
  - path: /www/*
    name: www
    origin: a-folder
    index: index.html
    auth:
      methods:
        - login:
            issuer: %[7]q
            client_id: gatehouse
            client_secret: s3cret
            hosts: [intranet.test]
            email_domains: [example.com]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: %[8]q
`, filepath.Join(dir, "pub.pem"), root, m.Endpoint, m.AccessKey, m.SecretKey, closed, idp.URL+"/", filepath.Join(dir, "priv.pem")))

	r := run(t, "check", "--config", cfg, "--probe")
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	want := strings.Join([]string{
		"origin a-folder: ok",
		"origin b-badsecret: FAILED (wrong_secret_key): the secret key is wrong for access key " + m.AccessKey + " (SignatureDoesNotMatch)",
		`origin c-nobucket: FAILED (bucket_missing): bucket "nobucket" does not exist at ` + m.Endpoint,
		"origin d-refused: FAILED (connection_refused): nothing is listening at " + closed + " (connection refused)",
		"origin e-good: ok",
		fmt.Sprintf(`auth:www/login: FAILED (issuer_mismatch): the provider at %[1]s/.well-known/openid-configuration says its issuer is %[1]q, not the configured "%[1]s/": set issuer to exactly %[1]q`, idp.URL),
		"",
	}, "\n")
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if strings.Contains(r.stdout+r.stderr, m.SecretKey) || strings.Contains(r.stdout+r.stderr, "s3cret") {
		t.Errorf("output prints a secret:\n%s%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "did not answer the probe") {
		t.Errorf("stderr lacks the summary: %q", r.stderr)
	}
}
