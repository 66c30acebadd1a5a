package gateway

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestCheckACMEStorage: a folder that exists or can be created passes and nothing is
// left behind; a path through a file, a dangling link, or a place no folder can be
// created in (/proc, whatever the mode bits say to root) is refused with the reason.
func TestCheckACMEStorage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling"))
	os.Mkdir(filepath.Join(dir, "existing"), 0o700)
	for _, tc := range []struct {
		path, err string
	}{
		{filepath.Join(dir, "existing"), ""},
		{filepath.Join(dir, "new", "deeper"), ""},
		{file, "is not a folder"},
		{filepath.Join(file, "store"), "is not a folder"},
		{filepath.Join(dir, "dangling", "store"), "symbolic link to nothing"},
		{"/proc/nope/store", "cannot create a folder in /proc"},
	} {
		if tc.path == "/proc/nope/store" {
			if _, err := os.Stat("/proc/self"); err != nil {
				continue // no procfs here
			}
		}
		err := checkACMEStorage(tc.path)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), ".gatehouse-check-") {
			t.Errorf("%s: %v names the temporary entry", tc.path, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "dangling existing file" {
		t.Errorf("left in the folder: %s", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "existing")); len(entries) != 0 {
		t.Errorf("left in an existing storage folder: %v", entries)
	}
}

// TestRegression_ACMERedisStoreChecksNoFolder: with server.tls.acme.store: redis,
// storage is empty, and the build checked it as a folder anyway, that is the working
// directory: a non-root user started in / (systemd's default) got exit 78. Here the
// working directory is /proc, where nobody can create files.
func TestRegression_ACMERedisStoreChecksNoFolder(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("no /proc")
	}
	cfg, err := config.Parse("gatehouse.yaml", []byte(`
server:
  tls:
    acme: {domains: [a.example.com], store: redis, agree_tos: true}
redis: {addresses: ['127.0.0.1:6379']}
origins: {site: {dir: {root: `+t.TempDir()+`}}}
routes: [{path: /*, origin: site, public: true}]
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("/proc")
	st, err := Inspect(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("build with store: redis checked a folder: %v", err)
	}
	st.Close()
}
