package config

import (
	"testing"
)

func TestParseAuth(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "neither auth nor public", src: withRoutes("  - path: /a\n    origin: site\n    public: true\n  - name: secret\n    path: /b\n    origin: site\n"),
			want: []wantErr{{"routes[1]", "- name: secret", `route "secret" has no auth section: add one, or set public: true to serve it to anyone`}}},
		{name: "unnamed route is named by its path", src: withRoutes("  - path: /b\n    origin: site\n"),
			want: []wantErr{{"routes[0]", "- path: /b", `route "/b" has no auth section`}}},
		{name: "public: false without auth", src: withRoutes("  - path: /b\n    origin: site\n    public: false\n"),
			want: []wantErr{{"routes[0]", "- path: /b", "has no auth section"}}},
		{name: "null auth counts as none", src: withRoutes("  - path: /b\n    origin: site\n    auth: ~\n"),
			want: []wantErr{{"routes[0]", "- path: /b", "has no auth section"}}},
		{name: "public and auth", src: withRoutes("  - path: /b\n    origin: site\n    public: true\n    auth: {}\n"),
			want: []wantErr{{"routes[0].auth", "auth:", "a route is either public: true or has an auth section, not both"}}},
		{name: "unknown mode", src: withRoutes("  - path: /b\n    origin: site\n    auth:\n      mode: some\n"),
			want: []wantErr{{"routes[0].auth.mode", "mode:", `must be one of any, all, got "some"`}}},
		{name: "mode is case-sensitive", src: withRoutes("  - path: /b\n    origin: site\n    auth:\n      mode: ALL\n"),
			want: []wantErr{{"routes[0].auth.mode", "mode:", `got "ALL"`}}},
	})
	runOKCases(t, []okCase{
		{name: "empty auth denies everything and defaults to any", src: withRoutes("  - path: /b\n    origin: site\n    auth: {}\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, "routes[0].auth", c.Routes[0].Auth, &Auth{Mode: "any"})
				eq(t, "routes[0].public", c.Routes[0].Public, false)
			}},
		{name: "public: false with auth", src: withRoutes("  - path: /b\n    origin: site\n    public: false\n    auth:\n      mode: all\n"),
			check: func(t *testing.T, c *Config) { eq(t, "routes[0].auth", c.Routes[0].Auth, &Auth{Mode: "all"}) }},
	})
}
