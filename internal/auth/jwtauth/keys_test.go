package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// TestKeyRotation: key A signs; the issuer adds B; a B token triggers exactly one
// refetch; unknown kids are refetched at most once per min_refresh however many
// arrive; once A is removed, A tokens (even cached ones) fail.
func TestKeyRotation(t *testing.T) {
	testKeys(t)
	synctest.Test(t, func(t *testing.T) { testKeyRotation(t) })
}

func testKeyRotation(t *testing.T) {
	is := newMemIssuer(pub("A", rsaA, "RS256"))
	clk := newClock()
	a := newAuth(t, baseConfig(is), clk, func(o *Options) { o.Client = is.client() })
	ctx := context.Background()
	claims := idClaims(is, clk)
	tokA := mint(t, rsaA, "A", jose.RS256, claims)
	tokB := mint(t, rsaB, "B", jose.RS256, claims)
	hits := func(want int32) {
		t.Helper()
		if got := is.jwksHits.Load(); got != want {
			t.Fatalf("JWKS fetched %d times, want %d", got, want)
		}
	}
	if _, err := a.Authenticate(ctx, bearer(tokA)); err != nil {
		t.Fatal(err)
	}
	hits(1)

	is.set(func(is *issuer) { is.keys = append(is.keys, pub("B", rsaB, "RS256")) })
	// Concurrent B tokens while the refetch is slow all share that one fetch.
	block := make(chan struct{})
	is.set(func(is *issuer) { is.block = block })
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := a.Authenticate(ctx, bearer(tokB))
			errs <- err
		})
	}
	synctest.Wait() // the refetch is blocked and every caller waits for it
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times while blocked, want 2", n)
	}
	is.set(func(is *issuer) { is.block = nil })
	close(block)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("B token: %v", err)
		}
	}
	hits(2)

	// A burst of unknown kids within min_refresh: one refetch at most, all refused.
	clk.advance(time.Minute)
	unknown := make([]string, 50)
	for i := range unknown {
		unknown[i] = mint(t, rsaA, fmt.Sprintf("X%d", i), jose.RS256, claims)
	}
	for _, tok := range unknown {
		wg.Go(func() {
			_, err := a.Authenticate(ctx, bearer(tok))
			if reason(err) != "unknown signing key" || outcome(err) != "bad" {
				t.Errorf("unknown kid: %v", err)
			}
		})
	}
	wg.Wait()
	hits(3)
	clk.advance(59 * time.Second)
	_, _ = a.Authenticate(ctx, bearer(mint(t, rsaA, "Y", jose.RS256, claims)))
	hits(3)
	clk.advance(time.Second)
	_, _ = a.Authenticate(ctx, bearer(mint(t, rsaA, "Y", jose.RS256, claims)))
	hits(4)

	// A is rotated out: the periodic refresh (here Load) drops it and the cache with it.
	is.set(func(is *issuer) { is.keys = []jose.JSONWebKey{pub("B", rsaB, "RS256")} })
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	_, err := a.Authenticate(ctx, bearer(tokA))
	if reason(err) != "unknown signing key" {
		t.Fatalf("A token after removal: %v", err)
	}
	if _, err := a.Authenticate(ctx, bearer(tokB)); err != nil {
		t.Fatalf("B token after removal of A: %v", err)
	}
}

