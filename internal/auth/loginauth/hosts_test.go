package loginauth

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// serveHost is serve with another Host header.
func (h *harness) serveHost(host, target string, cookies ...*http.Cookie) *http.Response {
	h.t.Helper()
	r := httptest.NewRequest("GET", "https://site.test"+target, nil)
	r.Host = host
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	u, _ := url.Parse(target)
	h.a.ServeEndpoint(w, r, u.Path, "https")
	return w.Result()
}

// signIn runs a whole successful sign-in and returns the callback's response.
func (h *harness) signIn(claims map[string]any) *http.Response {
	h.t.Helper()
	sc, aq := h.start("/www/page.html")
	code := h.idp.GrantCode(aq.Get("code_challenge"), aq.Get("nonce"), h.now, claims)
	resp := h.serve("/_gatehouse/callback?"+url.Values{"code": {code}, "state": {aq.Get("state")}}.Encode(), sc)
	if resp.StatusCode != 302 {
		h.t.Fatalf("callback: %d", resp.StatusCode)
	}
	return resp
}

// policyResource decodes the issued CloudFront-Policy cookie's resource.
func policyResource(t *testing.T, resp *http.Response) string {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != cfsign.CookiePolicy {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(c.Value))
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Statement []struct{ Resource string }
		}
		if err := json.Unmarshal(raw, &p); err != nil || len(p.Statement) != 1 {
			t.Fatalf("policy %s: %v", raw, err)
		}
		return p.Statement[0].Resource
	}
	t.Fatal("no CloudFront-Policy cookie")
	return ""
}

