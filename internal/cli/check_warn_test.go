package cli_test

import (
	"strings"
	"testing"
)

// TestCheckWarnsMixedCosts: check accepts basic users whose hashes have different costs
// but warns on stderr, naming the file, line and field; stdout and the exit status are
// those of a clean check.
func TestCheckWarnsMixedCosts(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()
	const (
		cost4  = "$2a$04$3FNpL5iHQSm.ICNZ6xHdv.LFrPiOzktCNLmyLm7JUuaWlOnBPwIxK"
		cost10 = "$2a$10$AjTIRgeIz740z7wbfjVl8unpqxQ0cepcCkH4Tr6VVhq/PWqNgXmKq"
	)
	htpasswd := writeFile(t, dir, "htpasswd", "alice:"+cost10+"\nbob:"+cost4+"\n")
	cfg := writeFile(t, dir, "mixed.yaml", strings.Replace(goodConfig(root, "127.0.0.1:8080"),
		"    auth: {}\n", "    auth:\n      methods:\n        - basic: {htpasswd_file: "+htpasswd+"}\n", 1))
	r := run(t, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if want := cfg + ": OK (2 routes, 1 origins)\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	want := cfg + ":15: routes[1].auth.methods[0].basic.htpasswd_file: warning: users' hashes have different costs"
	if !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, "(bcrypt cost 10: 1 user, bcrypt cost 4: 1 user)") {
		t.Errorf("stderr = %q, want one line starting %q", r.stderr, want)
	}
}
