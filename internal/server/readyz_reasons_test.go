package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestReadyzReasons: /readyz's JSON says why an origin is not ready, with a stable reason
// and a message, beside the fields it always had.
func TestReadyzReasons(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s}
admin: {listen: "127.0.0.1:0"}
origins:
  files: {s3: {bucket: files, endpoint: %q, path_style: true, access_key_id: AKIAEXAMPLE, secret_access_key: sekrit-sekrit, max_attempts: 1}}
routes:
  - {path: /a.txt, origin: files, public: true}
`, endpoint)), 0o644)
	r := start(t, path)
	wait(t, r.probed)
	code, body := get(t, r.admin+"/readyz")
	if code != 503 {
		t.Fatalf("readyz: %d %s", code, body)
	}
	var got struct {
		Ready   bool
		Origins map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	f := got.Origins["files"]
	want := map[string]any{"ok": false, "ever_ok": false, "error": "unavailable", "reason": "connection_refused",
		"message": "nothing is listening at " + endpoint + " (connection refused)"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %v, want %v (body %s)", k, f[k], v, body)
		}
	}
	if _, ok := f["checked"]; !ok {
		t.Errorf("no checked: %s", body)
	}
}
