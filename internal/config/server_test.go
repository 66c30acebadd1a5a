package config

import (
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "admin.listen equal to server.listen", src: withTop("server:\n  listen: 127.0.0.1:8000\nadmin:\n  listen: 127.0.0.1:8000 # admin\n"),
			want: []wantErr{{"admin.listen", "# admin", "must differ from server.listen"}}},
		{name: "admin.listen equal to the default server.listen", src: withTop("admin:\n  listen: " + DefaultListen + "\n"),
			want: []wantErr{{"admin.listen", "listen:", "must differ from server.listen"}}},
		{name: "admin.listen without a port", src: withTop("admin:\n  listen: 127.0.0.1\n"),
			want: []wantErr{{"admin.listen", "listen:", `want host:port such as 127.0.0.1:8080, got "127.0.0.1"`}}},
		{name: "server.listen with an empty port", src: withTop("server:\n  listen: \"localhost:\"\n"),
			want: []wantErr{{"server.listen", "listen:", `got "localhost:"`}}},
		{name: "trusted proxy not a CIDR", src: withTop("server:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n"),
			want: []wantErr{{"server.trusted_proxies[1]", "10.0.0.0/33", `want a CIDR such as 10.0.0.0/8, got "10.0.0.0/33"`}}},
		{name: "trusted proxy with host bits set", src: withTop("server:\n  trusted_proxies:\n    - 10.1.2.3/8\n"),
			want: []wantErr{{"server.trusted_proxies[0]", "10.1.2.3/8", `"10.1.2.3/8" has host bits set; did you mean 10.0.0.0/8?`}}},
		{name: "trusted proxy not an address", src: withTop("server:\n  trusted_proxies:\n    - 127.0.0.1\n    - proxy.internal\n"),
			want: []wantErr{{"server.trusted_proxies[1]", "proxy.internal", `want an address or CIDR, got "proxy.internal"`}}},
		{name: "every bad trusted proxy in a flow list", src: withTop("server:\n  trusted_proxies: [\"fd00::1/8\", x, 10.0.0.0/8]\n"),
			want: []wantErr{
				{"server.trusted_proxies[0]", "trusted_proxies:", "has host bits set; did you mean fd00::/8?"},
				{"server.trusted_proxies[1]", "trusted_proxies:", `got "x"`},
			}},
		{name: "client_ip_header other value", src: withTop("server:\n  client_ip_header: X-Real-IP\n"),
			want: []wantErr{{"server.client_ip_header", "client_ip_header:", `must be X-Forwarded-For or CloudFront-Viewer-Address, got "X-Real-IP"`}}},
		{name: "tls without files", src: withTop("server:\n  tls: {}\n"),
			want: []wantErr{
				{"server.tls.cert_file", "tls:", "required when tls is set"},
				{"server.tls.key_file", "tls:", "required when tls is set"},
			}},
		{name: "tls without key", src: withTop("server:\n  tls:\n    cert_file: c.pem\n"),
			want: []wantErr{{"server.tls.key_file", "tls:", "required when tls is set"}}},
		{name: "negative timeouts", src: withTop("server:\n  read_header_timeout: -1s\n  idle_timeout: -1ms\n  shutdown_timeout: -1h\n"),
			want: []wantErr{
				{"server.read_header_timeout", "read_header_timeout:", "must be positive"},
				{"server.idle_timeout", "idle_timeout:", "must be positive"},
				{"server.shutdown_timeout", "shutdown_timeout:", "must be positive"},
			}},
		{name: "negative max_connections", src: withTop("server:\n  max_connections: -1\n"),
			want: []wantErr{{"server.max_connections", "max_connections:", "must be 0 (half the open-file limit) or a positive number, got -1"}}},
		{name: "log level and format", src: withTop("log:\n  level: verbose\n  format: xml\n"),
			want: []wantErr{
				{"log.level", "level:", `must be one of debug, info, warn, error, got "verbose"`},
				{"log.format", "format:", `must be one of json, text, got "xml"`},
			}},
	})

	for _, h := range []struct{ in, want string }{
		{"X-Forwarded-For", HeaderXForwardedFor},
		{"x-forwarded-for", HeaderXForwardedFor},
		{"X-FORWARDED-FOR", HeaderXForwardedFor},
		{"CloudFront-Viewer-Address", HeaderCloudFrontViewer},
		{"cloudfront-viewer-address", HeaderCloudFrontViewer},
	} {
		t.Run("client_ip_header "+h.in, func(t *testing.T) {
			c := mustParse(t, withTop("server:\n  client_ip_header: "+h.in+"\n"), nil)
			eq(t, "server.client_ip_header", c.Server.ClientIPHeader, h.want)
		})
	}
	t.Run("zero timeouts mean the defaults", func(t *testing.T) {
		c := mustParse(t, withTop("server:\n  read_header_timeout: 0s\n  idle_timeout: 0s\n  shutdown_timeout: 0s\n"), nil)
		eq(t, "read_header_timeout", c.Server.ReadHeaderTimeout, DefaultReadHeaderTimeout)
		eq(t, "idle_timeout", c.Server.IdleTimeout, DefaultIdleTimeout)
		eq(t, "shutdown_timeout", c.Server.ShutdownTimeout, DefaultShutdownTimeout)
	})
}

// Two listeners on port 0 each get their own ephemeral port, so they do not collide (the
// demo runs with --listen 127.0.0.1:0 --admin 127.0.0.1:0).
func TestParseEphemeralListenPorts(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			c := mustParse(t, withTop("server:\n  listen: \""+addr+"\"\nadmin:\n  listen: \""+addr+"\"\n"), nil)
			eq(t, "admin.listen", c.Admin.Listen, addr)
		})
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "192.168.1.7", want: "192.168.1.7/32"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "::1", want: "::1/128"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "10.1.2.3/8", err: `"10.1.2.3/8" has host bits set; did you mean 10.0.0.0/8?`},
		{in: "2001:db8::1/32", err: "did you mean 2001:db8::/32?"},
		{in: "10.0.0.0/33", err: `want a CIDR such as 10.0.0.0/8, got "10.0.0.0/33"`},
		{in: "10.0.0/8", err: "want a CIDR"},
		{in: "/8", err: "want a CIDR"},
		{in: "", err: `want an address or CIDR, got ""`},
		{in: "localhost", err: `want an address or CIDR, got "localhost"`},
		{in: "10.0.0.256", err: "want an address or CIDR"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePrefix(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePrefix(%q) = %v, %v; want error containing %q", tc.in, p, err, tc.err)
				}
				return
			}
			if err != nil || p.String() != tc.want {
				t.Fatalf("ParsePrefix(%q) = %v, %v; want %s", tc.in, p, err, tc.want)
			}
		})
	}
}
