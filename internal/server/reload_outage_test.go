package server

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestRegression_ReloadBlockedByProviderOutage, through SIGHUP: with the JWKS endpoint
// hanging, a reload that only adds a route used to wait 10 s for the key set and then be
// refused. Now the unchanged jwt authenticator is taken over with its key set: the new
// route serves within the test's 5 s, and tokens keep verifying.
func TestRegression_ReloadBlockedByProviderOutage(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hang := make(chan struct{})
	var hanging atomic.Bool
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hanging.Load() {
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			}
		}
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	defer jwks.Close()
	defer close(hang) // before Close, which waits for hanging handlers

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("B"), 0o644)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	jwtRoute := fmt.Sprintf("  - path: /j/a.txt\n    origin: files\n    strip_prefix: /j\n    auth: {methods: [{jwt: {issuer: %[1]q, jwks_url: %[1]q, audiences: [app]}}]}\n", jwks.URL)
	writeConfig(t, path, dir, jwtRoute)
	r := start(t, path)

	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(map[string]any{"iss": jwks.URL, "aud": "app", "sub": "u1",
		"exp": time.Now().Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	withToken := func() int {
		req, _ := http.NewRequest(http.MethodGet, r.pub+"/j/a.txt", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, func() bool { return withToken() == 200 }) // the key set loaded in the background

	hanging.Store(true)
	writeConfig(t, path, dir, jwtRoute+"  - {path: /b.txt, origin: files, public: true}\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, func() bool { code, _ := get(t, r.pub+"/b.txt"); return code == 200 })
	if code := withToken(); code != 200 {
		t.Fatalf("token after the reload: %d, want 200", code)
	}
	if strings.Contains(r.logs.String(), "reload refused") {
		t.Fatalf("reload refused:\n%s", r.logs.String())
	}
}
