package loginauth

import (
	"strings"
	"testing"
)

// TestSafeReturnOpenRedirect: classic open-redirect payloads are all refused; plain paths
// on this site and URLs on configured hosts pass.
func TestSafeReturnOpenRedirect(t *testing.T) {
	hosts := map[string]bool{"docs.example.com": true}
	for _, bad := range []string{
		"", "//evil.com", "///evil.com", "////evil.com", "/\\evil.com", "\\\\evil.com", "\\/evil.com",
		"https:evil.com", "http:evil.com", "https:/evil.com", "https://evil.com", "http://evil.com/",
		"HTTPS://EVIL.COM", "//evil.com/%2e%2e", "/%2F%2Fevil.com", "/%2f/evil.com", "%2F%2Fevil.com",
		"/%5Cevil.com", "/%5cevil.com", "/%09/evil.com", "/\t/evil.com", "/\r\nLocation: https://evil.com",
		"/%0d%0aSet-Cookie:x=1", "/a%0Ab", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
		"https://docs.example.com@evil.com/", "https://evil.com#@docs.example.com", "https://evil.com?@docs.example.com",
		"https://docs.example.com.evil.com/", "https://user:pw@docs.example.com/", "ftp://docs.example.com/",
		" /www", "/www page", "/caf\u00e9", "//docs.example.com/", "https:\\\\evil.com", "evil.com", "www/page",
		"/%", "/" + strings.Repeat("a", 3000),
	} {
		if got, ok := SafeReturn(bad, hosts); ok {
			t.Errorf("SafeReturn(%q) = %q, accepted", bad, got)
		}
	}
	for in, want := range map[string]string{
		"/":                              "/",
		"/www/page.html?x=1&y=%2F":       "/www/page.html?x=1&y=%2F",
		"/www/%E2%9C%93.html":            "/www/%E2%9C%93.html",
		"https://docs.example.com/a?b=c": "https://docs.example.com/a?b=c",
		"https://DOCS.example.com/":      "https://DOCS.example.com/",
		"/a/b#frag":                      "/a/b#frag",
	} {
		if got, ok := SafeReturn(in, hosts); !ok || got != want {
			t.Errorf("SafeReturn(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// FuzzSafeReturn: whatever is accepted is either a path that browsers resolve on this
// site or a URL on a configured host, with no control characters or backslashes.
func FuzzSafeReturn(f *testing.F) {
	for _, s := range []string{"/", "//evil.com", "/%2F%2Fevil", "https://docs.example.com/", "https:evil.com", "/\\x"} {
		f.Add(s)
	}
	hosts := map[string]bool{"docs.example.com": true}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := SafeReturn(s, hosts)
		if !ok {
			return
		}
		if strings.ContainsAny(got, "\\\r\n\t ") {
			t.Fatalf("%q accepted as %q", s, got)
		}
		if strings.HasPrefix(got, "/") {
			if strings.HasPrefix(got, "//") {
				t.Fatalf("%q accepted as protocol-relative %q", s, got)
			}
			return
		}
		if !strings.HasPrefix(strings.ToLower(got), "https://docs.example.com/") && !strings.HasPrefix(strings.ToLower(got), "http://docs.example.com/") &&
			!strings.EqualFold(got, "https://docs.example.com") && !strings.EqualFold(got, "http://docs.example.com") {
			t.Fatalf("%q accepted as %q", s, got)
		}
	})
}
