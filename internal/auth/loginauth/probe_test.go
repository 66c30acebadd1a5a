package loginauth

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// TestProbe runs the login probe against the OpenID provider of internal/testenv: it
// passes for the right issuer and says why for a wrong one, one that is not there, and
// a URL that is no provider. A wrong issuer also fails the sign-in itself (502), which
// is what the probe is there to tell before a visitor finds out.
func TestProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name   string
		issuer func(idp string) string
		reason string // "": ok
		msg    []string
		signIn int // status of a sign-in; 0: not checked
	}{
		{"ok", func(idp string) string { return idp }, "", nil, http.StatusFound},
		{"wrong issuer (trailing slash)", func(idp string) string { return idp + "/" }, probe.IssuerMismatch,
			[]string{"says its issuer is", "not the configured", "set issuer to exactly"}, http.StatusBadGateway},
		{"unreachable", func(string) string { return closed }, probe.ConnectionRefused,
			[]string{"nothing is listening at " + closed + "/.well-known/openid-configuration"}, http.StatusBadGateway},
		{"not a provider", func(idp string) string { return idp + "/elsewhere" }, probe.HTTPStatus,
			[]string{"OpenID discovery at", "/elsewhere/.well-known/openid-configuration", "404"}, http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var issuer string
			h := newHarness(t, func(c *config.LoginAuth) {
				issuer = tc.issuer(c.Issuer)
				c.Issuer = issuer
			})
			err := h.a.Probe(context.Background())
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Probe: %v", err)
				}
			} else {
				pe, ok := probe.Of(err)
				if !ok || pe.Reason != tc.reason {
					t.Fatalf("Probe = %v, want reason %s", err, tc.reason)
				}
				for _, m := range tc.msg {
					if !strings.Contains(pe.Message, m) {
						t.Errorf("message %q lacks %q", pe.Message, m)
					}
				}
				if strings.Contains(pe.Message, "s3cret") {
					t.Errorf("message prints the client secret: %s", pe.Message)
				}
			}
			if got := h.serve("/_gatehouse/login?rd=/www/").StatusCode; got != tc.signIn {
				t.Errorf("sign-in with issuer %s: %d, want %d", issuer, got, tc.signIn)
			}
		})
	}
}

// TestProbeKeySet: a discovery document whose key set is empty fails the probe
// (bad_document): no ID token could be verified.
func TestProbeKeySet(t *testing.T) {
	h := newHarness(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"` + h.a.cfg.Issuer + `","jwks_uri":"` + h.a.cfg.Issuer + `/jwks","token_endpoint":"` + h.a.cfg.Issuer + `/token"}`))
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[]}`)) })
	h.idp.Config.Handler = mux
	pe, ok := probe.Of(h.a.Probe(context.Background()))
	if !ok || pe.Reason != probe.BadDocument || !strings.Contains(pe.Message, "has no keys") {
		t.Fatalf("Probe = %+v, want bad_document (no keys)", pe)
	}
}
