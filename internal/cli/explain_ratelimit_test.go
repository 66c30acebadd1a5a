package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainRateLimit: explain names a route's rate limit and what it counts by; a
// route without one says nothing of it.
func TestExplainRateLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gatehouse.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
origins:
  files: {dir: {root: %q}}
routes:
  - {path: /api/*, origin: files, public: true, rate_limit: {requests: 100, per: 1m, by: header, header: x-api-key}}
  - {path: /ip/*, origin: files, public: true, rate_limit: {requests: 5, per: 1s}}
  - {path: /plain/*, origin: files, public: true}
`, dir)), 0o644)
	for _, tc := range []struct{ url, want string }{
		{"https://f.example/api/a", "rate limit  100 per 1m, counted by X-Api-Key header, else client address (before the policy)"},
		{"https://f.example/ip/a", "rate limit  5 per 1s, counted by client address (before the policy)"},
	} {
		res := run(t, "explain", "--config", cfg, tc.url)
		if !strings.Contains(strings.Join(strings.Fields(res.stdout), " "), strings.Join(strings.Fields(tc.want), " ")) {
			t.Errorf("%s: output lacks %q:\n%s%s", tc.url, tc.want, res.stdout, res.stderr)
		}
	}
	if res := run(t, "explain", "--config", cfg, "https://f.example/plain/a"); strings.Contains(res.stdout, "rate limit") {
		t.Errorf("a route without rate_limit:\n%s", res.stdout)
	}
	res := run(t, "explain", "--json", "--config", cfg, "https://f.example/ip/a")
	var rep struct {
		Route struct {
			RateLimit string `json:"rate_limit"`
		} `json:"route"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || rep.Route.RateLimit != "5 per 1s, counted by client address (before the policy)" {
		t.Errorf("--json: %+v, %v\n%s", rep, err, res.stdout)
	}
}
