package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
	"github.com/gatehouse-dev/gatehouse/internal/revoke/revoketest"
)

// adminFake answers the revocation API as the admin listener does, storing in memory,
// and remembers what each POST asked for.
type adminFake struct {
	mu    sync.Mutex
	store *revoketest.Store
	sent  []revoke.Revocation
}

func newAdminFake(t *testing.T, token string) (*adminFake, string) {
	f := &adminFake{store: revoketest.New()}
	mux := http.NewServeMux()
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux.HandleFunc("POST /revocations", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		b, _ := io.ReadAll(r.Body)
		rv, err := revoke.DecodeJSON(b)
		if err == nil {
			rv.Created = time.Now().UTC().Truncate(time.Second)
			if rv.Kind == revoke.KindUser && rv.Before.IsZero() {
				rv.Before = rv.Created
			}
			err = revoke.Validate(rv, time.Now())
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.sent = append(f.sent, rv)
		f.mu.Unlock()
		stored, _ := f.store.Add(r.Context(), rv)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(stored)
	})
	mux.HandleFunc("GET /revocations", func(w http.ResponseWriter, r *http.Request) {
		if auth(w, r) {
			all, _ := f.store.List(r.Context())
			json.NewEncoder(w).Encode(map[string]any{"revocations": all})
		}
	})
	mux.HandleFunc("DELETE /revocations/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		if err := f.store.Lift(r.Context(), r.PathValue("id")); errors.Is(err, revoke.ErrNotFound) {
			http.Error(w, "no such revocation", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *adminFake) last(t *testing.T) revoke.Revocation {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) == 0 {
		t.Fatal("nothing was sent")
	}
	return f.sent[len(f.sent)-1]
}

func TestRevoke(t *testing.T) {
	const token = "a-long-enough-admin-token"
	t.Setenv("GH_TEST_ADMIN_TOKEN", token)
	fake, admin := newAdminFake(t, token)
	revokeCmd := func(args ...string) result {
		t.Helper()
		return run(t, append([]string{"revoke", "--admin", admin, "--token-env", "GH_TEST_ADMIN_TOKEN"}, args...)...)
	}
	key, err := cfsign.GenerateKey("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second).UTC()

	// A canned URL: the hash is the verifier's rebuilt policy (host lower-cased,
	// default port dropped, signing parameters stripped).
	canned, err := cfsign.SignURL("https://Media.Example.com:443/a%20b.pdf?v=1", "K1", key, cfsign.SignOptions{Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	r := revokeCmd("url", canned, "--reason", "posted on a forum")
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 32 {
		t.Fatalf("revoke url: %d %q %q", r.code, r.stdout, r.stderr)
	}
	want := sha256.Sum256(cfsign.CannedPolicyJSON("https://media.example.com/a%20b.pdf?v=1", exp))
	if got := fake.last(t); got.Kind != revoke.KindPolicy || got.Value != hex.EncodeToString(want[:]) || !got.Expires.Equal(exp) || got.Reason != "posted on a forum" {
		t.Fatalf("sent %+v", got)
	}

	// A custom policy, in a URL and as a cookie.
	custom, err := cfsign.SignURL("https://media.example.com/b.pdf", "K1", key, cfsign.SignOptions{Expires: exp, Resource: "https://media.example.com/*"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(custom)
	pol := u.Query().Get("Policy")
	raw, _ := cfsign.DecodeBase64(pol)
	sum := sha256.Sum256(raw)
	// With two CloudFront-Policy cookies (different paths), the first is the one the
	// verifier reads (TestRegression_CookieHeaderFirstPolicy: the CLI took the last).
	for _, args := range [][]string{{"url", custom}, {"cookie", pol}, {"cookie", "--header", "Cookie: a=b; CloudFront-Policy=" + pol + "; CloudFront-Key-Pair-Id=K1"},
		{"cookie", "--header", "Cookie: CloudFront-Policy=" + pol + "; CloudFront-Policy=eyJvdGhlciI6MX0_; CloudFront-Key-Pair-Id=K1"}} {
		if r := revokeCmd(args...); r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
		if got := fake.last(t); got.Value != hex.EncodeToString(sum[:]) || !got.Expires.Equal(exp) {
			t.Fatalf("%v sent %+v", args, got)
		}
	}

	// key, subject, user, policy.
	if r := revokeCmd("key", "K1", "--signed-before", "now", "--max-lifetime", "7d"); r.code != 0 {
		t.Fatalf("revoke key: %d %s", r.code, r.stderr)
	}
	if got := fake.last(t); got.Kind != revoke.KindKey || got.Before.IsZero() || got.MaxLifetime != revoke.Duration(7*24*time.Hour) {
		t.Fatalf("key sent %+v", got)
	}
	if r := revokeCmd("subject", "user-1", "--before", "2026-01-01T00:00:00Z", "--until", exp.Format(time.RFC3339)); r.code != 0 {
		t.Fatalf("revoke subject: %d %s", r.code, r.stderr)
	}
	if r := revokeCmd("user", "ana@example.com"); r.code != 0 || !strings.Contains(r.stderr, "revoked user ana@example.com") {
		t.Fatalf("revoke user: %d %s", r.code, r.stderr)
	}
	if got := fake.last(t); got.Kind != revoke.KindUser || got.Before.IsZero() {
		t.Fatalf("user sent %+v", got)
	}
	if r := revokeCmd("policy", strings.ToUpper(hex.EncodeToString(sum[:])), "--expires", exp.Format(time.RFC3339)); r.code != 0 {
		t.Fatalf("revoke policy: %d %s", r.code, r.stderr)
	}

	// A JWT, from standard input, decoded without verification.
	sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	tok, _ := jwt.Signed(sig).Claims(map[string]any{"jti": "t-9", "exp": exp.Unix(), "sub": "s"}).Serialize()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), []string{"revoke", "--admin", admin, "--token-env", "GH_TEST_ADMIN_TOKEN", "jwt", "-"},
		cli.IO{Stdin: strings.NewReader(tok + "\n"), Stdout: &stdout, Stderr: &stderr})
	if got := fake.last(t); code != 0 || got.Kind != revoke.KindJWT || got.Value != "t-9" || !got.Expires.Equal(exp) {
		t.Fatalf("revoke jwt -: %d %s, sent %+v", code, stderr.String(), got)
	}

	// list, --json, lift.
	r = revokeCmd("list")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ID") || !strings.Contains(r.stdout, "ana@example.com") {
		t.Fatalf("list: %d %q", r.code, r.stdout)
	}
	r = revokeCmd("list", "--json")
	var list struct{ Revocations []revoke.Revocation }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Revocations) != 6 {
		t.Fatalf("list --json: %v, %d records: %s", err, len(list.Revocations), r.stdout)
	}
	id := list.Revocations[0].ID
	if r := revokeCmd("lift", id); r.code != 0 {
		t.Fatalf("lift: %d %s", r.code, r.stderr)
	}
	if r := revokeCmd("lift", id); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "404") {
		t.Fatalf("lift again: %d %s", r.code, r.stderr)
	}

	// Usage errors (64) and refusals (1).
	for _, args := range [][]string{
		{"url", "https://example.com/a"},
		{"url", "not a url"},
		{"cookie"},
		{"cookie", "--header", "Cookie: CloudFront-Expires=1"},
		{"key", "K1", "--signed-before", "now"},
		{"subject", "s"},
		{"user", "u", "--before", "yesterday"},
		{"jwt", "not.a.jwt"},
		{"jwt", "--jti", "x"},
		{"lift"},
	} {
		if r := revokeCmd(args...); r.code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want 64 (%s)", args, r.code, r.stderr)
		}
	}
	if r := revokeCmd("policy", "abc"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "400") {
		t.Errorf("bad hash: %d %s, want the server's 400", r.code, r.stderr)
	}
	t.Setenv("GH_TEST_ADMIN_TOKEN", "")
	if r := revokeCmd("list"); r.code != cli.ExitUsage {
		t.Errorf("no token: %d", r.code)
	}
}