// TestRegression_HostHeaderChoosesCookieScope: with "Host: *" the login and callback
// requests used to sign a policy for "http*://*/*" (every host trusting the key group)
// and to send the provider a redirect_uri built from the request. Now a Host that is
// not configured is refused before anything is signed or any provider is contacted,
// and what is signed names the configured host.
func TestRegression_HostHeaderChoosesCookieScope(t *testing.T) {
	h := newHarness(t, nil)
	for _, host := range []string{"*", "evil.test", "site.test.evil.test", "*.test", "site.test:8443"} {
		for _, path := range []string{"/_gatehouse/login?rd=/www/", "/_gatehouse/callback?code=x&state=y"} {
			resp := h.serveHost(host, path)
			if resp.StatusCode != http.StatusMisdirectedRequest || len(resp.Cookies()) != 0 && path[12] == 'l' {
				t.Errorf("Host %q %s: %d, cookies %v", host, path, resp.StatusCode, resp.Cookies())
			}
			if len(cfCookies(resp)) != 0 || resp.Header.Get("Location") != "" {
				t.Errorf("Host %q %s: signed or redirected", host, path)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Host %q: Cache-Control %q", host, resp.Header.Get("Cache-Control"))
			}
		}
	}
	// The configured host, in any case and with the default port, is served; the
	// policy and the redirect_uri name the configured host.
	resp := h.serveHost("SITE.test:443", "/_gatehouse/login?rd=/www/")
	if resp.StatusCode != 302 {
		t.Fatalf("configured host refused: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Query().Get("redirect_uri"); got != "https://site.test/_gatehouse/callback" {
		t.Errorf("redirect_uri %q", got)
	}
	if got := policyResource(t, h.signIn(nil)); got != "http*://site.test/*" {
		t.Errorf("resource %q, want http*://site.test/*", got)
	}
}

// TestRegression_LoginCookiesOpenOtherHosts: a sign-in accepts only the cookies it
// issues today: on a configured host, with the resource it signs for that host. Cookies
// a "Host: *" sign-in used to get (resource http*://*/*), cookies from before
// cookie_path was scoped (http*://HOST/*), canned-policy cookies and signed URLs made
// with the same key are refused, on every host.
func TestRegression_LoginCookiesOpenOtherHosts(t *testing.T) {
	h := newHarness(t, func(l *config.LoginAuth) { l.CookiePath = "/www/" })
	auth := func(host, target string, cookies []*http.Cookie) error {
		r := httptest.NewRequest("GET", "https://"+host+target, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		_, err := h.a.Authenticate(context.Background(), &policy.Request{HTTP: r, Scheme: "https"})
		return err
	}
	sign := func(resource string) []*http.Cookie {
		c, err := cfsign.SignCookies("KLOGIN0000001", h.a.key, cfsign.SignOptions{Resource: resource, Expires: h.now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := auth("site.test", "/www/a", sign("http*://site.test/www/*")); err != nil {
		t.Errorf("the sign-in's own cookies refused: %v", err)
	}
	for _, c := range []struct{ host, resource string }{
		{"other.test", "http*://site.test/www/*"},
		{"site.test", "http*://*/*"},
		{"other.test", "http*://*/*"},
		{"site.test", "http*://site.test/*"},
		{"site.test", "https://site.test/www/*"},
	} {
		err := auth(c.host, "/www/a", sign(c.resource))
		if err == nil || !errors.Is(err, policy.ErrForbidden) {
			t.Errorf("cookies for %s on %s: %v", c.resource, c.host, err)
		} else if c.host == "site.test" && !strings.Contains(err.Error(), "not the cookies this sign-in issues") {
			t.Errorf("cookies for %s refused for another reason: %v", c.resource, err) // the signature must verify
		}
	}
	exp := h.now.Add(time.Hour)
	sig, err := cfsign.Sign(cfsign.CannedPolicyJSON("https://site.test/www/a", exp), h.a.key, crypto.SHA1)
	if err != nil {
		t.Fatal(err)
	}
	canned := []*http.Cookie{{Name: cfsign.CookieExpires, Value: strconv.FormatInt(exp.Unix(), 10)},
		{Name: cfsign.CookieSignature, Value: sig}, {Name: cfsign.CookieKeyPairID, Value: "KLOGIN0000001"}}
	if err := auth("site.test", "/www/a", canned); err == nil || !strings.Contains(err.Error(), "not the cookies this sign-in issues") {
		t.Errorf("canned-policy cookies: %v", err)
	}
	u, err := cfsign.SignURL("https://site.test/www/a", "KLOGIN0000001", h.a.key, cfsign.SignOptions{Expires: h.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if err := auth("site.test", pu.RequestURI(), nil); err == nil || !strings.Contains(err.Error(), "not the cookies this sign-in issues") {
		t.Errorf("a signed URL: %v", err)
	}
}

// TestRegression_LogoutLeavesOldCookies: cookies issued before cookie_path was scoped
// were set on "/"; sign-out clears both.
func TestRegression_LogoutLeavesOldCookies(t *testing.T) {
	h := newHarness(t, func(l *config.LoginAuth) { l.CookiePath = "/www/" })
	paths := map[string]int{}
	for _, c := range h.serve("/_gatehouse/logout").Cookies() {
		if c.MaxAge < 0 {
			paths[c.Path]++
		}
	}
	if paths["/www/"] != 6 || paths["/"] != 6 {
		t.Errorf("cleared per path: %v, want 6 on /www/ and 6 on /", paths)
	}
}

// TestRegression_AccessLogNamesKeyNotPerson: a sign-in adds a sealed user cookie bound
// to the signature; Authenticate reports the user as Display (for the log) and ignores a
// user cookie moved onto other cookies, altered or missing. It never decides: without
// it the CloudFront cookies still open the route.
func TestRegression_AccessLogNamesKeyNotPerson(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.signIn(map[string]any{"email": "ana@example.com"})
	var all []*http.Cookie
	var uc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == userCookie {
			uc = c
			if !c.HttpOnly || !c.Secure || c.MaxAge != 86400 {
				t.Errorf("user cookie attributes %+v", c)
			}
		}
		if c.Value != "" && c.MaxAge >= 0 && c.Name != stateCookie {
			all = append(all, c)
		}
	}
	if uc == nil {
		t.Fatal("no user cookie")
	}
	auth := func(cookies []*http.Cookie) (*policy.Identity, error) {
		r := httptest.NewRequest("GET", "https://site.test/www/a", nil)
		for _, c := range cookies {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		return h.a.Authenticate(context.Background(), &policy.Request{HTTP: r, Scheme: "https"})
	}
	id, err := auth(all)
	if err != nil || id.Display != "ana@example.com" || !strings.HasPrefix(id.Subject, "key:") {
		t.Fatalf("identity %+v, %v", id, err)
	}
	// The user cookie moved onto another sign-in's cookies names nobody. (Two sign-ins
	// in the same second get the same policy, hence the same signature: the same
	// access, and a binding that cannot tell them apart.)
	h.now = h.now.Add(time.Second)
	other := h.signIn(map[string]any{"email": "bob@example.com"})
	var moved []*http.Cookie
	for _, c := range other.Cookies() {
		if strings.HasPrefix(c.Name, "CloudFront-") && c.Value != "" {
			moved = append(moved, c)
		}
	}
	moved = append(moved, uc)
	if id, err := auth(moved); err != nil || id.Display != "" {
		t.Errorf("moved user cookie: %+v, %v", id, err)
	}
	altered := *uc
	altered.Value = "A" + altered.Value[1:]
	if id, err := auth(append(cfCookies(resp), &altered)); err != nil || id.Display != "" {
		t.Errorf("altered user cookie: %+v, %v", id, err)
	}
	if id, err := auth(cfCookies(resp)); err != nil || id.Display != "" {
		t.Errorf("without the user cookie: %+v, %v", id, err)
	}
}

// TestEndpointResponsesAreNotStored: every endpoint response, the 405 included, is
// Cache-Control: no-store.
func TestEndpointResponsesAreNotStored(t *testing.T) {
	h := newHarness(t, nil)
	r := httptest.NewRequest("PUT", "https://site.test/_gatehouse/login", nil)
	w := httptest.NewRecorder()
	h.a.ServeEndpoint(w, r, "/_gatehouse/login", "https")
	if w.Code != 405 || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("405: %d %q", w.Code, w.Header().Get("Cache-Control"))
	}
	for _, p := range []string{"/_gatehouse/login?rd=/www/", "/_gatehouse/logout", "/_gatehouse/callback"} {
		if cc := h.serve(p).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", p, cc)
		}
	}
}
