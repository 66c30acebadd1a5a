package gateway_test

import (
	"context"
	"crypto"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// twoSignIns is issue 12's configuration: /www allows any corp.test address, /private
// only boss@corp.test, both signing with one key; /hello trusts that key for signed
// URLs and cookies made by an application.
const twoSignIns = `
key_groups:
  site:
    keys: [{id: KLOGIN0000001, file: "${DIR}/pub.pem"}]
origins:
  site:
    s3: {bucket: site, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /www/*
    origin: site
    index: index.html
    auth:
      methods:
        - name: staff
          login:
            issuer: "${ISSUER}"
            client_id: gatehouse
            client_secret: s3cret
            hosts: [intranet.test]
            email_domains: [corp.test]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
  - path: /private/*
    origin: site
    index: secret.txt
    auth:
      methods:
        - name: boss
          login:
            issuer: "${ISSUER}"
            client_id: gatehouse
            client_secret: s3cret
            hosts: [intranet.test]
            emails: [boss@corp.test]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
            login_path: /_gatehouse/boss/login
            callback_path: /_gatehouse/boss/callback
            logout_path: /_gatehouse/boss/logout
  - path: /hello/*
    origin: assets
    strip_prefix: /hello
    auth:
      methods:
        - signed: {key_groups: [site]}
`

// loginKeys writes a new cookie-signing key pair to a folder as priv.pem and pub.pem.
func loginKeys(t *testing.T) (string, crypto.Signer) {
	t.Helper()
	key, err := cfsign.GenerateKey("rsa")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv, _ := cfsign.MarshalPrivateKeyPEM(key)
	pub, _ := cfsign.MarshalPublicKeyPEM(key.Public())
	if os.WriteFile(filepath.Join(dir, "priv.pem"), priv, 0o600) != nil || os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o644) != nil {
		t.Fatal("writing the key pair")
	}
	return dir, key
}

// signInClient sends requests to the gateway as a browser on intranet.test would,
// without following redirects.
type signInClient struct {
	t    *testing.T
	g    *gw
	host string
}

func (c *signInClient) get(path string, cookies []*http.Cookie, headers ...string) (*http.Response, string) {
	c.t.Helper()
	return c.do("GET", path, cookies, headers...)
}

func (c *signInClient) do(method, path string, cookies []*http.Cookie, headers ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.g.URL+path, nil)
	req.Host = c.host
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	for _, ck := range cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn runs the whole flow through the gateway against idp as email and returns the
// cookies the callback set.
func (c *signInClient) signIn(idp *testenv.OIDCProvider, loginPath, rd, email string) []*http.Cookie {
	c.t.Helper()
	resp, _ := c.get(loginPath+"?rd="+url.QueryEscape(rd), nil)
	if resp.StatusCode != 302 {
		c.t.Fatalf("login: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if got := q.Get("redirect_uri"); !strings.HasPrefix(got, "http://intranet.test/_gatehouse/") {
		c.t.Errorf("redirect_uri %q", got)
	}
	code := idp.GrantCode(q.Get("code_challenge"), q.Get("nonce"), time.Now(), map[string]any{"email": email})
	cb, _ := url.Parse(q.Get("redirect_uri"))
	resp, _ = c.get(cb.Path+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), resp.Cookies())
	if resp.StatusCode != 302 || resp.Header.Get("Location") != rd {
		c.t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var out []*http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 {
			out = append(out, ck)
		}
	}
	return out
}

