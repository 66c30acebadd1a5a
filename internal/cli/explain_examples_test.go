package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// exampleRequests are the requests explained for each example configuration (named by
// file without .yaml; "demo" is internal/demo/demo.yaml): one per route, plus the
// credentials or CORS preflight that show what the route's authenticators do. Each
// request's `explain --json` output is compared with testdata/explain/<example>-<n>.json.
var exampleRequests = map[string][][]string{
	"aws-s3": {
		{"https://www.example.com/drafts/plan.html"},
		{"--client-ip", "10.0.1.2", "-H", "X-Forwarded-For: 198.51.100.7", "https://www.example.com/about/"},
	},
	"cloudfront-only": {
		{"https://www.example.com/"},
	},
	"local-folder": {
		{"http://127.0.0.1:8080/private/notes.txt"},
		{"http://127.0.0.1:8080/docs/"},
	},
	"login-google-workspace": {
		{"https://intranet.example.com/public/logo.png"},
		{"-H", "Accept: text/html", "https://intranet.example.com/www/handbook/"},
		{"https://intranet.example.com/_gatehouse/callback?code=x&state=y"}, // a login endpoint, before any route
	},
	"minio": {
		{"http://127.0.0.1:8080/internal/salaries.csv"},
		{"http://127.0.0.1:8080/public/docs/"},
	},
	"multi-origin": {
		{"http://127.0.0.1:8080/assets/app.js"},
		{"http://127.0.0.1:8080/downloads/beta/tool-2.0.zip"},
		{"HEAD", "http://127.0.0.1:8080/downloads/tool-1.0.zip"},
		{"http://127.0.0.1:8080/"},
	},
	"seed-000-office-network": {
		{"--client-ip", "2001:db8:ac3e::7", "https://scripts.example.com/scripts/deploy.sh"},
		{"--client-ip", "203.0.113.9", "https://scripts.example.com/scripts/deploy.sh"},
	},
	"seed-003-cognito-app": {
		{"https://content.example.com/courses/intro/video.mp4"},
		{"OPTIONS", "-H", "Origin: https://app.example.com", "-H", "Access-Control-Request-Method: GET", "-H", "Access-Control-Request-Headers: authorization",
			"https://content.example.com/courses/intro/video.mp4"},
	},
	"seed-004-query-token-images": {
		{"https://uploads.example.com/files/board/photo.png"},
		{"OPTIONS", "-H", "Origin: https://stage.uclusion.com", "-H", "Access-Control-Request-Method: GET", "https://uploads.example.com/files/board/photo.png"},
	},
	"demo": {
		{"http://127.0.0.1:8080/"},
		{"http://127.0.0.1:8080/public/hello.txt"},
		{"-H", "Authorization: Basic ZGVtbzpkZW1v", "http://127.0.0.1:8080/private/report.txt"},
		{"http://127.0.0.1:8080/blocked/report.txt"},
	},
}

// needsNetwork are the examples whose address lists or key sets load over the network
// (ip-ranges.json, EC2 security groups, OpenID discovery). They are explained with
// --timeout 1ns, which ends the loading before any of it leaves the machine: their
// authenticators report the outage they serve with until the sources load, and
// load_error says "context deadline exceeded". The timeout also bounds the request's own
// checks (a password check waits for a slot under it), so these examples' requests carry
// no password; the others keep the default timeout.
var needsNetwork = map[string]bool{
	"cloudfront-only":             true,
	"seed-000-office-network":     true,
	"seed-003-cognito-app":        true,
	"seed-004-query-token-images": true,
}

