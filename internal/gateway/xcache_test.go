package gateway_test

import (
	"strings"
	"testing"
)

// TestRegression_PartialHitXCacheMiss: a whole GET whose object entry was cached (by a
// Range request for its first slice) but most of whose slices came from the origin said
// X-Cache: Hit from gatehouse. It says Miss (as CloudFront does for a response that
// needed the origin), and the next whole GET, served from stored slices alone, Hit.
func TestRegression_PartialHitXCacheMiss(t *testing.T) {
	needMinIO(t)
	body := strings.Repeat("0123456789abcdef", (3<<20+100)/16) // 4 slices of 1 MiB
	putObject(t, "assets", "cache/partial.bin", body, nil)
	g, cp := cacheGateway(t, "{policy: optimized}", "", "")

	resp, got := g.do(t, "GET", "/c/cache/partial.bin", "Range: bytes=0-99")
	wantStatus(t, resp, 206)
	wantHeader(t, resp, "X-Cache", "Miss from gatehouse")
	if got != body[:100] {
		t.Fatalf("range body %q", got)
	}
	resp, _ = g.do(t, "GET", "/c/cache/partial.bin", "Range: bytes=10-19")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")

	resp, got = g.do(t, "GET", "/c/cache/partial.bin")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "X-Cache", "Miss from gatehouse")
	wantHeader(t, resp, "Age", "0")
	if got != body {
		t.Fatalf("whole body: %d bytes, want %d", len(got), len(body))
	}
	if n := cp.count("GET", "/assets/cache/partial.bin"); n != 4 {
		t.Fatalf("origin GETs %d, want 4 (one per slice)", n)
	}
	resp, got = g.do(t, "GET", "/c/cache/partial.bin")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
	if got != body || cp.count("GET", "/assets/cache/partial.bin") != 4 {
		t.Fatalf("second whole GET: %d bytes, origin GETs %d", len(got), cp.count("GET", "/assets/cache/partial.bin"))
	}
	resp, _ = g.do(t, "HEAD", "/c/cache/partial.bin")
	wantHeader(t, resp, "X-Cache", "Hit from gatehouse")
}
