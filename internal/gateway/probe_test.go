package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// loginProbeConfig is a folder origin behind a login authenticator whose issuer is ${ISS}.
const loginProbeConfig = `
key_groups:
  site:
    keys: [{id: KLOGIN0000001, file: "${DIR}/pub.pem"}]
origins:
  files:
    dir: {root: "${ROOT}"}
routes:
  - path: /www/*
    origin: files
    index: index.html
    auth:
      methods:
        - login:
            issuer: "${ISS}"
            client_id: gatehouse
            client_secret: s3cret
            hosts: [intranet.test]
            email_domains: [example.com]
            key_group: site
            key_id: KLOGIN0000001
            private_key_file: "${DIR}/priv.pem"
`

// TestReadinessReasons: readiness covers the login issuer (found, and the one
// configured: a wrong issuer used to pass and leave the first sign-in a 502) and says
// why an origin or an issuer fails, with a stable reason and a message, in the JSON
// /readyz serves; the old "error" field stays.
func TestReadinessReasons(t *testing.T) {
	idp := testenv.NewOIDCProvider(t)
	for _, tc := range []struct {
		name       string
		issuer     string
		dropFolder bool
		ready      bool
		reasons    map[string]string // entry name prefix -> reason ("" ok)
	}{
		{"all good", idp.URL, false, true, map[string]string{"files": "", "auth:": ""}},
		{"wrong issuer", idp.URL + "/", false, false, map[string]string{"files": "", "auth:": probe.IssuerMismatch}},
		{"folder gone", idp.URL, true, false, map[string]string{"files": probe.FolderMissing, "auth:": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := loginKeys(t)
			root := filepath.Join(t.TempDir(), "site")
			os.Mkdir(root, 0o755)
			g := startGateway(t, loginProbeConfig, map[string]string{"DIR": dir, "ROOT": root, "ISS": tc.issuer})
			if ready, _ := g.state.Ready(); ready {
				t.Fatal("ready before any probe")
			}
			if tc.dropFolder {
				os.Remove(root)
			}
			g.state.ProbeAll(context.Background(), slogDiscard)
			ready, res := g.state.Ready()
			if ready != tc.ready {
				t.Errorf("ready = %v, want %v: %+v", ready, tc.ready, res)
			}
			for prefix, reason := range tc.reasons {
				found := false
				for name, r := range res {
					if !strings.HasPrefix(name, prefix) {
						continue
					}
					found = true
					if r.Reason != reason || r.OK != (reason == "") {
						t.Errorf("%s: ok %v, reason %q (%s), want %q", name, r.OK, r.Reason, r.Message, reason)
					}
					if reason != "" && (r.Message == "" || r.Error == "") {
						t.Errorf("%s: message %q, error %q: want both", name, r.Message, r.Error)
					}
				}
				if !found {
					t.Errorf("no entry %s* in %+v", prefix, res)
				}
			}
			b, _ := json.Marshal(res)
			if !tc.ready && (!strings.Contains(string(b), `"reason":`) || !strings.Contains(string(b), `"message":`)) {
				t.Errorf("JSON lacks reason or message: %s", b)
			}
			if strings.Contains(string(b), "s3cret") {
				t.Errorf("JSON prints the client secret: %s", b)
			}
		})
	}
}
