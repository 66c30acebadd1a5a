package loginauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// signedCookies are the cookies a sign-in set (CloudFront and user), as a browser
// sends them back.
func signedCookies(resp *http.Response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		if c.Value != "" && c.MaxAge >= 0 && c.Name != stateCookie {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

func (h *harness) authenticate(cookies []*http.Cookie) (*policy.Identity, error) {
	r := httptest.NewRequest("GET", "https://site.test/www/a", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return h.a.Authenticate(context.Background(), &policy.Request{HTTP: r, Scheme: "https"})
}

func outcomeOf(err error) policy.Outcome {
	var f *policy.Failure
	if errors.As(err, &f) {
		return f.Outcome
	}
	if err == nil {
		return policy.Identified
	}
	return policy.Outage
}

// TestRevokedUser: with revocation on, a user revocation refuses the user's cookies
// issued before it (401, so the browser signs in again), a fresh sign-in after it
// works, other users are untouched, the user cookie cannot be dropped to dodge the
// check, and a key revocation refuses the login's cookies.
func TestRevokedUser(t *testing.T) {
	h := newHarness(t, nil)
	set := revoke.NewSet(revoke.SetOptions{MaxStaleness: time.Minute, Now: func() time.Time { return h.now }})
	set.Replace(nil, h.now)
	h.a.revoked = set
	ana := signedCookies(h.signIn(map[string]any{"email": "ana@example.com"}))
	h.now = h.now.Add(time.Second) // another second: another policy, another signature
	bob := signedCookies(h.signIn(map[string]any{"email": "bob@example.com"}))
	if id, err := h.authenticate(ana); err != nil || id.User != "ana@example.com" {
		t.Fatalf("before revocation: %+v, %v", id, err)
	}

	// Without the user cookie: refused while revocation is on.
	var cf []*http.Cookie
	for _, c := range ana {
		if c.Name != userCookie {
			cf = append(cf, c)
		}
	}
	if _, err := h.authenticate(cf); outcomeOf(err) != policy.BadCredentials {
		t.Fatalf("without the user cookie: %v, want bad credentials", err)
	}

	h.now = h.now.Add(time.Minute)
	set.Synced(h.now)
	set.Apply(revoke.Revocation{Kind: revoke.KindUser, Value: "ana@example.com", Before: h.now, Expires: h.now.Add(24 * time.Hour)})
	if _, err := h.authenticate(ana); outcomeOf(err) != policy.BadCredentials || !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("revoked user: %v, want bad credentials wrapping revoke.ErrRevoked", err)
	}
	if id, err := h.authenticate(bob); err != nil || id.User != "bob@example.com" {
		t.Fatalf("other user: %+v, %v", id, err)
	}
	h.now = h.now.Add(time.Second)
	fresh := signedCookies(h.signIn(map[string]any{"email": "ana@example.com"}))
	if id, err := h.authenticate(fresh); err != nil || id.User != "ana@example.com" {
		t.Fatalf("fresh sign-in after the revocation: %+v, %v", id, err)
	}

	// A key revocation with a time: cookies issued before it (by their exact issue
	// time, whatever max_lifetime says), 401; after it, fine.
	// Issue times are whole seconds: a cookie issued in the second of Before counts as
	// issued before it.
	set.Replace([]revoke.Revocation{{Kind: revoke.KindKey, Value: "KLOGIN0000001", Before: h.now.Truncate(time.Second), MaxLifetime: revoke.Duration(time.Second)}}, h.now)
	if _, err := h.authenticate(bob); outcomeOf(err) != policy.BadCredentials || !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("key revoked before: %v", err)
	}
	if _, err := h.authenticate(fresh); !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("cookies issued in the key revocation's second: %v, want revoked", err)
	}
	h.now = h.now.Add(time.Second)
	later := signedCookies(h.signIn(map[string]any{"email": "ana@example.com"}))
	if _, err := h.authenticate(later); err != nil {
		t.Fatalf("cookies issued the second after the key revocation: %v", err)
	}
	fresh = later
	// The whole key: 403 (signing in again would not help).
	set.Apply(revoke.Revocation{Kind: revoke.KindKey, Value: "KLOGIN0000001"})
	if _, err := h.authenticate(fresh); outcomeOf(err) != policy.NotAllowed || !errors.Is(err, revoke.ErrRevoked) {
		t.Fatalf("key revoked: %v, want not allowed", err)
	}

	// Stale: an outage.
	h.now = h.now.Add(2 * time.Minute)
	if _, err := h.authenticate(bob); outcomeOf(err) != policy.Outage || !errors.Is(err, revoke.ErrStale) {
		t.Fatalf("stale: %v", err)
	}
}

// TestUserCookieOptionalWithoutRevocation: revocation off, the CloudFront cookies alone
// still open the site (as before).
func TestUserCookieOptionalWithoutRevocation(t *testing.T) {
	h := newHarness(t, nil)
	var cf []*http.Cookie
	for _, c := range signedCookies(h.signIn(map[string]any{"email": "ana@example.com"})) {
		if strings.HasPrefix(c.Name, "CloudFront-") {
			cf = append(cf, c)
		}
	}
	if id, err := h.authenticate(cf); err != nil || id.User != "" {
		t.Fatalf("%+v, %v", id, err)
	}
}
