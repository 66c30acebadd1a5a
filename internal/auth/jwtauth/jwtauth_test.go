package jwtauth

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// TestIssuerShapes mints tokens as Cognito (ID and access) and Google shape them and
// checks that the matching configurations accept them with the right identity.
func TestIssuerShapes(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	tests := []struct {
		name   string
		cfg    func(*config.JWTAuth)
		claims map[string]any
		want   policy.Identity
	}{
		{
			name: "cognito ID token, students only",
			cfg: func(c *config.JWTAuth) {
				c.TokenUse = "id"
				c.EmailVerified = true
				c.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Contains: "students"}}
			},
			claims: idClaims(is, clk),
			want:   policy.Identity{Subject: "0b1c-user-1", Email: "ada@example.edu", Groups: []string{"students"}, Source: "jwt"},
		},
		{
			name: "cognito ID token, email_verified as the string \"true\"",
			cfg:  func(c *config.JWTAuth) { c.EmailVerified = true; c.EmailDomains = []string{"EXAMPLE.edu"} },
			claims: with(idClaims(is, clk), "email_verified", "true", "email", "Ada@Example.EDU",
				"cognito:groups", nil, "groups", []string{"staff", "admins"}),
			want: policy.Identity{Subject: "0b1c-user-1", Email: "Ada@Example.EDU", Groups: []string{"staff", "admins"}, Source: "jwt"},
		},
		{
			name: "cognito access token by client_id",
			cfg: func(c *config.JWTAuth) {
				c.Audiences, c.ClientIDs, c.TokenUse = nil, []string{"other", clientID}, "access"
				c.Claims = []*config.ClaimRule{{Claim: "scope", Contains: "files/read"}}
			},
			claims: accessClaims(is, clk),
			want:   policy.Identity{Subject: "0b1c-user-1", Groups: []string{"students"}, Source: "jwt"},
		},
		{
			name: "google ID token from a Workspace domain",
			cfg: func(c *config.JWTAuth) {
				c.Audiences = []string{"123-abc.apps.googleusercontent.com"}
				c.HostedDomains = []string{"example.org"}
				c.EmailVerified = true
			},
			claims: map[string]any{
				"iss": is.iss, "azp": "123-abc.apps.googleusercontent.com", "aud": "123-abc.apps.googleusercontent.com",
				"sub": "110169484474386276334", "hd": "example.org", "email": "grace@example.org",
				"email_verified": true, "iat": clk.now().Unix(), "exp": clk.now().Add(time.Hour).Unix(),
			},
			want: policy.Identity{Subject: "110169484474386276334", Email: "grace@example.org", Source: "jwt"},
		},
		{
			name: "aud array containing the audience; numeric and bool claim rules",
			cfg: func(c *config.JWTAuth) {
				c.Claims = []*config.ClaimRule{
					{Claim: "custom:level", Equals: "42"},
					{Claim: "email_verified", Equals: "true"},
					{Claim: "custom:tier", OneOf: []string{"gold", "silver"}},
				}
			},
			claims: with(idClaims(is, clk), "aud", []string{"someone-else", clientID}, "custom:level", 42, "custom:tier", "silver"),
			want:   policy.Identity{Subject: "0b1c-user-1", Email: "ada@example.edu", Groups: []string{"students"}, Source: "jwt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(is)
			tt.cfg(cfg)
			a := newAuth(t, cfg, clk)
			id, err := a.Authenticate(context.Background(), bearer(mint(t, rsaA, "A", jose.RS256, tt.claims)))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if id.Subject != tt.want.Subject || id.Email != tt.want.Email || id.Source != tt.want.Source || !slices.Equal(id.Groups, tt.want.Groups) {
				t.Errorf("identity = %+v, want %+v", *id, tt.want)
			}
		})
	}
}

// TestGoogleIssuerSpellings: Google documents both "https://accounts.google.com" and
// "accounts.google.com" as iss; with the https issuer configured both are accepted.
func TestGoogleIssuerSpellings(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	cfg := baseConfig(is)
	cfg.Issuer, cfg.JWKSURL = "https://accounts.google.com", is.jwksURL()
	a := newAuth(t, cfg, clk)
	for _, iss := range []string{"https://accounts.google.com", "accounts.google.com"} {
		if _, err := a.Authenticate(context.Background(), bearer(mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "iss", iss)))); err != nil {
			t.Errorf("iss %q: %v", iss, err)
		}
	}
	_, err := a.Authenticate(context.Background(), bearer(mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "iss", "https://accounts.google.com/"))))
	if reason(err) != "wrong issuer" {
		t.Errorf("trailing slash issuer: %v", err)
	}
}

