package gateway

import (
	"net/http"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestUploadRouteSandbox: the objects of a route that accepts uploads (PUT, or a
// presign section) are served with Content-Security-Policy: sandbox unless the route's
// security section sets a policy of its own; a read-only route gets none.
func TestUploadRouteSandbox(t *testing.T) {
	own := &config.ResponseHeaders{Security: &config.SecurityHeaders{ContentSecurityPolicy: "default-src 'none'"}}
	for _, c := range []struct {
		name string
		rc   *config.Route
		want string
	}{
		{"PUT", &config.Route{Methods: []string{"GET", "PUT"}, Upload: &config.Upload{}}, "sandbox"},
		{"presign", &config.Route{Methods: []string{"GET"}, Upload: &config.Upload{Presign: &config.Presign{}}}, "sandbox"},
		{"PUT, other headers", &config.Route{Methods: []string{"GET", "PUT"}, Upload: &config.Upload{},
			ResponseHeaders: &config.ResponseHeaders{Security: &config.SecurityHeaders{FrameOptions: "DENY"}}}, "sandbox"},
		{"PUT, own policy", &config.Route{Methods: []string{"GET", "PUT"}, Upload: &config.Upload{}, ResponseHeaders: own}, ""},
		{"DELETE only", &config.Route{Methods: []string{"GET", "DELETE"}, Upload: &config.Upload{}}, ""},
		{"read only", &config.Route{Methods: []string{"GET"}}, ""},
	} {
		h := http.Header{}
		newResponseHeaders(c.rc).Object(h, "/a/x.svg", "a/x.svg", nil)
		if got := h.Get("Content-Security-Policy"); got != c.want {
			t.Errorf("%s: Content-Security-Policy %q, want %q", c.name, got, c.want)
		}
	}
}
