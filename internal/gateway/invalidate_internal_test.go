package gateway

import (
	"strings"
	"testing"
)

// TestRegression_InvalidatePathEchoClipped: a 400 to POST /cache/invalidate echoed a
// whole 10 KB hostile path back; the path in the message is now at most 200 bytes.
func TestRegression_InvalidatePathEchoClipped(t *testing.T) {
	long := "/" + strings.Repeat("a", 10000) + "?"
	if got := clipPath(long); len(got) > 210 || !strings.HasSuffix(got, "…") {
		t.Fatalf("clipPath: %d bytes", len(got))
	}
	if got := clipPath("/short"); got != "/short" {
		t.Fatalf("clipPath(/short) = %q", got)
	}
	if got := clipPath("/" + strings.Repeat("é", 150)); !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
		t.Fatalf("a path cut inside a character: %q", got)
	}
}
