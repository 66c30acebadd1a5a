package loginauth

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

type harness struct {
	t    *testing.T
	idp  *testenv.OIDCProvider
	a    *Authenticator
	now  time.Time
	logs *bytes.Buffer
}

func newHarness(t *testing.T, mod func(*config.LoginAuth)) *harness {
	t.Helper()
	idp := testenv.NewOIDCProvider(t)
	key, err := cfsign.GenerateKey("rsa")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv, _ := cfsign.MarshalPrivateKeyPEM(key)
	pub, _ := cfsign.MarshalPublicKeyPEM(key.Public())
	os.WriteFile(filepath.Join(dir, "priv.pem"), priv, 0o600)
	yes := true
	cfg := &config.LoginAuth{
		Issuer: idp.URL, ClientID: "gatehouse", ClientSecret: "s3cret", Scopes: []string{"openid", "email"},
		LoginPath: config.DefaultLoginPath, CallbackPath: config.DefaultCallbackPath, LogoutPath: config.DefaultLogoutPath,
		EmailDomains: []string{"example.com"}, GroupsClaim: "groups", EmailVerified: &yes, CookieSecure: &yes,
		KeyGroup: "site", KeyID: "KLOGIN0000001", PrivateKeyFile: filepath.Join(dir, "priv.pem"),
		CookieLifetime: 24 * time.Hour, CookiePath: "/", Hosts: []string{"site.test"}, LandingPath: "/www/",
	}
	if mod != nil {
		mod(cfg)
	}
	groups := map[string]*config.KeyGroup{"site": {Keys: []*config.PublicKey{{ID: "KLOGIN0000001", PEM: string(pub)}}}}
	h := &harness{t: t, idp: idp, now: time.Now(), logs: &bytes.Buffer{}}
	a, err := New("staff", cfg, groups, Options{Now: func() time.Time { return h.now }, Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	return h
}

func (h *harness) serve(target string, cookies ...*http.Cookie) *http.Response {
	h.t.Helper()
	r := httptest.NewRequest("GET", "https://site.test"+target, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	u, _ := url.Parse(target)
	h.a.ServeEndpoint(w, r, u.Path, "https")
	return w.Result()
}

// start begins a sign-in: it returns the state cookie and the authorize URL's query.
func (h *harness) start(rd string) (*http.Cookie, url.Values) {
	h.t.Helper()
	resp := h.serve("/_gatehouse/login?rd=" + url.QueryEscape(rd))
	if resp.StatusCode != 302 {
		h.t.Fatalf("login: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), h.idp.URL+"/authorize") {
		h.t.Fatalf("login redirected to %s", loc)
	}
	q := loc.Query()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(p) == "" {
			h.t.Fatalf("authorize URL without %s: %s", p, loc)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != "https://site.test/_gatehouse/callback" {
		h.t.Fatalf("authorize URL: %s", loc)
	}
	for _, c := range resp.Cookies() {
		if c.Name == stateCookie {
			if !c.HttpOnly || !c.Secure || c.Path != "/_gatehouse/callback" || c.SameSite != http.SameSiteLaxMode {
				h.t.Errorf("state cookie attributes: %+v", c)
			}
			return c, q
		}
	}
	h.t.Fatal("no state cookie")
	return nil, nil
}

func cfCookies(resp *http.Response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "CloudFront-") && c.MaxAge >= 0 && c.Value != "" {
			out = append(out, c)
		}
	}
	return out
}

func body(resp *http.Response) string {
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

// TestCallback covers every branch of the callback: each case starts a real sign-in,
// lets the fake provider mint a token with the case's claims, and checks the status,
// that no cookies are issued on failure, and that the page names no internals.
func TestCallback(t *testing.T) {
	type tc struct {
		name   string
		mod    func(*config.LoginAuth)
		claims map[string]any
		// tamper changes the callback query or the state cookie.
		tamper func(h *harness, q url.Values, c *http.Cookie) (url.Values, *http.Cookie)
		// challenge overrides the PKCE challenge the code is registered with.
		challenge string
		status    int
		log       string
	}
	for _, c := range []tc{
		{name: "success", status: 302},
		{name: "bad state", status: 400, log: "state parameter does not match", tamper: func(h *harness, q url.Values, c *http.Cookie) (url.Values, *http.Cookie) {
			q.Set("state", "forged")
			return q, c
		}},
		{name: "no state cookie", status: 400, log: "without a state cookie", tamper: func(h *harness, q url.Values, c *http.Cookie) (url.Values, *http.Cookie) {
			return q, nil
		}},
		{name: "altered state cookie", status: 400, log: "bad state cookie", tamper: func(h *harness, q url.Values, c *http.Cookie) (url.Values, *http.Cookie) {
			c.Value = c.Value[:len(c.Value)-2] + "AA"
			return q, c
		}},
		{name: "expired state", status: 400, log: "bad state cookie", tamper: func(h *harness, q url.Values, c *http.Cookie) (url.Values, *http.Cookie) {
			h.now = h.now.Add(stateTTL + time.Second)
			return q, c
		}},
		{name: "provider error", status: 401, log: "provider returned an error", tamper: func(h *harness, q url.Values, c *http.Cookie) (url.Values, *http.Cookie) {
			q.Del("code")
			q.Set("error", "access_denied")
			return q, c
		}},
		{name: "nonce mismatch", status: 401, log: "nonce does not match", claims: map[string]any{"nonce": "other"}},
		{name: "wrong audience", status: 401, log: "ID token refused", claims: map[string]any{"aud": "another-app"}},
		{name: "wrong issuer", status: 401, log: "ID token refused", claims: map[string]any{"iss": "https://evil.test"}},
		{name: "expired ID token", status: 401, log: "ID token refused", claims: map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}},
		{name: "PKCE verifier mismatch", status: 502, log: "code exchange failed", challenge: "not-the-challenge"},
		{name: "unverified email", status: 403, log: "not verified", claims: map[string]any{"email_verified": false}},
		{name: "email_verified as string (Cognito)", status: 302, claims: map[string]any{"email_verified": "true"}},
		{name: "wrong domain", status: 403, log: "not an allowed address or domain", claims: map[string]any{"email": "eve@other.com"}},
		{name: "lookalike domain", status: 403, log: "not an allowed address or domain", claims: map[string]any{"email": "eve@evilexample.com"}},
		{name: "allowed address from another domain", status: 302, claims: map[string]any{"email": "guest@other.com"},
			mod: func(l *config.LoginAuth) { l.Emails = []string{"Guest@other.com"} }},
		{name: "hosted domain required", status: 403, log: "hosted domain", mod: func(l *config.LoginAuth) { l.HostedDomains = []string{"example.com"} }},
		{name: "hosted domain matches", status: 302, claims: map[string]any{"hd": "example.com"}, mod: func(l *config.LoginAuth) { l.HostedDomains = []string{"example.com"} }},
		{name: "group missing", status: 403, log: "groups", claims: map[string]any{"groups": []string{"sales"}}, mod: func(l *config.LoginAuth) { l.Groups = []string{"eng"} }},
		{name: "group present", status: 302, claims: map[string]any{"groups": []string{"sales", "eng"}}, mod: func(l *config.LoginAuth) { l.Groups = []string{"eng"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.mod)
			sc, aq := h.start("/www/page.html?x=1")
			ch := aq.Get("code_challenge")
			if c.challenge != "" {
				ch = c.challenge
			}
			code := h.idp.GrantCode(ch, aq.Get("nonce"), h.now, c.claims)
			q := url.Values{"code": {code}, "state": {aq.Get("state")}}
			if c.tamper != nil {
				q, sc = c.tamper(h, q, sc)
			}
			var cookies []*http.Cookie
			if sc != nil {
				cookies = append(cookies, sc)
			}
			resp := h.serve("/_gatehouse/callback?"+q.Encode(), cookies...)
			b := body(resp)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; log:\n%s", resp.StatusCode, c.status, h.logs)
			}
			if c.log != "" && !strings.Contains(h.logs.String(), c.log) {
				t.Errorf("log lacks %q:\n%s", c.log, h.logs)
			}
			if c.status != 302 {
				if n := len(cfCookies(resp)); n != 0 {
					t.Errorf("%d CloudFront cookies issued on failure", n)
				}
				for _, leak := range []string{"invalid_grant", "nonce", "audience", "expired", "goroutine", "access_denied", h.idp.URL} {
					if strings.Contains(b, leak) {
						t.Errorf("page shows internals (%q):\n%s", leak, b)
					}
				}
				if !strings.Contains(b, `<html lang="en">`) {
					t.Errorf("not a built-in page:\n%s", b)
				}
				return
			}
			if loc := resp.Header.Get("Location"); loc != "/www/page.html?x=1" {
				t.Errorf("redirect to %q", loc)
			}
			checkIssued(t, h, resp)
		})
	}
}

// checkIssued: the callback's cookies have the right attributes and the authenticator
// (which is the signed one) accepts them for this host, for 24 hours.
func checkIssued(t *testing.T, h *harness, resp *http.Response) {
	t.Helper()
	cookies := cfCookies(resp)
	if len(cookies) != 3 {
		t.Fatalf("want Policy, Signature, Key-Pair-Id cookies, got %d", len(cookies))
	}
	for _, c := range cookies {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 86400 {
			t.Errorf("cookie attributes: %+v", c)
		}
	}
	auth := func(target string, at time.Time) error {
		h.now = at
		r := httptest.NewRequest("GET", target, nil)
		for _, c := range cookies {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		_, err := h.a.Authenticate(context.Background(), &policy.Request{HTTP: r, Scheme: "https"})
		return err
	}
	issued := h.now
	if err := auth("https://site.test/www/other.html", issued); err != nil {
		t.Errorf("issued cookies refused: %v", err)
	}
	if err := auth("https://other.test/www/other.html", issued); err == nil {
		t.Error("cookies accepted on another host")
	}
	if err := auth("https://site.test/www/a", issued.Add(25*time.Hour)); err == nil {
		t.Error("cookies accepted after 25 hours")
	}
}

// TestReplay: a callback is accepted once. Replaying it with the same state cookie is
// refused (the state is spent), and a captured code used in a fresh flow is refused
// before it reaches the provider (the code is spent too; the provider's PKCE check would
// refuse it as well).
func TestReplay(t *testing.T) {
	h := newHarness(t, nil)
	sc, aq := h.start("/")
	code := h.idp.GrantCode(aq.Get("code_challenge"), aq.Get("nonce"), h.now, nil)
	target := "/_gatehouse/callback?" + url.Values{"code": {code}, "state": {aq.Get("state")}}.Encode()
	if resp := h.serve(target, sc); resp.StatusCode != 302 {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	resp := h.serve(target, sc)
	if resp.StatusCode != 400 || len(cfCookies(resp)) != 0 || !strings.Contains(h.logs.String(), "already used") {
		t.Fatalf("replayed callback: %d\n%s", resp.StatusCode, h.logs)
	}
	sc2, aq2 := h.start("/")
	resp = h.serve("/_gatehouse/callback?"+url.Values{"code": {code}, "state": {aq2.Get("state")}}.Encode(), sc2)
	if resp.StatusCode != 400 || len(cfCookies(resp)) != 0 || !strings.Contains(h.logs.String(), "code already used") {
		t.Fatalf("replayed code: %d\n%s", resp.StatusCode, h.logs)
	}
}

// TestLogout clears every CloudFront cookie with the issuing attributes and shows the
// signed-out page with a link to sign in again.
func TestLogout(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.serve("/_gatehouse/logout?rd=//evil.com")
	if resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	cleared := 0
	for _, c := range resp.Cookies() {
		if (strings.HasPrefix(c.Name, "CloudFront-") || c.Name == userCookie) && c.MaxAge < 0 && c.Path == "/" && c.Secure {
			cleared++
		}
	}
	if cleared != 6 {
		t.Errorf("cleared %d cookies, want 6 (5 CloudFront, 1 user)", cleared)
	}
	b := body(resp)
	if !strings.Contains(b, "signed out") || !strings.Contains(b, `href="/_gatehouse/login?rd=%2Fwww%2F"`) {
		t.Errorf("logout page:\n%s", b)
	}
}

// TestLoginUnsafeReturn: an unsafe rd is replaced by the landing path before the flow
// starts.
func TestLoginUnsafeReturn(t *testing.T) {
	h := newHarness(t, nil)
	sc, _ := h.start("https://evil.com/")
	f, err := h.a.sealer.open(sc.Value, h.now)
	if err != nil || f.Return != "/www/" {
		t.Fatalf("return %v %v", f, err)
	}
}

// TestProviderDown: discovery failing shows the failure page (502) and is retried on the
// next sign-in.
func TestProviderDown(t *testing.T) {
	h := newHarness(t, func(l *config.LoginAuth) { l.Issuer = "http://127.0.0.1:1" })
	resp := h.serve("/_gatehouse/login?rd=/")
	if resp.StatusCode != 502 || strings.Contains(body(resp), "127.0.0.1") {
		t.Fatalf("provider down: %d", resp.StatusCode)
	}
}
