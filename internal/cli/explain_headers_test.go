package cli_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

const headersYAML = `origins:
  files: {dir: {root: %DIR%}}
routes:
  - path: /docs/*
    origin: files
    auth: {methods: [{name: office, ip: {cidrs: [192.0.2.0/24]}}]}
    response_headers:
      security:
        strict_transport_security: {include_subdomains: true}
        frame_options: DENY
      custom: [{name: X-Robots-Tag, value: noindex}]
      remove: [ETag]
      content_disposition: [{path: "*.pdf"}]
      origin_metadata: [x-amz-meta-author]
  - path: /pub/*
    origin: files
    public: true
`

// TestExplainResponseHeaders: explain prints the security headers every response of the
// route gets and what the response headers policy does to an object response.
func TestExplainResponseHeaders(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "g.yaml", strings.ReplaceAll(headersYAML, "%DIR%", dir))
	var out strings.Builder
	for _, args := range [][]string{
		{"--client-ip", "192.0.2.9", "https://f.example/docs/a%20b/r%C3%A9port.pdf"},
		{"https://f.example/pub/a.txt"},
		{"--client-ip", "203.0.113.1", "https://f.example/docs/a.txt"},
	} {
		r := run(t, append([]string{"explain", "--config", cfg}, args...)...)
		out.WriteString("$ explain " + strings.Join(args, " ") + "\n" + r.stdout)
	}
	golden(t, "explain-headers.golden", out.String())
}

// TestCheckResponseHeaders: check names each bad response_headers field with its line.
func TestCheckResponseHeaders(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "bad.yaml", `origins:
  files: {dir: {root: /srv}}
routes:
  - path: /docs/*
    origin: files
    public: true
    response_headers:
      security:
        frame_options: ALLOWALL
        referrer_policy: same-site
      remove: [Content-Length]
      custom:
        - {name: Set-Cookie, value: a=b}
      origin_metadata: [x-amz-request-id]
`)
	r := run(t, "check", "--config", cfg)
	if r.code != cli.ExitConfig {
		t.Errorf("exit %d, want %d", r.code, cli.ExitConfig)
	}
	golden(t, "check-headers.golden", strings.ReplaceAll(r.stderr, dir, "$TMPDIR"))
}
