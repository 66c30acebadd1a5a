package gateway_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// flakyIdP is a JWKS endpoint that can be made to hang (until released or the request
// is abandoned) and to publish more keys. It mints tokens through issuer.token.
type flakyIdP struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	hits atomic.Int32

	mu   sync.Mutex
	kids []string      // published key IDs, all for key
	hang chan struct{} // non-nil: requests wait for it to close
}

func newFlakyIdP(t *testing.T) *flakyIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyIdP{key: key, kids: []string{"k1"}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.mu.Lock()
		hang := p.hang
		p.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			}
		}
		p.mu.Lock()
		var set jose.JSONWebKeySet
		for _, kid := range p.kids {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		p.mu.Unlock()
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	t.Cleanup(p.release) // runs first: Close waits for hanging handlers
	return p
}

// hangNow makes JWKS requests hang until release.
func (p *flakyIdP) hangNow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hang == nil {
		p.hang = make(chan struct{})
	}
}

func (p *flakyIdP) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hang != nil {
		close(p.hang)
		p.hang = nil
	}
}

func (p *flakyIdP) publish(kid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kids = append(p.kids, kid)
}

// token mints a valid token signed under kid (published or not).
func (p *flakyIdP) token(t *testing.T, kid string) string {
	return (&issuer{Server: p.srv, key: p.key, kid: kid}).token(t, []string{"students"}, time.Hour)
}

// jwtRoutes is a configuration with a jwt route and an ip route (cidrs plus a published
// list) on MinIO, and extra appended to routes.
func jwtRoutes(idp *flakyIdP, list, extra string) string {
	return fmt.Sprintf(`
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /jwt/*
    origin: assets
    strip_prefix: /jwt
    auth:
      methods:
        - name: idp
          jwt: {issuer: %[1]q, jwks_url: %[1]q, audiences: [app-client], jwks_wait: 300ms}
  - path: /ip/*
    origin: assets
    strip_prefix: /ip
    auth:
      methods:
        - ip:
            cidrs: [127.0.0.1]
            urls: [{url: %[2]q, format: plain}]
%[3]s`, idp.srv.URL, list, extra)
}

func minioEnv() map[string]string {
	return map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey}
}

func parseConfig(t *testing.T, yml string) *config.Config {
	t.Helper()
	env := minioEnv()
	cfg, err := config.Parse("test.yaml", []byte(yml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// get sends GET path to srv with a bearer token (if any) and returns the status and how
// long the answer took.
func timedGet(t *testing.T, url, token string) (int, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, time.Since(start)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// TestRegression_JWKSHangStallsRequests, through the gateway and MinIO: with the key set
// loaded and the JWKS endpoint hanging, a token with an unknown kid used to wait 15 s for
// its 401, and with the endpoint hanging from the start valid tokens waited 14.4 s for
// their 503. Now the unknown kid gets its 401 after jwks_wait (300ms here), known keys are
// unaffected, and a key set that never loaded answers 503 at once. The bounds asserted
// are loose (the machine may be busy); the jwtauth test of the same name measures them
// exactly on a fake clock.
func TestRegression_JWKSHangStallsRequests(t *testing.T) {
	needMinIO(t)
	idp := newFlakyIdP(t)
	yml := fmt.Sprintf(`
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /jwt/*
    origin: assets
    strip_prefix: /jwt
    auth:
      methods:
        - jwt: {issuer: %[1]q, jwks_url: %[1]q, audiences: [app-client], jwks_wait: 300ms}
`, idp.srv.URL)

	t.Run("loaded, then hanging", func(t *testing.T) {
		g := startGateway(t, yml, minioEnv())
		idp.hangNow()
		defer idp.release()
		code, took := timedGet(t, g.URL+"/jwt/hello.txt", idp.token(t, "unknown"))
		if code != http.StatusUnauthorized || took > 5*time.Second {
			t.Fatalf("unknown kid while the JWKS hangs: %d after %v, want 401 after about 300ms", code, took)
		}
		if code, took := timedGet(t, g.URL+"/jwt/hello.txt", idp.token(t, "k1")); code != 200 || took > 5*time.Second {
			t.Fatalf("known kid: %d after %v", code, took)
		}
	})

	t.Run("hanging from the start", func(t *testing.T) {
		idp.hangNow()
		defer idp.release()
		st, err := gateway.Build(context.Background(), parseConfig(t, yml), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		st.Start(ctx) // the first fetch hangs
		srv := httptest.NewServer(gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.DiscardHandler)))
		defer func() { srv.Close(); cancel(); st.Close() }()
		tok := idp.token(t, "k1")
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if code, took := timedGet(t, srv.URL+"/jwt/hello.txt", tok); code != http.StatusServiceUnavailable || took > 2*time.Second {
					t.Errorf("valid token, key set never loaded: %d after %v, want 503 at once", code, took)
				}
			})
		}
		wg.Wait()
		if ready, res := st.Ready(); ready || res["auth:/jwt/*/jwt"].OK {
			t.Errorf("ready %v with the key set never loaded: %+v", ready, res)
		}
	})
}

