package gateway

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/httpx"
)

// FuzzRequestID: whatever a trusted proxy sends as X-Request-Id, what gatehouse uses is
// either that value, when it is 1-128 bytes of [A-Za-z0-9._:-], or a new ID; never
// anything else.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a b", strings.Repeat("x", 129), "id\"\n", "3f2b8c1e-6a4d:4f0e_9b7a.1c"} {
		f.Add(s)
	}
	proxies := httpx.NewProxies([]netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}, "X-Forwarded-For")
	f.Fuzz(func(t *testing.T, s string) {
		r := &http.Request{RemoteAddr: "192.0.2.1:1234", Header: http.Header{"X-Request-Id": {s}}}
		got := requestID(r, proxies)
		safe := len(s) >= 1 && len(s) <= 128 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == ""
		if safe != (got == s) {
			t.Fatalf("X-Request-Id %q gave %q (safe=%v)", s, got, safe)
		}
		if got != s && len(got) != 16 {
			t.Fatalf("new ID %q", got)
		}
		r.RemoteAddr = "192.0.2.2:1234" // not a trusted proxy
		if got := requestID(r, proxies); got == s {
			t.Fatalf("X-Request-Id %q kept from an untrusted peer", s)
		}
	})
}
