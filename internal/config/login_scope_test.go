package config_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// twoLogins is issue 12's configuration: two sign-ins with different rules signing with
// one key group. %s is extra settings for the /www sign-in; %t the boss route's extras.
const twoLogins = `
key_groups:
  site: {keys: [{id: K1, pem: x}]}
  other: {keys: [{id: K2, pem: y}]}
  again: {keys: [{id: K1, pem: x}]}
origins:
  o: {dir: {root: /tmp}}
routes:
  - path: /www/*
    origin: o
    index: index.html
    auth:
      methods:
        - login:
            issuer: https://idp.example.com
            client_id: c
            client_secret: s
            hosts: [intranet.example.com]
            email_domains: [corp.test]
            key_group: site
            key_id: K1
            private_key_file: k.pem
WWW
  - path: /boss/*
    origin: o
    index: index.html
    auth:
      methods:
        - login:
            issuer: https://idp.example.com
            client_id: c
            client_secret: s
            hosts: [intranet.example.com]
            emails: [boss@corp.test]
            key_group: site
            key_id: K1
            private_key_file: k.pem
            login_path: /_gatehouse/boss/login
            callback_path: /_gatehouse/boss/callback
            logout_path: /_gatehouse/boss/logout
BOSS
`

func parseLogins(t *testing.T, www, boss string) (*config.Config, error) {
	t.Helper()
	y := strings.Replace(strings.Replace(twoLogins, "WWW", www, 1), "BOSS", boss, 1)
	return config.Parse("t.yaml", []byte(y), func(string) (string, bool) { return "", false })
}