// TestRegression_ReloadBlockedByProviderOutage: a reload used to build and load every
// authenticator again and was refused (after 10 s) when any provider was down, even a
// reload that only added a route. Now BuildFrom takes over unchanged jwt and ip
// authenticators with what they loaded: with the JWKS hanging and the address list
// failing, the reload loads nothing, serves the new route and the old tokens and
// addresses, and the taken-over authenticator keeps refreshing after the old State is
// closed. An authenticator whose settings changed is built and loaded anew.
func TestRegression_ReloadBlockedByProviderOutage(t *testing.T) {
	needMinIO(t)
	idp := newFlakyIdP(t)
	var listDown atomic.Bool
	var listHits atomic.Int32
	list := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listHits.Add(1)
		if listDown.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "192.0.2.0/24")
	}))
	defer list.Close()
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	old, err := gateway.Build(ctx, parseConfig(t, jwtRoutes(idp, list.URL, "")), log)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.LoadAuthenticators(ctx); err != nil {
		t.Fatal(err)
	}
	// Not started, so that every fetch below is the reload's doing (Start would fetch
	// again at once); next.Start starts what it took over.
	h := gateway.NewHandler(old, log, log)
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The providers go down; the reload adds a public route and changes nothing else.
	idp.hangNow()
	listDown.Store(true)
	jwksBefore, listBefore := idp.hits.Load(), listHits.Load()
	extra := "  - {path: /new/*, origin: assets, strip_prefix: /new, public: true}\n"
	next, err := gateway.BuildFrom(ctx, parseConfig(t, jwtRoutes(idp, list.URL, extra)), log, old)
	if err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
	start := time.Now()
	err = next.LoadAuthenticators(lctx)
	lcancel()
	if err != nil || time.Since(start) > time.Second {
		t.Fatalf("loading the reload's authenticators: %v after %v; want nothing to load", err, time.Since(start))
	}
	if idp.hits.Load() != jwksBefore || listHits.Load() != listBefore {
		t.Fatalf("the reload fetched again: JWKS %d→%d, list %d→%d", jwksBefore, idp.hits.Load(), listBefore, listHits.Load())
	}
	if _, res := next.Ready(); !res["auth:/jwt/*/idp"].OK || !res["auth:/ip/*/ip"].OK {
		t.Fatalf("taken-over authenticators not ready: %+v", res)
	}
	next.Start(ctx)
	h.Swap(next)
	old.Close() // as the server does after the grace period

	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/new/hello.txt", "", 200},
		{"/jwt/hello.txt", idp.token(t, "k1"), 200},
		{"/jwt/hello.txt", "", 401},
		{"/ip/hello.txt", "", 200}, // 127.0.0.1 is in cidrs
	} {
		if code, _ := timedGet(t, srv.URL+tc.path, tc.token); code != tc.want {
			t.Errorf("after the reload, GET %s: %d, want %d", tc.path, code, tc.want)
		}
	}

	// The taken-over jwt authenticator was not stopped with the old State: once the IdP
	// answers again, an unknown kid triggers a refetch that finds it.
	idp.publish("k2")
	idp.release()
	if code, _ := timedGet(t, srv.URL+"/jwt/hello.txt", idp.token(t, "k2")); code != 200 {
		t.Errorf("new key after the old State closed: %d, want 200 (the refetch must still run)", code)
	}

	// Changed jwt settings are a new authenticator, loaded before the swap: with the IdP
	// hanging the load fails, and the server refuses such a reload.
	idp.hangNow()
	changed := strings.Replace(jwtRoutes(idp, list.URL, extra), "audiences: [app-client]", "audiences: [app-client, other]", 1)
	third, err := gateway.BuildFrom(ctx, parseConfig(t, changed), log, next)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	lctx, lcancel = context.WithTimeout(ctx, 300*time.Millisecond)
	defer lcancel()
	if err := third.LoadAuthenticators(lctx); err == nil || !strings.Contains(err.Error(), "idp") {
		t.Fatalf("changed jwt settings loaded without the IdP: %v", err)
	}
	if _, res := third.Ready(); res["auth:/jwt/*/idp"].OK || !res["auth:/ip/*/ip"].OK {
		t.Fatalf("readiness after a changed jwt: %+v", res)
	}
	next.Close()
}

