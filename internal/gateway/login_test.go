package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// TestLoginRoutes: a browser denied on a login route is sent to the login path with the
// URL it asked for; an API client gets the plain status; error_pages serve an origin
// object or a built-in page with their status and cache lifetime; the login endpoints
// are answered before routes.
func TestLoginRoutes(t *testing.T) {
	needMinIO(t)
	dir, key := loginKeys(t)
	g := startGateway(t, `
key_groups:
  site:
    keys: [{id: KLOGIN0000001, file: "${DIR}/pub.pem"}]
origins:
  site:
    s3: {bucket: site, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /www/*
    origin: site
    index: index.html
    auth:
      methods:
        - login:
            issuer: https://idp.example.com
            client_id: gatehouse
            client_secret: secret
            hosts: [intranet.test]
            email_domains: [example.com]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
    error_pages:
      404: {page: www/docs/index.html, status: 404, cache_seconds: 60}
  - path: /private/*
    origin: site
    auth:
      methods:
        - login:
            issuer: https://idp.example.com
            client_id: gatehouse
            client_secret: secret
            hosts: [intranet.test]
            email_domains: [example.com]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
    error_pages:
      403: {builtin: denied, status: 403}
`, map[string]string{"DIR": dir, "MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, headers ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", g.URL+path, nil)
		req.Host = "intranet.test"
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Set(k, strings.TrimSpace(v))
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	browser := "Accept: text/html,application/xhtml+xml,*/*;q=0.8"

	resp, _ := get("/www/index.html?a=1", browser)
	wantStatus(t, resp, 302)
	wantHeader(t, resp, "Location", "/_gatehouse/login?rd=%2Fwww%2Findex.html%3Fa%3D1")
	resp, body := get("/www/index.html", "Accept: application/json")
	wantStatus(t, resp, 403)
	if body != "403 Forbidden\n" {
		t.Errorf("API client body %q", body)
	}
	// Configured error page for 403: the built-in denied page, not a redirect.
	resp, body = get("/private/secret.txt", browser)
	wantStatus(t, resp, 403)
	if !strings.Contains(body, "Access denied") || !strings.Contains(body, `lang="en"`) {
		t.Errorf("built-in denied page:\n%s", body)
	}
	// A forged cookie set is refused like none (browser: to login again).
	resp, _ = get("/www/index.html", browser, "Cookie: CloudFront-Policy=x; CloudFront-Signature=y; CloudFront-Key-Pair-Id=KLOGIN0000001")
	wantStatus(t, resp, 302)

	// Valid cookies (as the callback issues them) open the route; a missing object gets
	// the origin's error page with its cache lifetime.
	cookies, err := cfsign.SignCookies("KLOGIN0000001", key, cfsign.SignOptions{Resource: "http*://intranet.test/*", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	jar := "Cookie: " + strings.Join(parts, "; ")
	resp, body = get("/www/index.html", browser, jar)
	wantStatus(t, resp, 200)
	if body != "<h1>home</h1>" {
		t.Errorf("protected page %q", body)
	}
	resp, body = get("/www/missing.html", browser, jar)
	wantStatus(t, resp, 404)
	wantHeader(t, resp, "Cache-Control", "private, max-age=60") // the route is not public
	if body != "<h1>docs</h1>" {
		t.Errorf("origin error page %q", body)
	}

	// Endpoints: logout answers before routes and clears cookies; login without a
	// reachable provider shows the failure page without internals.
	resp, body = get("/_gatehouse/logout")
	wantStatus(t, resp, 200)
	if !strings.Contains(body, "signed out") || len(resp.Cookies()) != 6 { // 5 CloudFront, 1 user
		t.Errorf("logout: %d cookies\n%s", len(resp.Cookies()), body)
	}
	resp, body = get("/_gatehouse/login?rd=//evil.com")
	wantStatus(t, resp, 502)
	if strings.Contains(body, "idp.example.com") || !strings.Contains(body, "Sign-in failed") {
		t.Errorf("login failure page:\n%s", body)
	}
	if log := g.access.String(); !strings.Contains(log, `"decision":"endpoint"`) {
		t.Errorf("access log:\n%s", log)
	}
}
