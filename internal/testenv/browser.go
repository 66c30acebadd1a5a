package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Browser prepares a browser test run from a folder under tests/e2e: it skips the test
// unless GATEHOUSE_E2E_BROWSER=1 (scripts/test sets it once Debian's chromium and the
// folder's npm packages are installed), fails it when chromium, playwright-core or one of
// the other node modules named is missing, and returns the path of node.
func Browser(t *testing.T, modules ...string) (node string) {
	t.Helper()
	if os.Getenv("GATEHOUSE_E2E_BROWSER") != "1" {
		t.Skip("set GATEHOUSE_E2E_BROWSER=1 (scripts/test does, after installing chromium and npm ci)")
	}
	dir, _ := os.Getwd()
	need := []string{"/usr/bin/chromium", "node_modules/playwright-core"}
	for _, m := range modules {
		need = append(need, filepath.Join("node_modules", m))
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: apt-get install -y chromium; npm ci in %s", p, dir)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found")
	}
	return node
}