// TestRegression_LoginCookiesOpenStricterRoute: ana@corp.test signs in through /www and
// her cookies used to open /private (boss@corp.test only) and any signed route trusting
// the key. Through the real gateway, a real sign-in (in-process provider) and MinIO:
// her cookies open /www only; the boss's sign-in opens /private; the access log names
// the person; a request for another Host is refused before anything is signed.
func TestRegression_LoginCookiesOpenStricterRoute(t *testing.T) {
	needMinIO(t)
	idp := testenv.NewOIDCProvider(t)
	dir, _ := loginKeys(t)
	g := startGateway(t, twoSignIns, map[string]string{"DIR": dir, "ISSUER": idp.URL,
		"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})
	c := &signInClient{t: t, g: g, host: "intranet.test"}
	browser := "Accept: text/html"

	ana := c.signIn(idp, "/_gatehouse/login", "/www/index.html", "ana@corp.test")
	for _, ck := range ana {
		if strings.HasPrefix(ck.Name, "CloudFront-") && ck.Path != "/www/" {
			t.Errorf("cookie %s path %q, want /www/", ck.Name, ck.Path)
		}
	}
	if resp, body := c.get("/www/index.html", ana); resp.StatusCode != 200 || body != "<h1>home</h1>" {
		t.Fatalf("ana on /www: %d %q", resp.StatusCode, body)
	}
	if resp, body := c.get("/private/secret.txt", ana); resp.StatusCode != 403 || strings.Contains(body, "top secret") {
		t.Errorf("ana's cookies on /private: %d %q", resp.StatusCode, body)
	}
	if resp, _ := c.get("/private/secret.txt", ana, browser); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/_gatehouse/boss/login?rd=") {
		t.Errorf("ana's browser on /private: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.get("/hello/hello.txt", ana); resp.StatusCode != 403 {
		t.Errorf("ana's cookies on the signed route: %d", resp.StatusCode)
	}
	// ana at the boss's sign-in is denied, and gets no cookies.
	resp, _ := c.get("/_gatehouse/boss/login?rd=/private/secret.txt", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := idp.GrantCode(loc.Query().Get("code_challenge"), loc.Query().Get("nonce"), time.Now(), map[string]any{"email": "ana@corp.test"})
	resp, _ = c.get("/_gatehouse/boss/callback?"+url.Values{"code": {code}, "state": {loc.Query().Get("state")}}.Encode(), resp.Cookies())
	if resp.StatusCode != 403 {
		t.Errorf("ana at the boss's sign-in: %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, "CloudFront-") {
			t.Errorf("cookie %s issued on a denied sign-in", ck.Name)
		}
	}

	boss := c.signIn(idp, "/_gatehouse/boss/login", "/private/secret.txt", "boss@corp.test")
	if resp, body := c.get("/private/secret.txt", boss); resp.StatusCode != 200 || body != "top secret" {
		t.Errorf("boss on /private: %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(g.access.String(), `"user":"ana@corp.test"`) || !strings.Contains(g.access.String(), `"user":"boss@corp.test"`) {
		t.Errorf("access log does not name the people:\n%s", g.access.String())
	}

	// TestRegression_HeadLoginRedirectWithoutRd: HEAD is sent to sign in with the same
	// return URL as GET.
	for _, m := range []string{"GET", "HEAD"} {
		resp, _ := c.do(m, "/www/index.html?a=1", nil, browser)
		if resp.StatusCode != 302 || resp.Header.Get("Location") != "/_gatehouse/login?rd=%2Fwww%2Findex.html%3Fa%3D1" {
			t.Errorf("%s: %d to %q", m, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// TestRegression_SignInAgainLandsOn404: the built-in pages' buttons lead to the
	// sign-in's landing path (the first path it protects), never to "/", which no route
	// serves here.
	for _, p := range []string{"/_gatehouse/logout", "/_gatehouse/logout?rd=//evil.test/"} {
		if resp, body := c.get(p, nil); resp.StatusCode != 200 || !strings.Contains(body, `href="/_gatehouse/login?rd=%2Fwww%2F"`) {
			t.Errorf("%s: %d\n%s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := c.get("/", nil, browser); resp.StatusCode != 404 {
		t.Errorf("/ is served (%d): the landing test proves nothing", resp.StatusCode)
	}

	// Issue 12 item 2: another Host is refused before anything is signed.
	evil := &signInClient{t: t, g: g, host: "*"}
	if resp, _ := evil.get("/_gatehouse/login?rd=/www/", nil); resp.StatusCode != http.StatusMisdirectedRequest || len(resp.Cookies()) != 0 {
		t.Errorf("Host *: %d %v", resp.StatusCode, resp.Cookies())
	}
}

// TestRegression_ReloadForgetsSpentStates: the states of finished sign-ins are kept
// across a reload, so a callback replayed after a reload is refused like one replayed
// before it.
func TestRegression_ReloadForgetsSpentStates(t *testing.T) {
	needMinIO(t)
	idp := testenv.NewOIDCProvider(t)
	dir, _ := loginKeys(t)
	env := map[string]string{"DIR": dir, "ISSUER": idp.URL,
		"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}
	g := startGateway(t, twoSignIns, env)
	c := &signInClient{t: t, g: g, host: "intranet.test"}

	resp, _ := c.get("/_gatehouse/login?rd=/www/", nil)
	state := resp.Cookies()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	code := idp.GrantCode(q.Get("code_challenge"), q.Get("nonce"), time.Now(), map[string]any{"email": "ana@corp.test"})
	callback := "/_gatehouse/callback?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	if resp, _ := c.get(callback, state); resp.StatusCode != 302 {
		t.Fatalf("callback: %d", resp.StatusCode)
	}

	h := g.Config.Handler.(*gateway.Handler)
	cfg, err := config.Parse("test.yaml", []byte(twoSignIns), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	next, err := gateway.BuildFrom(context.Background(), cfg, slog.New(slog.DiscardHandler), h.State())
	if err != nil {
		t.Fatal(err)
	}
	h.Swap(next).Close()
	t.Cleanup(func() { next.Close() })
	resp, _ = c.get(callback, state)
	if resp.StatusCode != 400 {
		t.Errorf("callback replayed after a reload: %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, "CloudFront-") {
			t.Errorf("cookie %s issued on a replayed callback", ck.Name)
		}
	}
}
