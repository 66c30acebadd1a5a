package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// OIDCProvider is an in-process OpenID provider for tests: discovery, JWKS and a token
// endpoint that checks the client (ClientID, ClientSecret), PKCE and spends each code
// once. Tests register codes with the claims to mint (GrantCode); the authorization
// endpoint itself is not served: a test reads the state, nonce and code challenge from
// the authorize URL gatehouse redirects to.
type OIDCProvider struct {
	*httptest.Server
	signer jose.Signer
	pub    jose.JSONWebKey
	mu     sync.Mutex
	codes  map[string]*grant
}

type grant struct {
	challenge string
	claims    map[string]any
}

// The client an OIDCProvider accepts.
const (
	OIDCClientID     = "gatehouse"
	OIDCClientSecret = "s3cret"
)

// NewOIDCProvider starts a provider on loopback, stopped when the test ends.
func NewOIDCProvider(t testing.TB) *OIDCProvider {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: k, KeyID: "k1", Algorithm: "RS256", Use: "sig"}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	f := &OIDCProvider{signer: s, pub: jose.JSONWebKey{Key: &k.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}, codes: map[string]*grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
			"jwks_uri": f.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{f.pub}})
	})
	mux.HandleFunc("/token", f.token)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *OIDCProvider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	g := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code")) // single use
	f.mu.Unlock()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case id != OIDCClientID || secret != OIDCClientSecret:
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
		return
	case g == nil, base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	raw, err := jwt.Signed(f.signer).Claims(g.claims).Serialize()
	if err != nil {
		w.WriteHeader(500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

// GrantCode registers a code for the given PKCE challenge; claims are the ID token's,
// filled with defaults (sub user-1, ana@example.com, verified, the nonce, five minutes)
// for whatever the test leaves out; a nil value removes a claim.
func (f *OIDCProvider) GrantCode(challenge, nonce string, now time.Time, claims map[string]any) string {
	c := map[string]any{
		"iss": f.URL, "sub": "user-1", "aud": "gatehouse", "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": "ana@example.com", "email_verified": true,
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b := make([]byte, 24)
	rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)
	f.mu.Lock()
	f.codes[code] = &grant{challenge: challenge, claims: c}
	f.mu.Unlock()
	return code
}
