package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExplainUploadEndpoint: explain of a path under a route's upload endpoint shows the
// decision the endpoint makes first (the route's policy), not "allowed" with no reason.
func TestExplainUploadEndpoint(t *testing.T) {
	dir := t.TempDir()
	// writeYAML's route, named and with a gateway-mode presign section (a folder origin).
	yml := strings.Replace(strings.ReplaceAll(writeYAML, "%DIR%", dir), "  - path: /home/*\n", "  - name: home\n    path: /home/*\n", 1) +
		"      presign: {mode: gateway, key: \"0123456789abcdef0123456789abcdef\"}\n"
	cfg := writeFile(t, dir, "g.yaml", yml)
	const alice = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA=="

	r := run(t, "explain", "--config", cfg, "--json", "POST", "-H", alice, "https://f.example/_gatehouse/upload/home/presign")
	var rep struct {
		Allowed        bool   `json:"allowed"`
		Status         int    `json:"status"`
		Reason         string `json:"reason"`
		UploadEndpoint string `json:"upload_endpoint"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
	}
	if r.code != 0 || !rep.Allowed || rep.UploadEndpoint != "home" || !strings.Contains(rep.Reason, "subject alice") {
		t.Errorf("alice: exit %d, %+v", r.code, rep)
	}

	r = run(t, "explain", "--config", cfg, "POST", "https://f.example/_gatehouse/upload/home/presign")
	if r.code != 2 || !strings.Contains(r.stdout, "DENY") || !strings.Contains(r.stdout, "no credentials") {
		t.Errorf("anonymous: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "explain", "--config", cfg, "POST", "-H", alice, "https://f.example/_gatehouse/upload/home/presign")
	if r.code != 0 || !strings.Contains(r.stdout, "the upload endpoint of route home answers") {
		t.Errorf("alice, text: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
