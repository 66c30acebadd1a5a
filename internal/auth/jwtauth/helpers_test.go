package jwtauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// Test keys are generated once: RSA generation is slow under the race detector.
var (
	keysOnce           sync.Once
	rsaA, rsaB, rsaOld *rsa.PrivateKey
	ecKey              *ecdsa.PrivateKey
)

func testKeys(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		for _, k := range []**rsa.PrivateKey{&rsaA, &rsaB, &rsaOld} {
			if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

// pub is the JWKS entry for a private key, shaped as Cognito and Google publish them.
func pub(kid string, key crypto.Signer, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
}

// issuer is a fake identity provider: OpenID discovery at {issuer}/.well-known/
// openid-configuration and the JWKS at {issuer}/.well-known/jwks.json, as Cognito lays
// them out.
type issuer struct {
	srv       *httptest.Server // nil for a memory issuer
	mem       http.Handler     // a memory issuer's handler
	iss       string
	mu        sync.Mutex
	keys      []jose.JSONWebKey
	rawJWKS   []byte // served instead of keys when set
	down      bool
	discIss   string        // issuer named by the discovery document; default iss
	discJWKS  string        // jwks_uri named by the discovery document; default ours
	block     chan struct{} // when set, JWKS requests wait for it to close
	jwksHits  atomic.Int32
	discoHits atomic.Int32
}

func newIssuer(t testing.TB, keys ...jose.JSONWebKey) *issuer {
	is := &issuer{keys: keys}
	is.srv = httptest.NewServer(is.handler())
	is.iss = is.srv.URL + "/pool"
	t.Cleanup(is.srv.Close)
	return is
}

// newMemIssuer is an issuer served in memory, without a listener, for tests inside a
// testing/synctest bubble (where network I/O never counts as blocked): the
// authenticator must use is.client(). Its issuer URL is https://issuer.test/pool.
func newMemIssuer(keys ...jose.JSONWebKey) *issuer {
	is := &issuer{keys: keys, iss: "https://issuer.test/pool"}
	is.mem = is.handler()
	return is
}

// client is an HTTP client that reaches a memory issuer's handler directly.
func (is *issuer) client() *http.Client {
	return &http.Client{Transport: handlerTransport{is.mem}}
}

// handlerTransport answers requests by calling a handler in the same goroutine.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// handler serves the discovery document and the JWKS.
func (is *issuer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/pool/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.discoHits.Add(1)
		is.mu.Lock()
		down, discIss, jwksURI := is.down, is.discIss, is.discJWKS
		is.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if discIss == "" {
			discIss = is.iss
		}
		if jwksURI == "" {
			jwksURI = is.jwksURL()
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": discIss, "jwks_uri": jwksURI})
	})
	mux.HandleFunc("/pool/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		is.mu.Lock()
		down, keys, raw, block := is.down, is.keys, is.rawJWKS, is.block
		is.mu.Unlock()
		if block != nil {
			<-block
		}
		if down {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if raw != nil {
			_, _ = w.Write(raw)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	})
	return mux
}

func (is *issuer) set(f func(is *issuer)) {
	is.mu.Lock()
	defer is.mu.Unlock()
	f(is)
}

func (is *issuer) jwksURL() string { return is.iss + "/.well-known/jwks.json" }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_750_000_000, 0)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	clientID = "7abc1clientid"
	testName = "students"
)

// baseConfig is a Cognito ID-token configuration for the issuer.
func baseConfig(is *issuer) *config.JWTAuth {
	return &config.JWTAuth{
		Issuer:     is.iss,
		Audiences:  []string{clientID},
		Algorithms: []string{"RS256"},
		Leeway:     30 * time.Second,
		MinRefresh: time.Minute,
		JWKSWait:   config.MaxJWTJWKSWait, // long: tests of shared fetches must not give up early
		QueryParam: "access_token",
		Cookie:     "id_token",
	}
}

// newAuth builds an authenticator on the test clock and loads its keys.
func newAuth(t testing.TB, cfg *config.JWTAuth, clk *clock, opts ...func(*Options)) *Authenticator {
	t.Helper()
	o := Options{Now: clk.now}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(testName, cfg, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if err := a.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return a
}

// idClaims are the claims of a Cognito ID token, valid at clk's time.
func idClaims(is *issuer, clk *clock) map[string]any {
	now := clk.now().Unix()
	return map[string]any{
		"sub":              "0b1c-user-1",
		"iss":              is.iss,
		"aud":              clientID,
		"token_use":        "id",
		"auth_time":        now - 60,
		"iat":              now - 60,
		"exp":              now + 3600,
		"cognito:groups":   []string{"students"},
		"cognito:username": "ada",
		"email":            "ada@example.edu",
		"email_verified":   true,
	}
}

// accessClaims are the claims of a Cognito access token: client_id, no aud.
func accessClaims(is *issuer, clk *clock) map[string]any {
	now := clk.now().Unix()
	return map[string]any{
		"sub":            "0b1c-user-1",
		"iss":            is.iss,
		"client_id":      clientID,
		"token_use":      "access",
		"scope":          "openid email files/read",
		"iat":            now - 60,
		"exp":            now + 3600,
		"cognito:groups": []string{"students"},
		"username":       "ada",
	}
}

// mint signs claims with key under kid and alg, as an issuer would.
func mint(tb testing.TB, key crypto.Signer, kid string, alg jose.SignatureAlgorithm, claims map[string]any) string {
	tb.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func with(m map[string]any, kv ...any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func bearer(tok string) *policy.Request {
	r := httptest.NewRequest(http.MethodGet, "https://files.example.com/a.pdf", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return &policy.Request{HTTP: r, Scheme: "https"}
}

// outcome classifies an Authenticate error the way policy does.
func outcome(err error) string {
	switch {
	case err == nil:
		return "allow"
	case errors.Is(err, policy.ErrNoCredentials):
		return "none"
	case errors.Is(err, policy.ErrBadCredentials):
		return "bad"
	case errors.Is(err, policy.ErrForbidden):
		return "forbidden"
	}
	return "outage"
}

// reason is the short public reason of a refusal.
func reason(err error) string {
	var f *policy.Failure
	if errors.As(err, &f) && f.Detail != "" {
		return f.Detail
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func b64(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}