// TestRegisteredClaims covers iss, aud/client_id, exp, nbf, iat and sub, with leeway.
func TestRegisteredClaims(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	a := newAuth(t, baseConfig(is), clk)
	now := clk.now().Unix()
	base := idClaims(is, clk)
	tests := []struct {
		name   string
		claims map[string]any
		want   string // outcome
		reason string
	}{
		{"valid", base, "allow", ""},
		{"expired", with(base, "exp", now-31), "bad", "token expired"},
		{"expired exactly at leeway", with(base, "exp", now-30), "bad", "token expired"},
		{"expired within leeway", with(base, "exp", now-29), "allow", ""},
		{"fractional exp", with(base, "exp", float64(now)+0.5), "allow", ""},
		{"missing exp", with(base, "exp", nil), "bad", "token has no exp claim"},
		{"null exp", with(base, "exp", json.RawMessage("null")), "bad", "token has no exp claim"},
		{"exp as string", with(base, "exp", "9999999999"), "bad", "invalid exp claim"},
		{"huge exp", with(base, "exp", 1e300), "allow", ""},
		{"not yet valid", with(base, "nbf", now+31), "bad", "token not yet valid"},
		{"nbf within leeway", with(base, "nbf", now+29), "allow", ""},
		{"iat in the future", with(base, "iat", now+120), "bad", "token issued in the future"},
		{"iat within leeway", with(base, "iat", now+10), "allow", ""},
		{"wrong issuer", with(base, "iss", "https://evil.example.com/pool"), "bad", "wrong issuer"},
		{"issuer differs in case", with(base, "iss", is.iss+"X"), "bad", "wrong issuer"},
		{"missing issuer", with(base, "iss", nil), "bad", "token has no iss claim"},
		{"issuer not a string", with(base, "iss", 7), "bad", "invalid iss claim"},
		{"wrong audience", with(base, "aud", "another-client"), "bad", "wrong audience"},
		{"audience array without ours", with(base, "aud", []string{"x", "y"}), "bad", "wrong audience"},
		{"missing audience", with(base, "aud", nil), "bad", "token has no aud or client_id claim"},
		{"audience of wrong type", with(base, "aud", map[string]any{"x": 1}), "bad", "invalid aud claim"},
		{"client_id not configured", with(base, "aud", nil, "client_id", clientID), "bad", "wrong audience"},
		{"missing sub", with(base, "sub", nil), "bad", "token has no sub claim"},
		{"case-folded claim names do not count", with(base, "exp", nil, "EXP", now+3600), "bad", "token has no exp claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), bearer(mint(t, rsaA, "A", jose.RS256, tt.claims)))
			if got := outcome(err); got != tt.want || (tt.reason != "" && reason(err) != tt.reason) {
				t.Fatalf("got %s (%v), want %s %q", got, err, tt.want, tt.reason)
			}
		})
	}
}

