package jwtauth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// hmacToken signs claims with HS256 using secret, under kid: the classic key-confusion
// attack when secret is the issuer's public key.
func hmacToken(t *testing.T, secret []byte, kid string, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: secret, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestHostileTokens: malformed headers and forged or confused tokens are refused as bad
// credentials (401, with an invalid_token challenge that leaks nothing of the token);
// none of them is ever allowed.
func TestHostileTokens(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"), pub("E", ecKey, "ES256"), pub("R", rsaB, ""))
	clk := newClock()
	cfg := baseConfig(is)
	cfg.Algorithms = []string{"RS256", "ES256"}
	a := newAuth(t, cfg, clk)
	claims := idClaims(is, clk)
	good := mint(t, rsaA, "A", jose.RS256, claims)
	p := strings.Split(good, ".")
	der, err := x509.MarshalPKIXPublicKey(&rsaA.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	embed, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaOld},
		(&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", "A"))
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := jwt.Signed(embed).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		header string // Authorization value; "" sends none
		want   string // outcome
		reason string
	}{
		{"no header", "", "none", ""},
		{"Bearer alone", "Bearer", "bad", "empty token"},
		{"Bearer and spaces", "Bearer  ", "bad", "empty token"},
		{"Basic", "Basic eDp5", "none", ""},
		{"lower-case scheme", "bearer " + good, "allow", ""},
		{"upper-case scheme, extra spaces", "BEARER   " + good + " ", "allow", ""},
		{"three dots", "Bearer " + p[0] + "." + p[1] + "." + p[2] + ".", "bad", "malformed token"},
		{"only dots", "Bearer ...", "bad", "malformed token"},
		{"two parts", "Bearer " + p[0] + "." + p[1], "bad", "malformed token"},
		{"non-base64 characters", "Bearer " + p[0] + "!." + p[1] + "." + p[2], "bad", "malformed token"},
		{"standard base64 alphabet", "Bearer a+b/.c.d", "bad", "malformed token"},
		{"bad base64 length", "Bearer a.b.c", "bad", "malformed token"},
		{"padding", "Bearer " + p[0] + "==." + p[1] + "." + p[2], "bad", "malformed token"},
		{"header not JSON", "Bearer " + b64("nope") + "." + p[1] + "." + p[2], "bad", "malformed token"},
		{"space inside", "Bearer " + p[0] + ". " + p[1] + "." + p[2], "bad", "malformed token"},
		{"oversized", "Bearer " + strings.Repeat("a", MaxTokenBytes) + ".b.c", "bad", "token too large"},
		{"alg none", "Bearer " + b64(`{"alg":"none","kid":"A"}`) + "." + p[1] + ".", "bad", "algorithm not allowed"},
		{"alg None", "Bearer " + b64(`{"alg":"None","kid":"A"}`) + "." + p[1] + "." + p[2], "bad", "algorithm not allowed"},
		{"alg missing", "Bearer " + b64(`{"kid":"A"}`) + "." + p[1] + "." + p[2], "bad", "algorithm not allowed"},
		{"HS256 keyed with the public key (DER)", "Bearer " + hmacToken(t, der, "A", claims), "bad", "algorithm not allowed"},
		{"HS256 keyed with the public key (PEM)", "Bearer " + hmacToken(t, pemBytes, "A", claims), "bad", "algorithm not allowed"},
		{"RS512 not configured", "Bearer " + mint(t, rsaA, "A", jose.RS512, claims), "bad", "algorithm not allowed"},
		{"unknown kid", "Bearer " + mint(t, rsaA, "nope", jose.RS256, claims), "bad", "unknown signing key"},
		{"no kid", "Bearer " + mint(t, rsaA, "", jose.RS256, claims), "bad", "token has no key ID"},
		{"RSA kid on an ES256 token", "Bearer " + mint(t, ecKey, "A", jose.ES256, claims), "bad", "signing key does not fit the algorithm"},
		{"EC kid on an RS256 token", "Bearer " + mint(t, rsaA, "E", jose.RS256, claims), "bad", "signing key does not fit the algorithm"},
		{"another key under kid A", "Bearer " + mint(t, rsaB, "A", jose.RS256, claims), "bad", "bad signature"},
		{"attacker key embedded in header", "Bearer " + embedded, "bad", "bad signature"},
		{"tampered payload", "Bearer " + p[0] + "." + b64(`{"sub":"admin","iss":"`+is.iss+`","aud":"`+clientID+`","exp":9999999999}`) + "." + p[2], "bad", "bad signature"},
		{"signature stripped", "Bearer " + p[0] + "." + p[1] + ".", "bad", "bad signature"},
		{"payload not an object", "Bearer " + mintRaw(t, `[1,2,3]`), "bad", "malformed claims"},
		{"RSA key without alg, RS256", "Bearer " + mint(t, rsaB, "R", jose.RS256, claims), "allow", ""},
		{"valid ES256", "Bearer " + mint(t, ecKey, "E", jose.ES256, claims), "allow", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bearer("")
			r.HTTP.Header.Del("Authorization")
			if tt.header != "" {
				r.HTTP.Header.Set("Authorization", tt.header)
			}
			id, err := a.Authenticate(context.Background(), r)
			if got := outcome(err); got != tt.want || (tt.reason != "" && reason(err) != tt.reason) {
				t.Fatalf("got %s %q (%v), want %s %q", got, reason(err), err, tt.want, tt.reason)
			}
			if tt.want != "allow" && id != nil {
				t.Fatalf("identity %+v returned with error", id)
			}
			d := (&policy.Policy{Authenticators: []policy.Authenticator{a}}).Decide(context.Background(), r)
			switch tt.want {
			case "allow":
				if !d.Allow {
					t.Fatalf("decision %+v, want allow", d)
				}
			case "none":
				if d.Allow || d.Status != http.StatusUnauthorized || len(d.Challenges) != 1 || d.Challenges[0] != `Bearer realm="gatehouse"` {
					t.Fatalf("decision %+v, want 401 with a plain Bearer challenge", d)
				}
			case "bad":
				want := `Bearer error="invalid_token", error_description="` + tt.reason + `"`
				if d.Allow || d.Status != http.StatusUnauthorized || len(d.Challenges) != 1 || d.Challenges[0] != want {
					t.Fatalf("decision %+v, want 401 with %s", d, want)
				}
				for _, part := range strings.Split(strings.TrimPrefix(tt.header, "Bearer "), ".") {
					if len(part) > 8 && (strings.Contains(d.Challenges[0], part) || strings.Contains(err.Error(), part)) {
						t.Fatalf("challenge or error leaks token contents: %q / %v", d.Challenges[0], err)
					}
				}
			}
		})
	}
}

// mintRaw signs an arbitrary payload with key A.
func mintRaw(t *testing.T, payload string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: rsaA, KeyID: "A"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestChallengeEscapes: the description is a quoted-string whatever the reason holds.
func TestChallengeEscapes(t *testing.T) {
	a := &Authenticator{}
	got := a.Challenge(bad(`say "hi" \ now`+"\r\n", nil))
	want := `Bearer error="invalid_token", error_description="say \"hi\" \\ now"`
	if got != want {
		t.Fatalf("Challenge = %s, want %s", got, want)
	}
	if got := a.Challenge(forbidden("x")); got != "" {
		t.Fatalf("Challenge(forbidden) = %q, want none", got)
	}
	if got := a.Challenge(ErrNoKeySet); got != "" {
		t.Fatalf("Challenge(outage) = %q, want none", got)
	}
}