// TestRegression_LoginCookiesOpenStricterRoute: a sign-in's cookies used to be signed for
// the whole host, so cookies from the /www sign-in (any corp.test address) opened /boss
// (boss@corp.test only) when both signed with one key. Now each sign-in's cookies are
// scoped to the routes it protects by default, and check refuses any scope that would
// reach a route whose authenticators trust the same key without this sign-in's rules.
func TestRegression_LoginCookiesOpenStricterRoute(t *testing.T) {
	cfg, err := parseLogins(t, "", "")
	if err != nil {
		t.Fatalf("scoped defaults refused: %v", err)
	}
	www := cfg.Routes[0].Auth.Methods[0].Login
	boss := cfg.Routes[1].Auth.Methods[0].Login
	if www.CookiePath != "/www/" || boss.CookiePath != "/boss/" || www.LandingPath != "/www/" {
		t.Errorf("defaults: www cookie_path %q landing %q, boss cookie_path %q", www.CookiePath, www.LandingPath, boss.CookiePath)
	}

	for _, c := range []struct {
		name, www, boss, want string
	}{
		{"cookie_path covering the other route", "            cookie_path: /", "",
			`routes[0].auth.methods[0].login.key_id: cookies issued by this sign-in (key K1, resource path "/*") would also open routes[1] ("/boss/*"), where methods[0] (login) accepts them`},
		{"cookie_resource covering the other route", "            cookie_resource: https://intranet.example.com/*", "",
			`routes[0].auth.methods[0].login.key_id: cookies issued by this sign-in (key K1, resource path "/*") would also open routes[1]`},
		{"wildcard host in cookie_resource", "            cookie_resource: https://*", "",
			`would also open routes[1] ("/boss/*")`},
		{"both ways", "            cookie_path: /", "            cookie_path: /",
			`routes[1].auth.methods[0].login.key_id: cookies issued by this sign-in (key K1, resource path "/*") would also open routes[0] ("/www/*")`},
		{"a signed route trusting the key", "", `  - path: /media/*
    origin: o
    auth:
      methods:
        - signed: {key_groups: [site]}
  - path: /www/reports/*
    origin: o
    auth:
      methods:
        - signed: {key_groups: [site]}`,
			`routes[0].auth.methods[0].login.key_id: cookies issued by this sign-in (key K1, resource path "/www/*") would also open routes[3] ("/www/reports/*"), where methods[0] (signed) accepts them`},
		{"the same key ID in another group", "", `  - path: /www/x/*
    origin: o
    auth:
      methods:
        - signed: {key_groups: [again]}`, `would also open routes[2] ("/www/x/*"), where methods[0] (signed)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseLogins(t, c.www, c.boss)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
		})
	}

	// Allowed: a wide scope when the other sign-in has its own key; a signed route
	// outside the scope.
	y := strings.Replace(strings.Replace(twoLogins, "WWW", "            cookie_path: /", 1), "BOSS", "", 1)
	i := strings.LastIndex(y, "key_group: site")
	y = y[:i] + strings.Replace(y[i:], "key_group: site\n            key_id: K1", "key_group: other\n            key_id: K2", 1)
	if _, err := config.Parse("t.yaml", []byte(y), func(string) (string, bool) { return "", false }); err != nil {
		t.Errorf("separate keys refused: %v", err)
	}
	if _, err := parseLogins(t, "", `  - path: /media/*
    origin: o
    auth:
      methods:
        - signed: {key_groups: [site]}`); err != nil {
		t.Errorf("signed route outside the scope refused: %v", err)
	}
}

// TestLoginHostsValidation: the hosts a sign-in serves come from configuration.
func TestLoginHostsValidation(t *testing.T) {
	base := func(extra string) error {
		y := `
key_groups:
  site: {keys: [{id: K1, pem: x}]}
origins:
  o: {dir: {root: /tmp}}
routes:
  - path: /www/*
    origin: o
    index: index.html
    auth:
      methods:
        - login:
            issuer: https://idp.example.com
            client_id: c
            client_secret: s
            email_domains: [corp.test]
            key_group: site
            key_id: K1
            private_key_file: k.pem
` + extra
		_, err := config.Parse("t.yaml", []byte(y), func(string) (string, bool) { return "", false })
		return err
	}
	for _, c := range []struct{ extra, want string }{
		{"", "routes[0].auth.methods[0].login.hosts: required (or set redirect_url)"},
		{"            hosts: ['*']\n", `routes[0].auth.methods[0].login.hosts[0]: want a host name with an optional :port (no scheme, path or wildcard), got "*"`},
		{"            hosts: ['https://a.example.com']\n", `login.hosts[0]: want a host name`},
		{"            hosts: [a.example.com:99999]\n", `login.hosts[0]: want a host name`},
		{"            hosts: [a.example.com]\n            redirect_url: https://b.example.com/_gatehouse/callback\n", `login.redirect_url: its host "b.example.com" is not one of hosts`},
		{"            hosts: [a.example.com]\n            landing_path: /elsewhere/\n", `login.landing_path: no route serves "/elsewhere/"`},
		{"            hosts: [a.example.com]\n            landing_path: //evil.com\n", `login.landing_path: want a path on this site`},
		{"            hosts: [a.example.com]\n            landing_path: /docs/\n  - path: /docs/*\n    origin: o\n    public: true\n", `login.landing_path: routes[1] ("/docs/*") answers "/docs/" with 404: it has no index document`},
	} {
		err := base(c.extra)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v\nwant %s", c.extra, err, c.want)
		}
	}
	for _, ok := range []string{
		"            hosts: [a.example.com, 'b.example.com:8443', '[::1]:8080', 127.0.0.1]\n",
		"            redirect_url: https://a.example.com/_gatehouse/callback\n",
		"            hosts: [a.example.com:443]\n            redirect_url: https://A.example.com/_gatehouse/callback\n",
	} {
		if err := base(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

// TestRegression_EscapedCookieResourceOpensStricterRoute: the scope check compared the
// resource, which is matched against the path as sent (percent-escaped), with route
// patterns, which match the decoded path, as if both were one string; so a resource for
// "/%62oss/*" passed check and its cookies opened the route "/boss/*". Default cookie
// paths are escaped as browsers send them.
func TestRegression_EscapedCookieResourceOpensStricterRoute(t *testing.T) {
	_, err := parseLogins(t, "            cookie_resource: http*://intranet.example.com/%62oss/*", "")
	if want := `routes[0].auth.methods[0].login.key_id: cookies issued by this sign-in (key K1, resource path "/%62oss/*") would also open routes[1] ("/boss/*")`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
	y := strings.Replace(strings.Replace(twoLogins, "WWW", "", 1), "BOSS", "", 1)
	y = strings.Replace(y, "/www/*", "/team docs/*", 1)
	cfg, err := config.Parse("t.yaml", []byte(y), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Routes[0].Auth.Methods[0].Login; l.CookiePath != "/team%20docs/" || l.LandingPath != "/team%20docs/" {
		t.Errorf("cookie_path %q, landing_path %q: want /team%%20docs/", l.CookiePath, l.LandingPath)
	}
}

// TestLoginPathSharedByDifferentSignIns: two different login blocks on one login path
// are refused by check with the other errors, naming both.
func TestLoginPathSharedByDifferentSignIns(t *testing.T) {
	y := strings.Replace(strings.Replace(twoLogins, "WWW", "", 1), "BOSS", "", 1)
	y = strings.Replace(y, "            login_path: /_gatehouse/boss/login\n", "", 1)
	_, err := config.Parse("t.yaml", []byte(y), func(string) (string, bool) { return "", false })
	want := "routes[1].auth.methods[0].login.login_path: /_gatehouse/login is already the login path of routes[0].auth.methods[0].login, whose settings differ"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
