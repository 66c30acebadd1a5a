package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainListing: a folder path on a listing route explains as a listing (with the
// index document tried first when the route has one); an object path and a route without
// listing explain as before.
func TestExplainListing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gatehouse.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
origins:
  files: {dir: {root: %q}}
routes:
  - {path: /list/*, origin: files, strip_prefix: /list, add_prefix: pub/, listing: true, public: true}
  - {path: /site/*, origin: files, strip_prefix: /site, index: index.html, listing: true, public: true}
  - {path: /plain/*, origin: files, public: true}
`, dir)), 0o644)
	for _, tc := range []struct {
		url  string
		code int
		want string
	}{
		{"https://f.example/list/docs/", 0, `list the keys under "pub/docs/" from origin files (read from the origin, never cached)`},
		{"https://f.example/site/docs/", 0, `send key "docs/index.html" from origin files when it exists, else list the keys under "docs/"`},
		{"https://f.example/list/docs/a.txt", 0, `fetch key "pub/docs/a.txt" from origin files`},
		{"https://f.example/plain/docs/", 2, "404 Not Found, without contacting the origin"},
	} {
		res := run(t, "explain", "--config", cfg, tc.url)
		if res.code != tc.code || !strings.Contains(res.stdout, tc.want) {
			t.Errorf("%s: exit %d, want %d; output lacks %q:\n%s%s", tc.url, res.code, tc.code, tc.want, res.stdout, res.stderr)
		}
	}
	res := run(t, "explain", "--json", "--config", cfg, "https://f.example/site/docs/")
	var rep struct {
		Key     string `json:"key"`
		Listing struct {
			Prefix string `json:"prefix"`
			Index  string `json:"index_key"`
		} `json:"listing"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || rep.Listing.Prefix != "docs/" || rep.Listing.Index != "docs/index.html" || rep.Key != "" {
		t.Errorf("--json: %+v, %v\n%s", rep, err, res.stdout)
	}
}
