package gateway_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/auth/loginauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// The login authenticator is what the gateway serves login endpoints with.
var _ gateway.LoginEndpoint = (*loginauth.Authenticator)(nil)

// oneSignInTwoRoutes protects two routes with identical login blocks: one sign-in.
const oneSignInTwoRoutes = `
key_groups:
  site:
    keys: [{id: KLOGIN0000001, file: "${DIR}/pub.pem"}]
origins:
  site:
    dir: {root: "${DIR}"}
routes:
  - path: /www/*
    origin: site
    index: index.html
    auth:
      methods:
        - name: staff
          login:
            issuer: https://idp.example.com
            client_id: gatehouse
            client_secret: secret
            hosts: [intranet.test]
            email_domains: [example.com]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
  - path: /docs/*
    origin: site
    index: index.html
    auth:
      methods:
        - name: staff
          login:
            issuer: https://idp.example.com
            client_id: gatehouse
            client_secret: secret
            hosts: [intranet.test]
            email_domains: [example.com]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
`

func parseSignIn(t *testing.T) *config.Config {
	t.Helper()
	dir, _ := loginKeys(t)
	cfg, err := config.Parse("test.yaml", []byte(oneSignInTwoRoutes), func(k string) (string, bool) { return dir, k == "DIR" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestLoginsSharedByLoginPath: routes whose login blocks are identical (so name one
// login path) share one authenticator, its endpoints and its login redirect.
func TestLoginsSharedByLoginPath(t *testing.T) {
	st, err := gateway.Build(context.Background(), parseSignIn(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	www, _ := st.Match("/www/a")
	docs, _ := st.Match("/docs/a")
	ep, ok := st.Endpoint("/_gatehouse/login")
	if !ok || www.Login == nil || www.Login != docs.Login || www.Login != ep {
		t.Fatalf("logins not shared: %v %v %v", www.Login, docs.Login, ep)
	}
	if www.Policy.Authenticators[0] != docs.Policy.Authenticators[0] {
		t.Error("authenticators not shared")
	}
	if got := docs.Login.LoginURL("/docs/a"); got != "/_gatehouse/login?rd=%2Fdocs%2Fa" {
		t.Errorf("LoginURL = %q", got)
	}
}

// TestBuildRefusesUnvalidatedLoginClash: logins are shared by login path because
// validation refuses two different blocks on one path; a configuration that skipped
// validation and gives the second block other endpoints is refused by the build instead
// of being served by the first block's authenticator.
func TestBuildRefusesUnvalidatedLoginClash(t *testing.T) {
	cfg := parseSignIn(t)
	m := cfg.Routes[1].Auth.Methods[0]
	l := *m.Login
	l.CallbackPath = "/_gatehouse/other"
	m.Login = &l
	_, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	want := "routes[1].auth.methods[0].login.login_path: /_gatehouse/login is already the login path of another login block, whose settings differ"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}