// TestRegression_StaticCIDRsDeniedWhileSourceMissing, through the gateway and MinIO: with
// cidrs plus a security_groups source whose credentials EC2 refuses, an address listed
// in cidrs used to be denied as an outage (503). Now it is allowed (the union of the
// loaded sources); an address no loaded source holds gets 503 (the missing groups might
// hold it), never 200, and /readyz still reports the missing source.
func TestRegression_StaticCIDRsDeniedWhileSourceMissing(t *testing.T) {
	needMinIO(t)
	fake := testenv.NewEC2(t)
	fake.Handle("DescribeSecurityGroups", func(*testenv.EC2, *testenv.EC2Request) (any, error) {
		return nil, &testenv.EC2Error{Status: 401, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"}
	})
	sg := fmt.Sprintf(`{region: eu-west-1, endpoint: %q, vpc_id: vpc-1, access_key_id: AKIDBROKEN, secret_access_key: wrong}`, fake.URL)
	yml := fmt.Sprintf(`
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /office/*
    origin: assets
    strip_prefix: /office
    auth:
      methods:
        - name: office
          ip: {cidrs: [127.0.0.1], security_groups: [%[1]s]}
  - path: /elsewhere/*
    origin: assets
    strip_prefix: /elsewhere
    auth:
      methods:
        - name: elsewhere
          ip: {cidrs: [192.0.2.0/24], security_groups: [%[1]s]}
`, sg)
	g := startGateway(t, yml, minioEnv()) // the load fails: logged, not fatal
	resp, body := g.do(t, "GET", "/office/hello.txt")
	if resp.StatusCode != 200 || body != helloTxt {
		t.Fatalf("client in cidrs while the groups are missing: %d %q, want 200", resp.StatusCode, body)
	}
	resp, body = g.do(t, "GET", "/elsewhere/hello.txt")
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, helloTxt) {
		t.Fatalf("client in no loaded source while the groups are missing: %d %q, want 503", resp.StatusCode, body)
	}
	_, res := g.state.Ready()
	for _, name := range []string{"auth:/office/*/office", "auth:/elsewhere/*/elsewhere"} {
		if r := res[name]; r.OK || !strings.Contains(r.Error, "security_groups[0]") {
			t.Errorf("readiness of %s = %+v, want the missing security groups named", name, r)
		}
	}
	if !strings.Contains(g.access.String(), `"decision":"allow"`) {
		t.Errorf("access log lacks the allow:\n%s", g.access.String())
	}
}
