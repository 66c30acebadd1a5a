package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
	"github.com/gatehouse-dev/gatehouse/internal/revoke/revoketest"
)

const revokeToken = "a-long-enough-admin-token"

// revocationAPI serves handleRevocations with store (nil: none) and a configuration
// whose login authenticator issues 8h cookies.
func revocationAPI(t *testing.T, store revoke.Store, token string) *httptest.Server {
	t.Helper()
	cfg := &config.Config{Routes: []*config.Route{{Auth: &config.Auth{Methods: []*config.AuthMethod{
		{Login: &config.LoginAuth{CookieLifetime: 8 * time.Hour}}, {Login: &config.LoginAuth{CookieLifetime: time.Hour}},
	}}}}}
	mux := http.NewServeMux()
	var get func() revoke.Store
	if store != nil {
		get = func() revoke.Store { return store }
	}
	handleRevocations(mux, func() string { return token }, get, func() *config.Config { return cfg }, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, method, url, body, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRevocationAPI(t *testing.T) {
	set := revoke.NewSet(revoke.SetOptions{})
	set.Replace(nil, time.Now())
	store := revoketest.New(set)
	srv := revocationAPI(t, store, revokeToken)
	u := srv.URL + "/revocations"

	before := time.Now().Truncate(time.Second)
	code, body := call(t, "POST", u, `{"kind":"user","value":"ana@example.com","reason":"left the company"}`, revokeToken)
	if code != http.StatusCreated {
		t.Fatalf("POST user: %d %s", code, body)
	}
	var got revoke.Revocation
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.ID != got.ComputeID() || got.Before.Before(before) || got.Expires != got.Before.Add(8*time.Hour) || got.Created.IsZero() {
		t.Fatalf("stored %+v: want before = now, expires = before + the longest cookie_lifetime (8h)", got)
	}
	if err := set.CheckUser("ana@example.com", before.Add(-time.Minute)); !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("the store's push did not reach the Set: %v", err)
	}

	code, body = call(t, "POST", u, `{"kind":"key","value":"K1","before":"`+before.Format(time.RFC3339)+`","max_lifetime":"7d"}`, revokeToken)
	var key revoke.Revocation
	json.Unmarshal([]byte(body), &key)
	if code != http.StatusCreated || !key.Expires.Equal(before.Add(7*24*time.Hour)) {
		t.Fatalf("POST key: %d %s: want expires = before + max_lifetime", code, body)
	}

	for _, tc := range []struct{ body, want string }{
		{`{"kind":"jwt","value":"abc"}`, "expires:"},
		{`{"kind":"subject","value":"s"}`, "before:"},
		{`{"kind":"policy","value":"xyz"}`, "value:"},
		{`{"kind":"user","value":"a","extra":true}`, "unknown field"},
		{`{"kind":1,"value":"a"}`, "kind: want a string"},
		{`{"kind":"jwt","value":"abc","expires":"2001-01-01T00:00:00Z"}`, "expires: must be after created"},
		{`not json`, "want one JSON object"},
	} {
		if code, body := call(t, "POST", u, tc.body, revokeToken); code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d %q, want 400 with %q", tc.body, code, body, tc.want)
		}
	}
	if code, _ := call(t, "POST", u, `{"kind":"user","value":"`+strings.Repeat("a", 2<<20)+`"}`, revokeToken); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 1 MiB: %d", code)
	}

	code, body = call(t, "GET", u, "", revokeToken)
	var list RevocationList
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Revocations) != 2 {
		t.Fatalf("GET: %d %s", code, body)
	}

	if code, _ := call(t, "DELETE", u+"/"+got.ID, "", revokeToken); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	if err := set.CheckUser("ana@example.com", before.Add(-time.Minute)); err != nil {
		t.Fatalf("after lifting: %v", err)
	}
	if code, _ := call(t, "DELETE", u+"/"+got.ID, "", revokeToken); code != http.StatusNotFound {
		t.Fatalf("DELETE again: %d, want 404", code)
	}
	if code, _ := call(t, "DELETE", u+"/..%2Fx", "", revokeToken); code != http.StatusBadRequest {
		t.Fatalf("DELETE of a malformed ID: %d, want 400", code)
	}

	// Authorization, and a store that fails.
	if code, _ := call(t, "GET", u, "", "wrong-token"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	store.Err = errors.New("redis: connection refused")
	if code, body := call(t, "GET", u, "", revokeToken); code != http.StatusServiceUnavailable || strings.Contains(body, "redis") {
		t.Fatalf("store down: %d %q, want 503 naming no internals", code, body)
	}
}

func TestRevocationAPIOff(t *testing.T) {
	srv := revocationAPI(t, nil, revokeToken)
	for _, m := range []string{"GET", "POST"} {
		if code, body := call(t, m, srv.URL+"/revocations", `{}`, revokeToken); code != http.StatusNotFound || !strings.Contains(body, "revocation needs a redis section") {
			t.Errorf("%s without a store: %d %q", m, code, body)
		}
	}
	noToken := revocationAPI(t, revoketest.New(), "")
	if code, _ := call(t, "GET", noToken.URL+"/revocations", "", "x"); code != http.StatusNotFound {
		t.Errorf("without admin.token: %d, want 404", code)
	}
}
