package cli_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

// acmeConfig is a configuration with automatic certificates kept in storage.
func acmeConfig(root, storage string) string {
	return `server:
  listen: "127.0.0.1:0"
  tls:
    acme:
      domains: [files.example.com]
      storage: ` + strconv.Quote(storage) + `
      agree_tos: true
origins:
  site: {dir: {root: ` + strconv.Quote(root) + `}}
routes:
  - {path: "/*", origin: site, public: true}
`
}

// TestRegression_ACMEStorageUnusable: `check` passed a server.tls.acme.storage that
// serve could not create (/proc/nope/store), and serve then exited 1, so the systemd
// unit (RestartPreventExitStatus=64 78) restarted it in a loop. check now tries the
// folder as serve will use it, and both report a configuration error (78) naming the
// field and its line.
func TestRegression_ACMEStorageUnusable(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(t.TempDir(), "notafolder")
	os.WriteFile(file, []byte("x"), 0o644)
	bad := []string{filepath.Join(file, "store")}
	if runtime.GOOS == "linux" {
		bad = append(bad, "/proc/nope/store") // root may "write" in /proc by its mode bits
	}
	for _, storage := range bad {
		cfg := writeFile(t, t.TempDir(), "g.yaml", acmeConfig(root, storage))
		for _, cmd := range []string{"check", "serve"} {
			r := run(t, cmd, "--config", cfg)
			if r.code != cli.ExitConfig || !strings.Contains(r.stderr, cfg+":6: server.tls.acme.storage: ") {
				t.Errorf("%s with storage %s: exit %d, stderr %q; want %d naming server.tls.acme.storage at line 6",
					cmd, storage, r.code, r.stderr, cli.ExitConfig)
			}
		}
	}

	// A folder that can be created passes check, which leaves nothing behind.
	parent := t.TempDir()
	storage := filepath.Join(parent, "acme", "store")
	cfg := writeFile(t, t.TempDir(), "g.yaml", acmeConfig(root, storage))
	if r := run(t, "check", "--config", cfg); r.code != cli.ExitOK {
		t.Fatalf("check with storage %s: exit %d, stderr %q", storage, r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("check left %v in %s", entries, parent)
	}
}
