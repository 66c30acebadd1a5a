package config_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestLoginValidation: reserved paths, missing access rules, unknown key IDs and bad
// error_pages entries are reported with their field paths.
func TestLoginValidation(t *testing.T) {
	const base = `
key_groups:
  site: {keys: [{id: K1, pem: x}]}
origins:
  o: {dir: {root: /tmp}}
pages: {primary_color: "red;}"}
routes:
  - path: /_gatehouse/*
    origin: o
    public: true
  - path: /www/*
    origin: o
    auth:
      methods:
        - login:
            issuer: http://idp.example.com
            client_id: c
            client_secret: s
            key_group: site
            key_id: K2
            private_key_file: k.pem
            login_path: /_gatehouse/callback
    error_pages:
      200: {builtin: denied}
      403: {builtin: welcome, page: x.html}
  - path: /api/*
    origin: o
    public: true
    error_pages:
      401: {login: true}
`
	_, err := config.Parse("t.yaml", []byte(base), func(string) (string, bool) { return "", false })
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"routes[0].path: paths under /_gatehouse/ are reserved",
		"routes[1].auth.methods[0].login.issuer: must use https",
		"routes[1].auth.methods[0].login: no access rule",
		`routes[1].auth.methods[0].login.key_id: key group "site" has no key "K2"`,
		"routes[1].auth.methods[0].login.callback_path: same as login_path",
		"routes[1].error_pages.200: only error statuses",
		"routes[1].error_pages.403: set exactly one of page, builtin and login",
		"routes[1].error_pages.403.builtin: must be one of login, denied, logged_out",
		"routes[2].error_pages.401.login: the route has no login authenticator",
		"pages.primary_color: want a hex colour",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
