package gateway_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// TestSignedEndToEnd: CloudFront-format signed URLs and cookies made by gatehouse's
// signer fetch private objects from a real MinIO through a running gateway; a changed
// byte, an expired URL, another path or no signature at all get 403.
func TestSignedEndToEnd(t *testing.T) {
	needMinIO(t)
	key, err := cfsign.GenerateKey("rsa")
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := cfsign.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "public.pem")
	os.WriteFile(pubFile, pubPEM, 0o644)
	g := startGateway(t, `
key_groups:
  media:
    keys:
      - {id: KTESTKEY000001, file: "${PUB}"}
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /media/*
    origin: assets
    strip_prefix: /media
    auth:
      methods:
        - signed: {key_groups: [media]}
`, map[string]string{"PUB": pubFile, "MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})

	sign := func(rawURL string, opts cfsign.SignOptions) string {
		t.Helper()
		u, err := cfsign.SignURL(rawURL, "KTESTKEY000001", key, opts)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(u string, cookies ...*http.Cookie) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	hour := cfsign.SignOptions{Expires: time.Now().Add(time.Hour)}

	good := sign(g.URL+"/media/hello.txt", hour)
	if code, body := get(good); code != 200 || body != helloTxt {
		t.Fatalf("signed URL: %d %q", code, body)
	}
	// Change one byte of the signature.
	i := strings.Index(good, "Signature=") + len("Signature=") + 5
	flip := byte('A')
	if good[i] == 'A' {
		flip = 'B'
	}
	if code, _ := get(good[:i] + string(flip) + good[i+1:]); code != 403 {
		t.Errorf("one byte changed: %d, want 403", code)
	}
	if code, _ := get(sign(g.URL+"/media/hello.txt", cfsign.SignOptions{Expires: time.Now().Add(-time.Minute)})); code != 403 {
		t.Errorf("expired: %d, want 403", code)
	}
	// A URL signed for one object does not open another.
	other := strings.Replace(good, "/media/hello.txt", "/media/empty.txt", 1)
	if code, _ := get(other); code != 403 {
		t.Errorf("other path: %d, want 403", code)
	}
	if code, _ := get(g.URL + "/media/hello.txt"); code != 403 {
		t.Errorf("no signature: %d, want 403", code)
	}
	// The client's own query parameters are covered by the signature.
	withQuery := sign(g.URL+"/media/hello.txt?v=2", hour)
	if code, _ := get(withQuery); code != 200 {
		t.Errorf("signed URL with its own query: %d", code)
	}
	if code, _ := get(strings.Replace(withQuery, "v=2", "v=3", 1)); code != 403 {
		t.Errorf("own query changed: %d, want 403", code)
	}

	// Cookies for a whole prefix: one signature, many objects.
	cookies, err := cfsign.SignCookies("KTESTKEY000001", key, cfsign.SignOptions{Resource: g.URL + "/media/*", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/media/hello.txt", "/media/empty.txt"} {
		if code, _ := get(g.URL+p, cookies...); code != 200 {
			t.Errorf("cookies, %s: %d", p, code)
		}
	}
	// The signing parameters never become part of the object key or the log.
	log := g.access.String()
	if strings.Contains(log, "Signature") || strings.Contains(log, "Key-Pair-Id") {
		t.Error("signing parameters in the access log")
	}
	if !strings.Contains(log, `"key":"hello.txt"`) || !strings.Contains(log, `"user":"key:KTESTKEY000001"`) {
		t.Errorf("access log:\n%s", log)
	}
	if !strings.Contains(log, "expired") || !strings.Contains(log, "bad signature") {
		t.Errorf("denial reasons missing from the log:\n%s", log)
	}
}
