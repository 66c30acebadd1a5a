package cli_test

import (
	"crypto"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

var keyIDPattern = regexp.MustCompile(`^K[A-Z2-7]{13}$`)

// keygen runs `gatehouse keygen` into a fresh directory and returns it and the key ID.
func keygen(t *testing.T, kind string) (dir, id string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "keys")
	r := run(t, "keygen", "--type", kind, "--out", dir)
	if r.code != 0 {
		t.Fatalf("keygen: exit %d, stderr %q", r.code, r.stderr)
	}
	id = strings.TrimSuffix(r.stdout, "\n")
	if !keyIDPattern.MatchString(id) {
		t.Fatalf("stdout %q is not just a key ID", r.stdout)
	}
	if !strings.Contains(r.stderr, "key_groups") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr hint %q", r.stderr)
	}
	return dir, id
}

func verifier(t *testing.T, dir, id string) *cfsign.Verifier {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "public.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cfsign.ParsePublicKeyPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{id: pub}, cfsign.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func verifyURL(t *testing.T, v *cfsign.Verifier, signed string, client netip.Addr, now time.Time) (cfsign.Result, error) {
	t.Helper()
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfsign.QueryCredentials(u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	res := u.Scheme + "://" + u.Host + u.EscapedPath()
	if q := cfsign.StripQuery(u.RawQuery); q != "" {
		res += "?" + q
	}
	return v.Verify(cfsign.VerifyInput{Resource: res, Query: creds, Client: client, Now: now})
}

func TestKeygen(t *testing.T) {
	for _, kind := range []string{"rsa", "ecdsa"} {
		t.Run(kind, func(t *testing.T) {
			dir, id := keygen(t, kind)
			for name, mode := range map[string]os.FileMode{"private.pem": 0o600, "public.pem": 0o644} {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != mode {
					t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
				}
			}
			pub, _ := os.ReadFile(filepath.Join(dir, "public.pem"))
			before, _ := os.ReadFile(filepath.Join(dir, "private.pem"))
			r := run(t, "keygen", "--type", kind, "--out", dir)
			if r.code == 0 || !strings.Contains(r.stderr, "refusing to overwrite") || r.stdout != "" {
				t.Errorf("second keygen: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			after, _ := os.ReadFile(filepath.Join(dir, "private.pem"))
			if string(before) != string(after) {
				t.Error("private key overwritten")
			}
			k, err := cfsign.ParsePublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if derived, _ := cfsign.DeriveKeyID(k); derived != id {
				t.Errorf("printed ID %s, derived %s", id, derived)
			}
		})
	}
	if r := run(t, "keygen", "--type", "dsa", "--out", t.TempDir()); r.code == 0 || !strings.Contains(r.stderr, "unknown key type") {
		t.Errorf("keygen --type dsa: %+v", r)
	}
}

func TestSignURL(t *testing.T) {
	dir, id := keygen(t, "rsa")
	ecDir, ecID := keygen(t, "ecdsa")
	key := filepath.Join(dir, "private.pem")
	v := verifier(t, dir, id)
	client := netip.MustParseAddr("192.0.2.50")

	t.Run("canned", func(t *testing.T) {
		r := run(t, "sign", "url", "https://media.example.com/a.pdf?v=1", "--key", key, "--key-id", id, "--expires", "1h")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		signed := strings.TrimSuffix(r.stdout, "\n")
		if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(signed, "https://media.example.com/a.pdf?v=1&Expires=") {
			t.Fatalf("stdout %q", r.stdout)
		}
		res, err := verifyURL(t, v, signed, client, time.Now())
		if err != nil || !res.Canned {
			t.Errorf("verify: %+v %v", res, err)
		}
		if _, err := verifyURL(t, v, signed, client, time.Now().Add(61*time.Minute)); err == nil {
			t.Error("valid after its expiry")
		}
	})
	t.Run("custom sha256", func(t *testing.T) {
		exp := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		r := run(t, "sign", "url", "https://media.example.com/v/a.ts", "--key", key, "--key-id", id, "--expires", exp,
			"--not-before", "30s", "--ip", "192.0.2.0/24", "--resource", "https://media.example.com/v/*", "--hash", "sha256")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		signed := strings.TrimSpace(r.stdout)
		if !strings.Contains(signed, "?Policy=") || !strings.HasSuffix(signed, "&Hash-Algorithm=SHA256") {
			t.Fatalf("signed %s", signed)
		}
		later := time.Now().Add(time.Minute)
		res, err := verifyURL(t, v, signed, client, later)
		if err != nil || res.Canned || res.Hash != crypto.SHA256 || res.Policy.Resource != "https://media.example.com/v/*" {
			t.Errorf("verify: %+v %v", res, err)
		}
		if _, err := verifyURL(t, v, signed, client, time.Now().Add(-time.Minute)); err == nil {
			t.Error("valid before --not-before")
		}
		if _, err := verifyURL(t, v, signed, netip.MustParseAddr("198.51.100.1"), later); err == nil {
			t.Error("valid from outside --ip")
		}
	})
	t.Run("ecdsa epoch", func(t *testing.T) {
		exp := time.Now().Add(time.Hour).Unix()
		r := run(t, "sign", "url", "https://h/x", "--key", filepath.Join(ecDir, "private.pem"), "--key-id", ecID, "--expires", strconv.FormatInt(exp, 10))
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := verifyURL(t, verifier(t, ecDir, ecID), strings.TrimSpace(r.stdout), client, time.Now()); err != nil {
			t.Error(err)
		}
	})
	errs := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no expiry", []string{"sign", "url", "https://h/a", "--key", key, "--key-id", id}, `required flag(s) "expires" not set`},
		{"bad expiry", []string{"sign", "url", "https://h/a", "--key", key, "--key-id", id, "--expires", "tomorrow"}, `--expires "tomorrow": want a duration`},
		{"bad hash", []string{"sign", "url", "https://h/a", "--key", key, "--key-id", id, "--expires", "1h", "--hash", "md5"}, `--hash "md5"`},
		{"bad ip", []string{"sign", "url", "https://h/a", "--key", key, "--key-id", id, "--expires", "1h", "--ip", "300.1.1.1"}, "--ip:"},
		{"missing key", []string{"sign", "url", "https://h/a", "--key", filepath.Join(dir, "nope.pem"), "--key-id", id, "--expires", "1h"}, "--key: open"},
		{"public key as key", []string{"sign", "url", "https://h/a", "--key", filepath.Join(dir, "public.pem"), "--key-id", id, "--expires", "1h"}, "is not a private key"},
		{"fragment", []string{"sign", "url", "https://h/a#x", "--key", key, "--key-id", id, "--expires", "1h"}, "fragment"},
		{"resource not covering", []string{"sign", "url", "https://h/a", "--key", key, "--key-id", id, "--expires", "1h", "--resource", "https://h/b/*"}, "does not cover"},
		{"no url", []string{"sign", "url", "--key", key, "--key-id", id, "--expires", "1h"}, "accepts 1 arg"},
	}
	for _, tc := range errs {
		t.Run("error/"+tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code == 0 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			// A usage error is followed by one line of hint to --help.
			lines := 1 + strings.Count(r.stderr, "--help' for usage.\n")
			if !strings.Contains(r.stderr, tc.stderr) || strings.Count(r.stderr, "\n") != lines {
				t.Errorf("stderr %q, want one line containing %q", r.stderr, tc.stderr)
			}
		})
	}
}

func TestSignCookies(t *testing.T) {
	dir, id := keygen(t, "rsa")
	key := filepath.Join(dir, "private.pem")
	v := verifier(t, dir, id)
	args := []string{"sign", "cookies", "--resource", "https://media.example.com/gallery/*", "--key", key, "--key-id", id, "--expires", "1h"}

	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("stdout %q", r.stdout)
	}
	for i, name := range []string{"CloudFront-Policy=", "CloudFront-Signature=", "CloudFront-Key-Pair-Id=" + id} {
		if !strings.HasPrefix(lines[i], "Set-Cookie: "+name) || !strings.HasSuffix(lines[i], "; Path=/; HttpOnly; Secure") {
			t.Errorf("line %q", lines[i])
		}
	}

	r = run(t, append(args, "--json")...)
	if r.code != 0 {
		t.Fatalf("--json: exit %d, stderr %q", r.code, r.stderr)
	}
	var out struct {
		Resource string `json:"resource"`
		KeyID    string `json:"key_id"`
		Expires  string `json:"expires"`
		Cookies  []struct {
			Name     string `json:"name"`
			Value    string `json:"value"`
			Path     string `json:"path"`
			Secure   bool   `json:"secure"`
			HTTPOnly bool   `json:"http_only"`
		} `json:"cookies"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v in %s", err, r.stdout)
	}
	if out.Resource != "https://media.example.com/gallery/*" || out.KeyID != id || len(out.Cookies) != 3 {
		t.Fatalf("json %+v", out)
	}
	var cookies []*http.Cookie
	for _, c := range out.Cookies {
		if c.Path != "/" || !c.Secure || !c.HTTPOnly {
			t.Errorf("cookie %+v", c)
		}
		cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	creds := cfsign.CookieCredentials(cookies)
	for _, res := range []string{"https://media.example.com/gallery/a.jpg", "https://media.example.com/gallery/2026/b.jpg?w=1"} {
		if _, err := v.Verify(cfsign.VerifyInput{Resource: res, Cookies: creds}); err != nil {
			t.Errorf("%s: %v", res, err)
		}
	}
	if _, err := v.Verify(cfsign.VerifyInput{Resource: "https://media.example.com/private/a.jpg", Cookies: creds}); err == nil {
		t.Error("cookies accepted outside their resource")
	}

	r = run(t, "sign", "cookies", "--key", key, "--key-id", id, "--expires", "1h")
	if r.code == 0 || !strings.Contains(r.stderr, "--resource is required") {
		t.Errorf("no --resource: %+v", r)
	}
}
