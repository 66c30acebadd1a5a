package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

// explainConfig has an any-route (office CIDR or Basic), an all-route (office CIDR and
// Basic), a public route and a CORS route.
func explainConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.yaml")
	// alice:wonderland, bcrypt cost 10
	hash := "$2a$10$AjTIRgeIz740z7wbfjVl8unpqxQ0cepcCkH4Tr6VVhq/PWqNgXmKq"
	os.WriteFile(path, []byte(fmt.Sprintf(`
server:
  trusted_proxies: [10.0.0.0/8]
origins:
  files: {dir: {root: %q}}
routes:
  - path: /public/*
    origin: files
    public: true
  - path: /any/*
    origin: files
    auth:
      methods:
        - {name: office, ip: {cidrs: [192.0.2.0/24]}}
        - {name: staff, basic: {users: {alice: %q}}}
  - path: /all/*
    origin: files
    auth:
      mode: all
      methods:
        - {name: office, ip: {cidrs: [192.0.2.0/24]}}
        - {name: staff, basic: {users: {alice: %q}}}
    cors: {allowed_origins: [https://app.example.com], allowed_headers: [Authorization]}
`, dir, hash, hash)), 0o644)
	return path
}

func TestExplain(t *testing.T) {
	cfg := explainConfig(t)
	const alice = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA=="
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"public", []string{"https://f.example/public/a.txt"}, 0,
			[]string{"routes[0]", "public route", `fetch key "public/a.txt" from origin files`}},
		{"any: office address", []string{"https://f.example/any/a.txt", "--client-ip", "192.0.2.7"}, 0,
			[]string{"mode any, 1 authenticator(s) ran", "1. office", "identity", "ALLOW"}},
		{"any: stranger with password", []string{"GET", "https://f.example/any/a.txt", "--client-ip", "203.0.113.9", "-H", alice}, 0,
			[]string{"1. office", "not allowed", "2. staff", "identity", "ALLOW"}},
		{"any: stranger", []string{"https://f.example/any/a.txt", "--client-ip", "203.0.113.9"}, 2,
			[]string{"DENY", "401 Unauthorized", `Basic realm="gatehouse"`}},
		{"all: office without password", []string{"https://f.example/all/a.txt", "--client-ip", "192.0.2.7"}, 2,
			[]string{"mode all", "2. staff", "no credentials", "DENY"}},
		{"all: both", []string{"https://f.example/all/a.txt", "--client-ip", "192.0.2.7", "-H", alice}, 0,
			[]string{"ALLOW", "all 2 authenticators passed"}},
		{"spoofed forwarded-for from an untrusted peer", []string{"https://f.example/all/a.txt", "--client-ip", "203.0.113.9", "-H", alice, "-H", "X-Forwarded-For: 192.0.2.7"}, 2,
			[]string{"client 203.0.113.9", "not allowed", "DENY", "403"}},
		{"forwarded-for from a trusted proxy", []string{"https://f.example/all/a.txt", "--client-ip", "10.1.2.3", "-H", alice, "-H", "X-Forwarded-For: 192.0.2.7"}, 0,
			[]string{"client 192.0.2.7", "ALLOW"}},
		{"preflight", []string{"OPTIONS", "https://f.example/all/a.txt", "-H", "Origin: https://app.example.com", "-H", "Access-Control-Request-Method: GET"}, 0,
			[]string{"CORS preflight", "204 No Content", "Access-Control-Allow-Origin: https://app.example.com"}},
		{"traversal", []string{"https://f.example/public/%2e%2e/all/a.txt"}, 2, []string{"path", "refused", "400 Bad Request"}},
		{"no route", []string{"https://f.example/nope"}, 2, []string{"none matches", "404 Not Found"}},
		{"bad url", []string{"relative"}, cli.ExitUsage, nil},
		{"bad scheme", []string{"ftp://f.example/public/a"}, cli.ExitUsage, nil},
		{"bad header", []string{"https://f.example/public/a", "-H", "nocolon"}, cli.ExitUsage, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, append([]string{"explain", "--config", cfg}, tc.args...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.code, res.stdout, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}

func TestExplainJSONAndEvent(t *testing.T) {
	cfg := explainConfig(t)
	event := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(event, []byte(`{"Records":[{"cf":{"config":{"eventType":"viewer-request"},"request":{
		"clientIp":"192.0.2.44","method":"GET","uri":"/any/report.pdf","querystring":"a=1",
		"headers":{"host":[{"key":"Host","value":"files.example.com"}]}}}}]}`), 0o644)
	res := run(t, "explain", "--config", cfg, "--event", event, "--json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	var rep struct {
		URL     string `json:"url"`
		Client  string `json:"client_ip"`
		Allowed bool   `json:"allowed"`
		Key     string `json:"key"`
		Route   struct {
			Index int `json:"index"`
		} `json:"route"`
		Steps []struct{ Name, Outcome string } `json:"authenticators"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, res.stdout)
	}
	if !rep.Allowed || rep.Client != "192.0.2.44" || rep.Key != "any/report.pdf" || rep.Route.Index != 1 ||
		rep.URL != "https://files.example.com/any/report.pdf?a=1" || len(rep.Steps) != 1 || rep.Steps[0].Outcome != "identity" {
		t.Errorf("report %+v", rep)
	}
	if res := run(t, "explain", "--config", cfg, "--event", event, "https://x/"); res.code != cli.ExitUsage {
		t.Errorf("--event with a URL: exit %d", res.code)
	}
}
