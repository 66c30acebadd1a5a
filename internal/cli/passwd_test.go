package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/auth/basicauth"
	"github.com/gatehouse-dev/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// runStdin calls cli.Main with stdin as standard input (a pipe, not a terminal).
func runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, cli.IO{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr})
	return result{code, stdout.String(), stderr.String()}
}

// passwdLine checks that r printed exactly one USER:HASH line and returns the hash.
func passwdLine(t *testing.T, r result, user string) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	line, ok := strings.CutSuffix(r.stdout, "\n")
	if !ok || strings.Contains(line, "\n") {
		t.Fatalf("stdout is not one line: %q", r.stdout)
	}
	hash, ok := strings.CutPrefix(line, user+":")
	if !ok {
		t.Fatalf("stdout %q does not start with %s:", line, user)
	}
	return hash
}

// The bcrypt and argon2id checks below are slow under the race detector (seconds
// each), so these tests run in parallel and check as few hashes as they can; how stdin
// is read is tested without hashing in passwd_internal_test.go.

func TestPasswdDefaultBcrypt(t *testing.T) {
	// Not parallel: it swaps passwd's hash function. A cost-12 hash takes seconds under
	// the race detector, so the hash is made at cost 4 and the cost passwd asked for is
	// what is checked (TestPasswdCost hashes at the cost it asks for, for real).
	asked := cli.StubHashBcrypt(t)
	r := runStdin(t, "s3cret\n", "passwd", "alice")
	hash := passwdLine(t, r, "alice")
	if *asked != 12 {
		t.Fatalf("passwd asked for bcrypt cost %d; want 12", *asked)
	}
	if strings.Contains(r.stderr, "s3cret") {
		t.Fatalf("stderr shows the password: %s", r.stderr)
	}
	if ok, err := basicauth.Verify(hash, []byte("s3cret")); !ok || err != nil {
		t.Fatalf("the printed hash does not verify the password: %v, %v", ok, err)
	}
}

// TestPasswdCost checks a printed line end to end: as an htpasswd file, it lets the
// basic authenticator accept the password read from stdin, and no other.
func TestPasswdCost(t *testing.T) {
	t.Parallel()
	const password = "pässwört mit Leerzeichen"
	r := runStdin(t, password+"\r\nsecond line\n", "passwd", "zoë", "--cost", "10")
	hash := passwdLine(t, r, "zoë")
	if !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("hash %s: want bcrypt cost 10", hash)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := basicauth.New("basic", &config.BasicAuth{HtpasswdFile: file}, basicauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("zoë:"+password)))
	id, err := a.Authenticate(context.Background(), &policy.Request{HTTP: req})
	if err != nil || id.Subject != "zoë" {
		t.Fatalf("Authenticate: %+v, %v", id, err)
	}
	if ok, err := basicauth.Verify(hash, []byte(password+"\r")); ok || err != nil {
		t.Fatalf("the password with its CR verifies: %v, %v", ok, err)
	}
}

func TestPasswdArgon2id(t *testing.T) {
	t.Parallel()
	hash := passwdLine(t, runStdin(t, "s3cret", "passwd", "alice", "--argon2id"), "alice")
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %s: want argon2id with m=64MiB, t=3, p=2", hash)
	}
	if ok, err := basicauth.Verify(hash, []byte("s3cret")); !ok || err != nil {
		t.Fatalf("Verify: %v, %v", ok, err)
	}
}

func TestPasswdRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no user", "s3cret\n", []string{"passwd"}, "accepts 1 arg"},
		{"password as an argument", "s3cret\n", []string{"passwd", "alice", "s3cret"}, "accepts 1 arg"},
		{"empty stdin", "", []string{"passwd", "alice"}, "empty password"},
		{"empty line", "\nsecond\n", []string{"passwd", "alice"}, "empty password"},
		{"empty user", "s3cret\n", []string{"passwd", ""}, "empty user name"},
		{"colon in user", "s3cret\n", []string{"passwd", "al:ice"}, "must not contain ':'"},
		{"newline in user", "s3cret\n", []string{"passwd", "al\nice"}, "control characters"},
		{"escape in user", "s3cret\n", []string{"passwd", "al\x1bice"}, "control characters"},
		{"invalid UTF-8 user", "s3cret\n", []string{"passwd", "al\xffice"}, "UTF-8"},
		{"cost 9", "s3cret\n", []string{"passwd", "alice", "--cost", "9"}, "between 10 and 14"},
		{"cost 15", "s3cret\n", []string{"passwd", "alice", "--cost", "15"}, "between 10 and 14"},
		{"cost with argon2id", "s3cret\n", []string{"passwd", "alice", "--argon2id", "--cost", "12"}, "--cost applies to bcrypt"},
		{"tab in password", "s3c\tret\n", []string{"passwd", "alice"}, "control character"},
		{"NUL in password", "s3c\x00ret\n", []string{"passwd", "alice"}, "control character"},
		{"lone CR", "s3c\rret\n", []string{"passwd", "alice"}, "control character"},
		{"over 72 bytes for bcrypt", strings.Repeat("p", 73) + "\n", []string{"passwd", "alice"}, "72 bytes"},
		{"over 1024 bytes", strings.Repeat("p", 1025) + "\n", []string{"passwd", "alice", "--argon2id"}, "longer than 1024"},
		{"very long line", strings.Repeat("p", 100000), []string{"passwd", "alice", "--argon2id"}, "longer than 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runStdin(t, tt.stdin, tt.args...)
			if r.code == 0 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("stderr %q does not contain %q", r.stderr, tt.want)
			}
			if pw := strings.TrimSpace(tt.stdin); len(pw) >= 6 && strings.Contains(r.stderr, pw) {
				t.Fatalf("stderr shows the password: %q", r.stderr)
			}
		})
	}
}