// TestDiscovery: without jwks_url the JWKS location comes from the issuer's OpenID
// discovery document, which must name the configured issuer.
func TestDiscovery(t *testing.T) {
	testKeys(t)
	tests := []struct {
		name     string
		discIss  string
		discJWKS string
		wantErr  string
	}{
		{"discovered", "", "", ""},
		{"document for another issuer", "https://evil.example.com/pool", "", "not"},
		{"issuer with trailing slash", "SELF/", "", "not"},
		{"jwks_uri over plain http", "", "http://keys.example.com/jwks.json", "must be https"},
		{"jwks_uri not a URL", "", "::", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := newIssuer(t, pub("A", rsaA, "RS256"))
			is.set(func(is *issuer) {
				is.discIss, is.discJWKS = strings.ReplaceAll(tt.discIss, "SELF", is.iss), tt.discJWKS
			})
			clk := newClock()
			a, err := New("jwt", baseConfig(is), Options{Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			err = a.Load(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := a.Authenticate(context.Background(), bearer(mint(t, rsaA, "A", jose.RS256, idClaims(is, clk)))); err != nil {
					t.Fatal(err)
				}
				if is.discoHits.Load() != 1 || is.jwksHits.Load() != 1 {
					t.Fatalf("discovery %d, jwks %d requests; want 1 and 1", is.discoHits.Load(), is.jwksHits.Load())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || a.Ready() == nil {
				t.Fatalf("Load = %v, Ready = %v; want a discovery error", err, a.Ready())
			}
			if is.jwksHits.Load() != 0 {
				t.Fatal("JWKS fetched from an unverified discovery document")
			}
		})
	}
}

// TestOutage: with no key set ever loaded every token is an outage (503) and Ready
// reports it; after a good load a failing endpoint changes nothing.
//
// It runs in a synctest bubble: the background retries' waits and the test's own sleeps
// are on the bubble's fake clock.
func TestOutage(t *testing.T) {
	testKeys(t)
	synctest.Test(t, func(t *testing.T) { testOutage(t) })
}

func testOutage(t *testing.T) {
	is := newMemIssuer(pub("A", rsaA, "RS256"))
	is.set(func(is *issuer) { is.down = true })
	clk := newClock()
	cfg := baseConfig(is)
	cfg.JWKSURL = is.jwksURL()
	a, err := New("jwt", cfg, Options{Now: clk.now, Client: is.client(), retryMin: 5 * time.Millisecond, retryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := a.Load(ctx); err == nil {
		t.Fatal("Load succeeded against a failing endpoint")
	}
	if err := a.Ready(); !errors.Is(err, ErrNoKeySet) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Ready = %v, want ErrNoKeySet with the cause", err)
	}
	r := bearer(mint(t, rsaA, "A", jose.RS256, idClaims(is, clk)))
	_, err = a.Authenticate(ctx, r)
	if outcome(err) != "outage" || !errors.Is(err, ErrNoKeySet) {
		t.Fatalf("Authenticate = %v, want an outage", err)
	}
	d := (&policy.Policy{Authenticators: []policy.Authenticator{a}}).Decide(ctx, r)
	if d.Allow || d.Status != http.StatusServiceUnavailable {
		t.Fatalf("decision %+v, want 503", d)
	}
	// Garbage is still refused as garbage, without waiting for keys.
	if _, err := a.Authenticate(ctx, bearer("x.y.z")); outcome(err) != "bad" {
		t.Fatalf("garbage during outage: %v", err)
	}

	// Start retries with backoff until the endpoint comes back.
	a.Start(ctx)
	time.Sleep(30 * time.Millisecond)
	is.set(func(is *issuer) { is.down = false })
	deadline := time.Now().Add(5 * time.Second)
	for a.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("never became ready: %v", a.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := is.jwksHits.Load(); n < 3 {
		t.Fatalf("JWKS fetched %d times; want retries", n)
	}
	if _, err := a.Authenticate(ctx, r); err != nil {
		t.Fatal(err)
	}

	// Down again after a good load: the last good set keeps verifying.
	is.set(func(is *issuer) { is.down = true })
	if err := a.Load(ctx); err == nil {
		t.Fatal("Load succeeded against a failing endpoint")
	}
	if err := a.Ready(); err != nil {
		t.Fatalf("Ready after a failed refresh = %v, want nil (last good set)", err)
	}
	clk.advance(10 * time.Minute) // past the verification cache
	r2 := bearer(mint(t, rsaA, "A", jose.RS256, idClaims(is, clk)))
	if _, err := a.Authenticate(ctx, r2); err != nil {
		t.Fatalf("with the last good set: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Load(ctx); !errors.Is(err, errClosed) {
		t.Fatalf("Load after Close = %v", err)
	}
}

// TestJWKSBounded: an oversized or junk JWKS is refused and the last good set kept.
func TestJWKSBounded(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	a := newAuth(t, baseConfig(is), clk, func(o *Options) { o.disableCache = true })
	for name, body := range map[string][]byte{
		"oversized":  []byte(`{"keys":[` + strings.Repeat(" ", maxDocBytes) + `]}`),
		"not JSON":   []byte("<html>"),
		"no keys":    []byte(`{"keys":[]}`),
		"only oct":   []byte(`{"keys":[{"kty":"oct","kid":"A","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`),
		"wrong type": []byte(`{"keys":{"kid":"A"}}`),
	} {
		t.Run(name, func(t *testing.T) {
			is.set(func(is *issuer) { is.rawJWKS = body })
			if err := a.Load(context.Background()); err == nil {
				t.Fatal("Load accepted it")
			}
			if _, err := a.Authenticate(context.Background(), bearer(mint(t, rsaA, "A", jose.RS256, idClaims(is, clk)))); err != nil {
				t.Fatalf("last good set lost: %v", err)
			}
		})
	}
}

// TestParseKeySet: which published keys are used, and which are ignored.
func TestParseKeySet(t *testing.T) {
	testKeys(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	enc := pub("enc", rsaB, "RS256")
	enc.Use = "enc"
	noUse := pub("nouse", rsaB, "")
	noUse.Use = ""
	tests := []struct {
		name string
		key  any // jose.JSONWebKey or raw JSON string
		algs []jose.SignatureAlgorithm
		want bool
	}{
		{"RSA with alg", pub("a", rsaA, "RS256"), []jose.SignatureAlgorithm{jose.RS256}, true},
		{"RSA without use or alg", noUse, []jose.SignatureAlgorithm{jose.RS256}, true},
		{"use enc", enc, []jose.SignatureAlgorithm{jose.RS256}, false},
		{"no kid", pub("", rsaA, "RS256"), []jose.SignatureAlgorithm{jose.RS256}, false},
		{"alg not allowed", pub("a", rsaA, "RS512"), []jose.SignatureAlgorithm{jose.RS256}, false},
		{"alg conflicts with type", pub("a", rsaA, "ES256"), []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, false},
		{"type fits no allowed alg", pub("e", ecKey, ""), []jose.SignatureAlgorithm{jose.RS256}, false},
		{"P-384 for ES384", pub("e", p384, "ES384"), []jose.SignatureAlgorithm{jose.ES384}, true},
		{"P-384 with alg ES256", pub("e", p384, "ES256"), []jose.SignatureAlgorithm{jose.ES256}, false},
		{"Ed25519", jose.JSONWebKey{Key: edPub, KeyID: "ed", Use: "sig"}, []jose.SignatureAlgorithm{jose.EdDSA}, true},
		{"weak RSA", pub("w", weak, "RS256"), []jose.SignatureAlgorithm{jose.RS256}, false},
		{"private RSA", jose.JSONWebKey{Key: rsaA, KeyID: "p", Use: "sig"}, []jose.SignatureAlgorithm{jose.RS256}, false},
		{"private Ed25519", jose.JSONWebKey{Key: edPriv, KeyID: "p", Use: "sig"}, []jose.SignatureAlgorithm{jose.EdDSA}, false},
		{"symmetric", `{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`, []jose.SignatureAlgorithm{jose.RS256}, false},
		{"unknown kty", `{"kty":"XYZ","kid":"u"}`, []jose.SignatureAlgorithm{jose.RS256}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw []byte
			if s, ok := tt.key.(string); ok {
				raw = []byte(s)
			} else if raw, err = json.Marshal(tt.key); err != nil {
				t.Fatal(err)
			}
			// A good key alongside shows that one bad key does not spoil the set.
			good, _ := json.Marshal(pub("good", rsaA, ""))
			body := []byte(`{"keys":[` + string(raw) + `,` + string(good) + `]}`)
			ks, err := parseKeySet(body, append(tt.algs, jose.RS256), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if got := ks.count == 2; got != tt.want {
				t.Fatalf("key used = %v, want %v (%d keys)", got, tt.want, ks.count)
			}
		})
	}
}

// TestKeyFits: a key verifies only the algorithms its type (and its alg) allows; HMAC
// and none never fit.
func TestKeyFits(t *testing.T) {
	testKeys(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey := verKey{key: &rsaA.PublicKey}
	tests := []struct {
		name string
		k    verKey
		alg  jose.SignatureAlgorithm
		want bool
	}{
		{"RSA RS256", rsaKey, jose.RS256, true},
		{"RSA PS512", rsaKey, jose.PS512, true},
		{"RSA ES256", rsaKey, jose.ES256, false},
		{"RSA HS256", rsaKey, jose.HS256, false},
		{"RSA none", rsaKey, "none", false},
		{"RSA EdDSA", rsaKey, jose.EdDSA, false},
		{"RSA alg RS256, token PS256", verKey{key: &rsaA.PublicKey, alg: jose.RS256}, jose.PS256, false},
		{"P-256 ES256", verKey{key: &ecKey.PublicKey}, jose.ES256, true},
		{"P-256 ES384", verKey{key: &ecKey.PublicKey}, jose.ES384, false},
		{"P-384 ES384", verKey{key: &p384.PublicKey}, jose.ES384, true},
		{"EC RS256", verKey{key: &ecKey.PublicKey}, jose.RS256, false},
		{"Ed25519 EdDSA", verKey{key: edPub}, jose.EdDSA, true},
		{"Ed25519 ES256", verKey{key: edPub}, jose.ES256, false},
		{"bytes HS256", verKey{key: []byte("secret")}, jose.HS256, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.fits(tt.alg); got != tt.want {
				t.Fatalf("fits = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStartClose: Start fetches in the background, refreshes periodically, and Close
// stops it; New itself never fetched.
//
// It runs in a synctest bubble: the refresh interval and the test's sleeps are on the
// bubble's fake clock.
func TestStartClose(t *testing.T) {
	testKeys(t)
	synctest.Test(t, func(t *testing.T) { testStartClose(t) })
}

func testStartClose(t *testing.T) {
	is := newMemIssuer(pub("A", rsaA, "RS256"))
	a, err := New("jwt", baseConfig(is), Options{Client: is.client(), RefreshInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if a.Ready() == nil {
		t.Fatal("ready before any fetch")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.Start(ctx)
	a.Start(ctx) // ignored
	deadline := time.Now().Add(5 * time.Second)
	for is.jwksHits.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d fetches", is.jwksHits.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.Ready(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	n := is.jwksHits.Load()
	time.Sleep(60 * time.Millisecond)
	if m := is.jwksHits.Load(); m != n {
		t.Fatalf("fetched %d times after Close", m-n)
	}
	_ = a.Close() // idempotent
}

// TestRedirectToPlainHTTP: the default client will not follow a JWKS redirect to a
// non-loopback http URL, where the keys could be forged in transit.
func TestRedirectToPlainHTTP(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://192.0.2.1/jwks.json", http.StatusFound))
	defer srv.Close()
	a, err := New("jwt", &config.JWTAuth{Issuer: "https://issuer.example.com", JWKSURL: srv.URL, Audiences: []string{"x"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "must be https") {
		t.Fatalf("Load = %v, want the redirect refused", err)
	}
}
