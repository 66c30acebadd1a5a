package config

import (
	"testing"
	"time"
)

// TestParseJWTJWKSWait: jwks_wait defaults to DefaultJWTJWKSWait and must lie between
// 1ms and MaxJWTJWKSWait; the error names the field.
func TestParseJWTJWKSWait(t *testing.T) {
	jwt := func(extra string) string {
		return withRoutes("  - path: /b\n    origin: site\n    auth:\n      methods:\n        - jwt:\n" +
			"            issuer: https://issuer.example.com\n            audiences: [app]\n" + extra)
	}
	runErrCases(t, []errCase{
		{name: "too long", src: jwt("            jwks_wait: 11s\n"),
			want: []wantErr{{"routes[0].auth.methods[0].jwt.jwks_wait", "jwks_wait:", "must be between 1ms and 10s"}}},
		{name: "negative", src: jwt("            jwks_wait: -1s\n"),
			want: []wantErr{{"routes[0].auth.methods[0].jwt.jwks_wait", "jwks_wait:", "must be between 1ms and 10s"}}},
		{name: "below a millisecond", src: jwt("            jwks_wait: 1us\n"),
			want: []wantErr{{"routes[0].auth.methods[0].jwt.jwks_wait", "jwks_wait:", "must be between 1ms and 10s"}}},
	})
	runOKCases(t, []okCase{
		{name: "default", src: jwt(""), check: func(t *testing.T, c *Config) {
			eq(t, "jwks_wait", c.Routes[0].Auth.Methods[0].JWT.JWKSWait, DefaultJWTJWKSWait)
		}},
		{name: "set", src: jwt("            jwks_wait: 250ms\n"), check: func(t *testing.T, c *Config) {
			eq(t, "jwks_wait", c.Routes[0].Auth.Methods[0].JWT.JWKSWait, 250*time.Millisecond)
		}},
	})
}
