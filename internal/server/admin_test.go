package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// adminGet sends GET url with Authorization: auth (none when empty) and returns the status.
func adminGet(t *testing.T, url, auth string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// adminConfig writes a configuration with the admin section admin and log level level.
func adminConfig(t *testing.T, path, root, admin, level string) {
	t.Helper()
	body := `
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s}
admin: {listen: "127.0.0.1:0"` + admin + `}
log: {level: ` + level + `}
origins: {files: {dir: {root: "` + root + `"}}}
routes: [{path: /a.txt, origin: files, public: true}]
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRegression_AdminTokenNotReloaded: admin.token was captured when serving started and
// the whole admin section was restart-only, so after a SIGHUP with a new token the old
// (perhaps leaked) one still opened /debug/pprof/ and POST /cache/invalidate, the new one
// was refused, and removing the token did not turn them off. The restart-only warning
// also always named the same fixed list of settings. Now the serving configuration's
// token applies on each request, and the warning names what changed.
func TestRegression_AdminTokenNotReloaded(t *testing.T) {
	const oldToken, newToken = "old-token-0123456789", "new-token-0123456789"
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("A"), 0o644)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	adminConfig(t, path, root, `, token: `+oldToken, "info")
	r := start(t, path)
	pprof := r.admin + "/debug/pprof/cmdline"
	if code := adminGet(t, pprof, "Bearer "+oldToken); code != 200 {
		t.Fatalf("pprof with the token at start: %d", code)
	}

	adminConfig(t, path, root, `, token: `+newToken, "info")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := wait(t, r.reloaded); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if code := adminGet(t, pprof, "Bearer "+oldToken); code != 401 {
		t.Errorf("pprof with the replaced token: %d, want 401", code)
	}
	if code := adminGet(t, pprof, "Bearer "+newToken); code != 200 {
		t.Errorf("pprof with the new token: %d, want 200", code)
	}
	req, _ := http.NewRequest("POST", r.admin+"/cache/invalidate", strings.NewReader(`{"paths":["/a.txt"]}`))
	req.Header.Set("Authorization", "Bearer "+oldToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("invalidate with the replaced token: %v %v, want 401", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if strings.Contains(r.logs.String(), "take effect on restart only") {
		t.Errorf("a new admin.token was reported as restart-only:\n%s", r.logs.String())
	}

	// Removing the token turns profiling off; a restart-only change is named alone.
	adminConfig(t, path, root, "", "debug")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := wait(t, r.reloaded); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if code := adminGet(t, pprof, "Bearer "+newToken); code != 404 {
		t.Errorf("pprof after the token was removed: %d, want 404", code)
	}
	if logs := r.logs.String(); !strings.Contains(logs, `"log.level changed: these settings take effect on restart only"`) {
		t.Errorf("restart-only warning does not name log.level alone:\n%s", logs)
	}
}

// restartOnly reports whether settings read only at start differ between a and b.
func restartOnly(a, b *config.Config) bool { return len(restartOnlyChanges(a, b)) > 0 }

// TestRestartOnlyChanges: each setting read only at start is named by its field path,
// and settings a reload applies are not named.
func TestRestartOnlyChanges(t *testing.T) {
	base := func() *config.Config {
		return &config.Config{Server: config.Server{Listen: ":8080"}, Admin: config.Admin{Listen: ":9090", Token: "t"}}
	}
	for _, tc := range []struct {
		change func(c *config.Config)
		want   []string
	}{
		{func(c *config.Config) { c.Admin.Token = "other" }, nil},
		{func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8"} }, nil},
		{func(c *config.Config) { c.Admin.Listen = ":9091" }, []string{"admin.listen"}},
		{func(c *config.Config) { c.Server.Listen = ":1"; c.Log.Format = "json" }, []string{"server.listen", "log.format"}},
		{func(c *config.Config) { c.Server.TLS = &config.TLS{CertFile: "c", KeyFile: "k"} }, []string{"server.tls"}},
		{func(c *config.Config) { c.Server.MaxConnections = 5; c.Tracing = &config.Tracing{} }, []string{"server.max_connections", "tracing"}},
	} {
		b := base()
		tc.change(b)
		if got := restartOnlyChanges(base(), b); !slices.Equal(got, tc.want) {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	a, b := base(), base()
	a.Server.TLS = &config.TLS{ACME: &config.ACME{Domains: []string{"a.example"}}}
	b.Server.TLS = &config.TLS{ACME: &config.ACME{Domains: []string{"b.example"}}}
	if got := restartOnlyChanges(a, b); !slices.Equal(got, []string{"server.tls.acme"}) {
		t.Errorf("acme change: got %q", got)
	}
}

// TestRegression_BearerSchemeCase: the admin bearer check wanted "Bearer " exactly, so
// "Authorization: bearer TOKEN" got 401 although authentication schemes are
// case-insensitive (RFC 9110 section 11.1). Any case is accepted now; the token itself
// still has to match exactly.
func TestRegression_BearerSchemeCase(t *testing.T) {
	const token = "case-token-0123456789"
	for _, tc := range []struct {
		auth string
		want bool
	}{
		{"Bearer " + token, true},
		{"bearer " + token, true},
		{"BEARER " + token, true},
		{"bEaReR  " + token, true},
		{"Bearer " + strings.ToUpper(token), false},
		{"Basic " + token, false},
		{"Bearer", false},
		{"Bearer" + token, false},
		{"", false},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/debug/pprof/cmdline", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := bearer(w, r, token); got != tc.want || (!got && w.Code != 401) {
			t.Errorf("%q: %v (status %d), want %v", tc.auth, got, w.Code, tc.want)
		}
	}
}
