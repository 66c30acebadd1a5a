package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

const unitFile = "systemd/gatehouse.service"

// unitSettings reads a unit file's Key=value lines (comments and sections dropped);
// a key given more than once has each value in order.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not Key=value", path, line)
		}
		out[k] = append(out[k], v)
	}
	return out
}

// TestSystemdUnitSettings: the unit's hardening and operations settings, one by one.
func TestSystemdUnitSettings(t *testing.T) {
	u := unitSettings(t, unitFile)
	for key, want := range map[string]string{
		"Type":                    "exec",
		"ExecStart":               "/usr/local/bin/gatehouse serve --config /etc/gatehouse/gatehouse.yaml",
		"Restart":                 "on-failure",
		"DynamicUser":             "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"StateDirectory":          "gatehouse",
		"CacheDirectory":          "gatehouse",
		"LogsDirectory":           "gatehouse",
		"ConfigurationDirectory":  "gatehouse",
		"LimitNOFILE":             "65536",
		"SystemCallArchitectures": "native",
	} {
		if got := u[key]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%v, want %s", key, got, want)
		}
	}
	if got := u["ExecReload"]; len(got) != 2 || got[0] != "/usr/local/bin/gatehouse check /etc/gatehouse/gatehouse.yaml" || got[1] != "/bin/kill -HUP $MAINPID" {
		t.Errorf("ExecReload=%q, want a check of the file, then SIGHUP", got)
	}
	if got := u["SystemCallFilter"]; !slices.Contains(got, "@system-service") {
		t.Errorf("SystemCallFilter=%q, want @system-service", got)
	}
	// The statuses that mean "fix the file or the command line first" (cli.ExitUsage,
	// cli.ExitConfig) must not be restarted in a loop.
	prevent := strings.Fields(strings.Join(u["RestartPreventExitStatus"], " "))
	for _, code := range []int{cli.ExitUsage, cli.ExitConfig} {
		if !slices.Contains(prevent, strconv.Itoa(code)) {
			t.Errorf("RestartPreventExitStatus=%v lacks %d", prevent, code)
		}
	}
}

// systemdAnalyze is GATEHOUSE_SYSTEMD_ANALYZE (scripts/test sets it, installing
// Debian's systemd package when needed). Unset, the test is skipped, or fails under
// GATEHOUSE_REQUIRE_MINIO=1 (scripts/test and CI), which must run everything.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	p := os.Getenv("GATEHOUSE_SYSTEMD_ANALYZE")
	if p == "" {
		if os.Getenv("GATEHOUSE_REQUIRE_MINIO") == "1" {
			t.Fatal("GATEHOUSE_REQUIRE_MINIO=1 but GATEHOUSE_SYSTEMD_ANALYZE is not set (scripts/test sets it)")
		}
		t.Skip("GATEHOUSE_SYSTEMD_ANALYZE is not set")
	}
	return p
}

// unitCopy writes the unit, with its binary path replaced by an executable that exists
// here (the test binary: verify checks only that the commands are executable), as
// dir/gatehouse.service; edit changes it further.
func unitCopy(t *testing.T, dir string, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "/usr/local/bin/gatehouse", exe)
	if edit != nil {
		text = edit(text)
	}
	p := filepath.Join(dir, "gatehouse.service")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// verify runs systemd-analyze verify and returns its exit error and output (which
// lists unknown keys and bad values while still exiting 0).
func verify(t *testing.T, bin, unit string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, "verify", "--man=no", "--generators=no", unit).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestSystemdUnitVerifies: systemd-analyze verify accepts the unit without a word, and
// its offline security review rates its exposure at most 2.0 (of 10). A unit with one
// misspelled key is not silent: the check is not vacuous.
func TestSystemdUnitVerifies(t *testing.T) {
	bin := systemdAnalyze(t)
	unit := unitCopy(t, t.TempDir(), nil)
	if out, err := verify(t, bin, unit); err != nil || out != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}
	out, err := exec.Command(bin, "security", "--offline=true", "--threshold=20", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v (exposure above 2.0)\n%s", err, out)
	}
	typo := unitCopy(t, t.TempDir(), func(s string) string {
		return strings.Replace(s, "\nProtectSystem=strict", "\nProtectSytem=strict", 1)
	})
	if out, err := verify(t, bin, typo); err == nil && !strings.Contains(out, "Unknown key 'ProtectSytem'") {
		t.Errorf("verify of a misspelled key: %v %q; want it named", err, out)
	}
	// On a machine where gatehouse is installed (deploy/systemd/install), the
	// installed unit is verified as it is.
	if _, err := os.Stat("/usr/local/bin/gatehouse"); err == nil {
		if out, err := verify(t, bin, unitFile); err != nil || out != "" {
			t.Errorf("systemd-analyze verify %s as written: %v\n%s", unitFile, err, out)
		}
	}
}