// TestExplainExamples: golden `explain --json` output, configuration to decision, for
// every example configuration and the demo's. Everything builds offline: the environment
// the examples read is fixed here, files they name outside the repository are replaced by
// temporary ones, and sources that would load over the network are cut off (needsNetwork).
func TestExplainExamples(t *testing.T) {
	tmp := exampleEnv(t)

	configs := map[string]string{"demo": filepath.Join("..", "demo", "demo.yaml")}
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		if strings.HasPrefix(name, "ipranges-") {
			continue // the ipranges sync tool's files, not gatehouse configurations
		}
		configs[name] = file
	}
	configs["login-google-workspace"] = loginExample(t, configs["login-google-workspace"], tmp)
	for name := range configs {
		if _, ok := exampleRequests[name]; !ok {
			t.Errorf("example %s has no requests in exampleRequests", name)
		}
	}
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "explain"), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	names := make([]string, 0, len(exampleRequests))
	for name := range exampleRequests {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			cfg, ok := configs[name]
			if !ok {
				t.Fatalf("no example configuration %s", name)
			}
			flags := []string{"explain", "--json", "--config", cfg}
			if needsNetwork[name] {
				flags = append(flags, "--timeout", "1ns")
			}
			for i, args := range exampleRequests[name] {
				r := run(t, append(flags, args...)...)
				if r.code != 0 && r.code != 2 || r.stderr != "" {
					t.Fatalf("explain %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
				}
				if allowed := strings.Contains(r.stdout, "\n  \"allowed\": true,\n"); allowed != (r.code == 0) {
					t.Errorf("explain %s: exit %d, but the report says allowed %t", strings.Join(args, " "), r.code, allowed)
				}
				if loaded := !strings.Contains(r.stdout, `"load_error"`); loaded == needsNetwork[name] {
					t.Errorf("explain %s: load_error %t, but needsNetwork says %t", strings.Join(args, " "), !loaded, needsNetwork[name])
				}
				golden(t, filepath.Join("explain", fmt.Sprintf("%s-%d.json", name, i+1)), r.stdout)
			}
		})
	}
}

// loginExample writes a copy of the login example whose key files, which it reads from
// /etc/gatehouse, are a key pair made for the test, and returns its path. The keys never
// reach explain's output.
func loginExample(t *testing.T, path, dir string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := cfsign.GenerateKey("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := cfsign.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cfsign.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	for file, pem := range map[string][]byte{"site-private.pem": priv, "site-public.pem": pub} {
		if !strings.Contains(src, "/etc/gatehouse/"+file) {
			t.Fatalf("%s no longer names /etc/gatehouse/%s: update loginExample", path, file)
		}
		src = strings.ReplaceAll(src, "/etc/gatehouse/"+file, writeFile(t, dir, file, string(pem)))
	}
	return writeFile(t, dir, filepath.Base(path), src)
}

// exampleEnv sets the environment the example configurations read (examples/README.md
// and each file's header): their variables, a site folder and an htpasswd file in a
// temporary folder, which it returns. The SDK's default chain finds neither this
// machine's profiles nor IMDS.
func exampleEnv(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	if err := os.Mkdir(site, 0o755); err != nil {
		t.Fatal(err)
	}
	// alice:wonderland, bcrypt cost 10
	htpasswd := writeFile(t, tmp, "htpasswd", "alice:$2a$10$AjTIRgeIz740z7wbfjVl8unpqxQ0cepcCkH4Tr6VVhq/PWqNgXmKq\n")
	for k, v := range map[string]string{
		"MINIO_ACCESS_KEY":      "example-access-key",
		"MINIO_SECRET_KEY":      "example-secret-key",
		"ASSETS_ACCESS_KEY":     "example-access-key",
		"ASSETS_SECRET_KEY":     "example-secret-key",
		"ASSETS_ENDPOINT":       "http://127.0.0.1:9000",
		"GOOGLE_CLIENT_SECRET":  "example-client-secret",
		"COGNITO_APP_CLIENT_ID": "1example23456789",
		"APP_CLIENT_ID":         "2example34567890",
		"SITE_ROOT":             site,
		"GATEHOUSE_ACCESS_LOG":  "off",
		"HTPASSWD_FILE":         htpasswd,
		"GATEHOUSE_DEMO_ROOT":   site,
		"GATEHOUSE_DEMO_LISTEN": "127.0.0.1:8080",
		"GATEHOUSE_DEMO_ADMIN":  "127.0.0.1:9090",
		// The SDK's default chain must not find this machine's profiles or ask IMDS.
		"AWS_CONFIG_FILE":             filepath.Join(tmp, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "no-aws-credentials"),
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	return tmp
}
