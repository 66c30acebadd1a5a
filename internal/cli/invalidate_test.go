package cli_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

func TestInvalidate(t *testing.T) {
	const token = "a-long-enough-admin-token"
	t.Setenv("GH_TEST_ADMIN_TOKEN", token)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "www"), 0o755)
	writeFile(t, root, "www/a.txt", "one")
	writeFile(t, root, "www/b.txt", "bee")
	cfg := writeFile(t, t.TempDir(), "gatehouse.yaml", fmt.Sprintf(`server:
  listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
  token: ${GH_TEST_ADMIN_TOKEN}
cache: {memory: {max_size: 8MiB}}
origins:
  site:
    dir: {root: %s}
routes:
  - path: /www/*
    origin: site
    public: true
    cache: {policy: optimized}
`, strconv.Quote(root)))
	r := start(t, "serve", "--config", cfg)
	m := r.waitFor(t, r.stderr, regexp.MustCompile(`"msg":"gatehouse listening","addr":"([^"]+)".*"admin":"([^"]+)"`))
	base, admin := "http://"+m[1], m[2]
	xcache := func(path string) string {
		t.Helper()
		code, h, _ := get(t, base+path)
		if code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		return h.Get("X-Cache")
	}
	for _, p := range []string{"/www/a.txt", "/www/b.txt"} {
		xcache(p)
		if got := xcache(p); got != "Hit from gatehouse" {
			t.Fatalf("%s: X-Cache %q", p, got)
		}
	}

	res := run(t, "invalidate", "--admin", admin, "--token-env", "GH_TEST_ADMIN_TOKEN", "/www/a.txt")
	if res.code != 0 || res.stdout != "/www/a.txt\t2\n" {
		t.Fatalf("invalidate: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if got := xcache("/www/a.txt"); got != "Miss from gatehouse" {
		t.Errorf("after invalidation: X-Cache %q", got)
	}
	if got := xcache("/www/b.txt"); got != "Hit from gatehouse" {
		t.Errorf("untouched object: X-Cache %q", got)
	}
	res = run(t, "invalidate", "--admin", admin, "--token-env", "GH_TEST_ADMIN_TOKEN", "--json", "/www/*")
	if res.code != 0 || !strings.Contains(res.stdout, `"removed":4`) {
		t.Fatalf("prefix: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if got := xcache("/www/b.txt"); got != "Miss from gatehouse" {
		t.Errorf("after prefix invalidation: X-Cache %q", got)
	}

	t.Setenv("GH_WRONG_TOKEN", "not-the-token-at-all")
	res = run(t, "invalidate", "--admin", admin, "--token-env", "GH_WRONG_TOKEN", "/www/*")
	if res.code != 1 || !strings.Contains(res.stderr, "401") {
		t.Errorf("wrong token: exit %d, stderr %q", res.code, res.stderr)
	}
	res = run(t, "invalidate", "--admin", admin, "--token-env", "GH_UNSET_TOKEN_VAR", "/www/*")
	if res.code != cli.ExitUsage {
		t.Errorf("no token: exit %d, stderr %q; want %d (a usage error, not explain's denied)", res.code, res.stderr, cli.ExitUsage)
	}
	// The cache's counters are on /metrics (GET /cache/stats is gone).
	code, _, body := get(t, "http://"+admin+"/metrics")
	if code != 200 || !strings.Contains(body, `gatehouse_cache_requests_total{result="hit"}`) ||
		!strings.Contains(body, "gatehouse_cache_invalidated_entries_total") {
		t.Errorf("metrics: %d %q", code, body)
	}
	if code, _, _ := get(t, "http://"+admin+"/cache/stats"); code != 404 {
		t.Errorf("GET /cache/stats: %d, want 404 (removed)", code)
	}
}

// TestInvalidateFleetAnswer: with a fleet, invalidate says how many live replicas
// applied the invalidation and exits 1 when some had not.
func TestInvalidateFleetAnswer(t *testing.T) {
	t.Setenv("GH_TEST_ADMIN_TOKEN", "a-long-enough-admin-token")
	for _, tc := range []struct {
		applied, code int
	}{{3, 0}, {2, 1}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"results":[{"path":"/a","removed":1}],"removed":1,"fleet":{"replicas":3,"applied":%d}}`, tc.applied)
		}))
		res := run(t, "invalidate", "--admin", srv.URL, "--token-env", "GH_TEST_ADMIN_TOKEN", "/a")
		srv.Close()
		if res.code != tc.code || !strings.Contains(res.stderr, fmt.Sprintf("applied by %d of 3 live replicas", tc.applied)) {
			t.Errorf("applied %d of 3: exit %d, stderr %q (want exit %d)", tc.applied, res.code, res.stderr, tc.code)
		}
	}
}

// TestInvalidateJSONOnRefusal: --json prints a refusal's JSON answer too (a fleet's 503
// with fleet_error), and the exit status is 1.
func TestInvalidateJSONOnRefusal(t *testing.T) {
	t.Setenv("GH_TEST_ADMIN_TOKEN", "a-long-enough-admin-token")
	body := `{"results":[{"path":"/a","removed":1}],"removed":1,"fleet_error":"not sent to the other replicas: redis: not connected yet"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	res := run(t, "invalidate", "--json", "--admin", srv.URL, "--token-env", "GH_TEST_ADMIN_TOKEN", "/a")
	if res.code != 1 || res.stdout != body {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}
