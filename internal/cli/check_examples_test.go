package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplesPassCheck: `gatehouse check --config FILE` accepts every example
// configuration (examples/*.yaml but the ipranges sync tool's files, which
// internal/ipsync validates), in the environment examples/README.md and each file's
// header describe: the variables set, the folder and the htpasswd file present, the
// login example's keys made (at paths of the test's, see loginExample). check builds
// everything offline; nothing here reaches the network or this machine's AWS profiles.
func TestExamplesPassCheck(t *testing.T) {
	tmp := exampleEnv(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range files {
		name := filepath.Base(file)
		if strings.HasPrefix(name, "ipranges-") {
			continue
		}
		if name == "login-google-workspace.yaml" {
			file = loginExample(t, file, tmp)
		}
		checked++
		t.Run(name, func(t *testing.T) {
			r := run(t, "check", "--config", file)
			if r.code != 0 || !strings.HasPrefix(r.stdout, file+": OK (") {
				t.Fatalf("check: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("check printed warnings:\n%s", r.stderr)
			}
		})
	}
	if checked < 5 {
		t.Fatalf("checked only %d examples", checked)
	}
}