// TestRulesForbid: a valid token that fails a rule is 403, with a reason that names the
// rule and not the claim's value.
func TestRulesForbid(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	base := idClaims(is, clk)
	tests := []struct {
		name   string
		cfg    func(*config.JWTAuth)
		claims map[string]any
		reason string // "" means allowed
	}{
		{"token_use id, got access", func(c *config.JWTAuth) { c.TokenUse = "id" }, with(base, "token_use", "access"), `token_use is not "id"`},
		{"token_use missing", func(c *config.JWTAuth) { c.TokenUse = "access" }, with(base, "token_use", nil), `token_use is not "access"`},
		{"group missing", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Contains: "teachers"}}
		}, base, `claim cognito:groups does not contain "teachers"`},
		{"groups claim absent", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Contains: "students"}}
		}, with(base, "cognito:groups", nil), "token has no cognito:groups claim"},
		{"contains on a string", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Contains: "students"}}
		}, with(base, "cognito:groups", "students"), ""},
		{"contains is not substring", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Contains: "student"}}
		}, base, `claim cognito:groups does not contain "student"`},
		{"equals on an array", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "cognito:groups", Equals: "students"}}
		}, base, `claim cognito:groups does not equal "students"`},
		{"equals bool false", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "email_verified", Equals: "true"}}
		}, with(base, "email_verified", false), `claim email_verified does not equal "true"`},
		{"one_of miss", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "custom:tier", OneOf: []string{"gold"}}}
		}, with(base, "custom:tier", "bronze"), "claim custom:tier is not one of the allowed values"},
		{"second rule fails", func(c *config.JWTAuth) {
			c.Claims = []*config.ClaimRule{{Claim: "token_use", Equals: "id"}, {Claim: "custom:n", Equals: "1"}}
		}, with(base, "custom:n", 1.5), `claim custom:n does not equal "1"`},
		{"email not verified", func(c *config.JWTAuth) { c.EmailVerified = true }, with(base, "email_verified", false), "email not verified"},
		{"email_verified string false", func(c *config.JWTAuth) { c.EmailVerified = true }, with(base, "email_verified", "false"), "email not verified"},
		{"email_verified missing", func(c *config.JWTAuth) { c.EmailVerified = true }, with(base, "email_verified", nil), "email not verified"},
		{"email domain other", func(c *config.JWTAuth) { c.EmailDomains = []string{"example.edu"} }, with(base, "email", "eve@evil.com"), "email domain not allowed"},
		{"email subdomain is not the domain", func(c *config.JWTAuth) { c.EmailDomains = []string{"example.edu"} }, with(base, "email", "eve@mail.example.edu"), "email domain not allowed"},
		{"email suffix trick", func(c *config.JWTAuth) { c.EmailDomains = []string{"example.edu"} }, with(base, "email", "eve@badexample.edu"), "email domain not allowed"},
		{"email with two @", func(c *config.JWTAuth) { c.EmailDomains = []string{"example.edu"} }, with(base, "email", "eve@example.edu@evil.com"), "email domain not allowed"},
		{"email missing", func(c *config.JWTAuth) { c.EmailDomains = []string{"example.edu"} }, with(base, "email", nil), "token has no email claim"},
		{"hd other", func(c *config.JWTAuth) { c.HostedDomains = []string{"example.org"} }, with(base, "hd", "evil.org"), "hosted domain not allowed"},
		{"hd missing (consumer account)", func(c *config.JWTAuth) { c.HostedDomains = []string{"example.org"} }, base, "token has no hd claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(is)
			tt.cfg(cfg)
			a := newAuth(t, cfg, clk)
			r := bearer(mint(t, rsaA, "A", jose.RS256, tt.claims))
			_, err := a.Authenticate(context.Background(), r)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("want allow, got %v", err)
				}
				return
			}
			if outcome(err) != "forbidden" || reason(err) != tt.reason {
				t.Fatalf("got %s %q, want forbidden %q", outcome(err), reason(err), tt.reason)
			}
			d := (&policy.Policy{Authenticators: []policy.Authenticator{a}}).Decide(context.Background(), r)
			if d.Allow || d.Status != http.StatusForbidden {
				t.Fatalf("decision = %+v, want 403", d)
			}
		})
	}
}

// TestNew: building checks the configuration and never touches the network.
func TestNew(t *testing.T) {
	is := newIssuer(t)
	hdrOff := false
	tests := []struct {
		name string
		cfg  func(*config.JWTAuth)
		ok   bool
	}{
		{"valid", func(*config.JWTAuth) {}, true},
		{"nil config", nil, false},
		{"no issuer", func(c *config.JWTAuth) { c.Issuer = "" }, false},
		{"no audience", func(c *config.JWTAuth) { c.Audiences = nil }, false},
		{"HS256", func(c *config.JWTAuth) { c.Algorithms = []string{"RS256", "HS256"} }, false},
		{"none", func(c *config.JWTAuth) { c.Algorithms = []string{"none"} }, false},
		{"unknown alg", func(c *config.JWTAuth) { c.Algorithms = []string{"rs256"} }, false},
		{"no source", func(c *config.JWTAuth) { c.Header, c.QueryParam, c.Cookie = &hdrOff, "", "" }, false},
		{"bad rule", func(c *config.JWTAuth) { c.Claims = []*config.ClaimRule{{Claim: "x", Equals: "a", Contains: "b"}} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *config.JWTAuth
			if tt.cfg != nil {
				cfg = baseConfig(is)
				cfg.JWKSURL = ""
				tt.cfg(cfg)
			}
			a, err := New("jwt", cfg, Options{})
			if (err == nil) != tt.ok {
				t.Fatalf("New error = %v, want ok=%v", err, tt.ok)
			}
			if a != nil {
				_ = a.Close()
			}
		})
	}
	if n := is.jwksHits.Load() + is.discoHits.Load(); n != 0 {
		t.Fatalf("New made %d requests; it must not touch the network", n)
	}
}
