package gateway_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/auth/basicauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// basicRoutesConfig has /a/* and /b/* protected by two basic authenticators reading one
// htpasswd file, and /c/* by one with other credentials (inline), all allowing 3
// failures a minute. Forwarding headers are believed from the loopback test client so
// that requests can come from several client addresses.
func basicRoutesConfig(t *testing.T) (string, map[string]string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte("alice:"+aliceFastHash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	route := func(name, basic string) string {
		return fmt.Sprintf(`
  - path: /%[1]s/*
    origin: assets
    strip_prefix: /%[1]s
    auth:
      methods:
        - basic: %[2]s
`, name, basic)
	}
	fromFile := `{htpasswd_file: "${HTPASSWD}", max_failures: 3}`
	yml := `
server:
  trusted_proxies: [127.0.0.1/32, "::1/128"]
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:` + route("a", fromFile) + route("b", fromFile) +
		route("c", fmt.Sprintf(`{users: {alice: %q}, max_failures: 3}`, aliceFastHash))
	return yml, map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey,
		"MINIO_SECRET": minio.SecretKey, "HTPASSWD": file}
}

// TestRegression_FailureCountersPerRoute: failed Basic attempts were counted per route,
// so N routes sharing one htpasswd file gave a client N times max_failures guesses a
// minute. Now failures on /a count on /b (same credentials), the client is then refused
// with 429 on both even with the right password, other credentials (/c) and other
// clients count apart, and a configuration reload keeps the counts.
func TestRegression_FailureCountersPerRoute(t *testing.T) {
	needMinIO(t)
	yml, env := basicRoutesConfig(t)
	cfg, err := config.Parse("test.yaml", []byte(yml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := gateway.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.State().Close()
	})
	const (
		good  = "Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
		wrong = "Basic YWxpY2U6bm9wZQ=="         // alice:nope
	)
	get := func(path, client, authorization string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", authorization)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const attacker, other = "198.51.100.7", "198.51.100.8"
	if code, _ := get("/a/hello.txt", attacker, good); code != 200 {
		t.Fatalf("right password: %d", code)
	}
	for i, path := range []string{"/a/hello.txt", "/b/hello.txt", "/a/hello.txt"} {
		if code, _ := get(path, attacker, wrong); code != 401 {
			t.Fatalf("failure %d on %s: %d, want 401", i+1, path, code)
		}
	}
	for _, path := range []string{"/b/hello.txt", "/a/hello.txt"} {
		code, body := get(path, attacker, good)
		if code != 429 {
			t.Fatalf("%s after 3 failures across /a and /b: %d, want 429 (counters per route?)", path, code)
		}
		if strings.Contains(body, "alice") || strings.Contains(body, "198.51") || len(body) > 100 {
			t.Errorf("429 body %q: want short and without internals", body)
		}
	}
	if code, _ := get("/c/hello.txt", attacker, wrong); code != 401 {
		t.Fatalf("/c (other credentials): %d, want 401", code)
	}
	if code, _ := get("/b/hello.txt", other, good); code != 200 {
		t.Fatalf("another client: %d, want 200", code)
	}

	// A reload builds a new State from the same file: the counts carry over.
	next, err := gateway.BuildFrom(ctx, cfg, slog.New(slog.DiscardHandler), h.State())
	if err != nil {
		t.Fatal(err)
	}
	h.Swap(next).Close()
	if code, _ := get("/a/hello.txt", attacker, good); code != 429 {
		t.Fatalf("after a reload: %d, want 429 (counts reset by the reload?)", code)
	}
	// A check (Inspect) starts its own counts and never touches a running server's.
	insp, err := gateway.Inspect(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	insp.Close()
}

// TestBasicMixedCostsWarning: a State reports basic users with hashes of different
// costs as a warning naming the field and line, and still builds.
func TestBasicMixedCostsWarning(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "htpasswd")
	// aliceHash is cost 10; this one is cost 4.
	if err := os.WriteFile(file, []byte("alice:"+aliceHash+"\nbob:$2a$04$3FNpL5iHQSm.ICNZ6xHdv.LFrPiOzktCNLmyLm7JUuaWlOnBPwIxK\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := fmt.Sprintf(`
origins:
  site:
    dir: {root: %q}
routes:
  - path: /ok/*
    origin: site
    auth:
      methods:
        - basic: {users: {alice: %q}}
  - path: /mixed/*
    origin: site
    auth:
      methods:
        - name: staff
          basic:
            htpasswd_file: %q
`, dir, aliceHash, file)
	cfg, err := config.Parse("test.yaml", []byte(yml), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := gateway.Inspect(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := st.Warnings()
	if len(w) != 1 {
		t.Fatalf("warnings: %v", w)
	}
	got := w[0].Error()
	for _, want := range []string{"test.yaml:17: routes[1].auth.methods[0].basic.htpasswd_file: ", "bcrypt cost 10: 1 user", "bcrypt cost 4: 1 user"} {
		if !strings.Contains(got, want) {
			t.Errorf("warning %q does not contain %q", got, want)
		}
	}
}

// TestRegression_UnknownUserTimingByCostThroughGateway is the request-path side of
// basicauth's TestRegression_UnknownUserTimingByCost: with two users at bcrypt cost 4
// and alice at cost 8, an unknown user used to be refused after one cost-4 hash (the
// majority's) and alice's wrong password after a cost-8 one, 16 times the work. Now
// every refusal hashes at both costs. Wall-clock, so it asserts only what load cannot
// fake: the fastest of several unknown-user refusals is not faster than half the
// fastest wrong-password refusal of alice (old code: about 1/16).
func TestRegression_UnknownUserTimingByCostThroughGateway(t *testing.T) {
	needMinIO(t)
	const cost4 = "$2a$04$3FNpL5iHQSm.ICNZ6xHdv.LFrPiOzktCNLmyLm7JUuaWlOnBPwIxK"
	file := filepath.Join(t.TempDir(), "htpasswd")
	cost8, err := basicauth.HashBcrypt([]byte("wonderland"), 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("alice:"+cost8+"\nbob:"+cost4+"\ncarol:"+cost4+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, `
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /a/*
    origin: assets
    strip_prefix: /a
    auth:
      methods:
        - basic: {htpasswd_file: "${HTPASSWD}", max_failures: 1000}
`, map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey, "HTPASSWD": file})
	refuse := func(user string) time.Duration {
		t.Helper()
		start := time.Now()
		resp, _ := g.do(t, "GET", "/a/hello.txt", "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(user+":guess")))
		d := time.Since(start)
		wantStatus(t, resp, 401)
		return d
	}
	fastest := map[string]time.Duration{}
	for range 3 {
		for _, u := range []string{"nobody", "alice", "bob"} {
			if d := refuse(u); fastest[u] == 0 || d < fastest[u] {
				fastest[u] = d
			}
		}
	}
	t.Logf("fastest refusal: unknown %v, alice (cost 8) %v, bob (cost 4) %v", fastest["nobody"], fastest["alice"], fastest["bob"])
	if fastest["nobody"] < fastest["alice"]/2 || fastest["bob"] < fastest["alice"]/2 {
		t.Fatalf("an unknown user (%v) or a cost-4 user (%v) is refused much faster than a cost-8 user (%v)",
			fastest["nobody"], fastest["bob"], fastest["alice"])
	}
}
