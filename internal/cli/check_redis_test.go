package cli_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestCheckRedis: `check` refuses a redis.tls file that does not load (exit 78, the
// field and its line), and `check --probe` contacts Redis: a line saying ok, or why not
// (the password refused), and exit 1.
func TestCheckRedis(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, site, "a.txt", "a")
	config := func(redis string) string {
		return writeFile(t, dir, "gatehouse.yaml", fmt.Sprintf(`origins:
  site:
    dir: {root: %q}
routes:
  - path: /*
    origin: site
    public: true
redis:
%s`, site, redis))
	}
	res := run(t, "check", "--config", config("  addresses: [127.0.0.1:6379]\n  tls: {ca_file: /nonexistent/ca.pem}\n"))
	if res.code != 78 || !strings.Contains(res.stderr, "gatehouse.yaml:10: redis.tls.ca_file:") {
		t.Fatalf("missing CA file: exit %d, stderr %q", res.code, res.stderr)
	}

	rd, err := testenv.StartRedis("--requirepass", "right-password")
	if errors.Is(err, testenv.ErrNoRedis) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rd.Stop)
	res = run(t, "check", "--probe", "--config", config(fmt.Sprintf("  addresses: [%s]\n  password: right-password\n", rd.Addr)))
	if res.code != 0 || !strings.Contains(res.stdout, "redis: ok\n") {
		t.Fatalf("reachable Redis: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res = run(t, "check", "--probe", "--config", config(fmt.Sprintf("  addresses: [%s]\n  password: wrong-password\n", rd.Addr)))
	if res.code != 1 || !strings.Contains(res.stdout, "redis: FAILED (auth_failed): Redis at "+rd.Addr+" refused the credentials (WRONGPASS)") ||
		strings.Contains(res.stdout+res.stderr, "wrong-password") {
		t.Fatalf("wrong password: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}
