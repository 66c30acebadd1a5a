package cli_test

import (
	"os"
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
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	if err := os.Mkdir(site, 0o755); err != nil {
		t.Fatal(err)
	}
	htpasswd := writeFile(t, tmp, "htpasswd", "alice:$2a$10$AjTIRgeIz740z7wbfjVl8unpqxQ0cepcCkH4Tr6VVhq/PWqNgXmKq\n")
	for k, v := range map[string]string{
		"MINIO_ACCESS_KEY":            "example-access-key",
		"MINIO_SECRET_KEY":            "example-secret-key",
		"ASSETS_ACCESS_KEY":           "example-access-key",
		"ASSETS_SECRET_KEY":           "example-secret-key",
		"GOOGLE_CLIENT_SECRET":        "example-client-secret",
		"COGNITO_APP_CLIENT_ID":       "1example23456789",
		"APP_CLIENT_ID":               "2example34567890",
		"SITE_ROOT":                   site,
		"HTPASSWD_FILE":               htpasswd,
		"AWS_CONFIG_FILE":             filepath.Join(tmp, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "no-aws-credentials"),
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
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
