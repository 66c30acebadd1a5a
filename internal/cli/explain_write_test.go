package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// alice:wonderland and bob:builder, bcrypt cost 4.
const writeYAML = `origins:
  files: {dir: {root: %DIR%}}
routes:
  - path: /home/*
    origin: files
    methods: [GET, PUT, DELETE]
    auth: {methods: [{name: staff, basic: {users: {alice: "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."}}}]}
    upload:
      max_size: 10MiB
      content_types: [image/*, text/plain]
      key_prefix: "home/{user}/"
      overwrite: false
`

// TestExplainWrite: explain shows a PUT's and a DELETE's plan like a GET's: the
// decision, the key, the route's upload limits, and what the write would do (or why
// it would be refused before the body is read).
func TestExplainWrite(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "g.yaml", strings.ReplaceAll(writeYAML, "%DIR%", dir))
	const alice = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA=="
	var out strings.Builder
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"PUT", "-H", alice, "-H", "Content-Type: image/png", "-H", "Content-Length: 2048",
			"-H", "Content-MD5: XUFAKrxLKna5cZ2REBfFkg==", "https://f.example/home/alice/cat.png"}, 0},
		{[]string{"PUT", "-H", alice, "-H", "Content-Type: text/plain", "https://f.example/home/alice/notes.txt"}, 0},
		{[]string{"DELETE", "-H", alice, "https://f.example/home/alice/cat.png"}, 0},
		{[]string{"PUT", "-H", alice, "-H", "Content-Type: image/png", "https://f.example/home/bob/cat.png"}, 2},
		{[]string{"PUT", "-H", alice, "-H", "Content-Length: 99999999", "https://f.example/home/alice/big.png"}, 2},
		{[]string{"PUT", "-H", alice, "-H", "Content-Type: application/pdf", "https://f.example/home/alice/a.pdf"}, 2},
		{[]string{"PUT", "https://f.example/home/alice/cat.png"}, 2},
		// image/* admits no type that can run script (issue 14's review), and what the
		// route serves is sandboxed.
		{[]string{"PUT", "-H", alice, "-H", "Content-Type: image/svg+xml", "https://f.example/home/alice/x.svg"}, 2},
		{[]string{"GET", "-H", alice, "https://f.example/home/alice/cat.png"}, 0},
	} {
		r := run(t, append([]string{"explain", "--config", cfg}, c.args...)...)
		if r.code != c.code {
			t.Errorf("explain %v: exit %d, want %d\n%s%s", c.args, r.code, c.code, r.stdout, r.stderr)
		}
		out.WriteString("$ explain " + strings.Join(c.args, " ") + "\n" + r.stdout)
	}
	golden(t, "explain-write.golden", out.String())

	r := run(t, "explain", "--config", cfg, "--json", "PUT", "-H", alice, "-H", "Content-Type: image/png", "https://f.example/home/alice/cat.png")
	var rep struct {
		Key    string `json:"key"`
		Upload struct {
			Operation    string `json:"operation"`
			CallerPrefix string `json:"caller_prefix"`
			Size         int64  `json:"size"`
			MaxSize      int64  `json:"max_size"`
			CreateOnly   bool   `json:"create_only"`
		} `json:"upload"`
		Object any `json:"object_headers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	u := rep.Upload
	if rep.Key != "home/alice/cat.png" || u.Operation != "store" || u.CallerPrefix != "home/alice/" || u.Size != -1 ||
		u.MaxSize != 10<<20 || !u.CreateOnly || rep.Object != nil {
		t.Errorf("json: %s", r.stdout)
	}
}
