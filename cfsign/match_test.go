package cfsign

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var matchCases = []struct {
	name, pattern, url string
	want               bool
}{
	// Exact resources.
	{"exact", "https://d111.cloudfront.net/a/b.jpg", "https://d111.cloudfront.net/a/b.jpg", true},
	{"exact other path", "https://d111.cloudfront.net/a/b.jpg", "https://d111.cloudfront.net/a/c.jpg", false},
	{"exact is case-sensitive", "https://d111.cloudfront.net/a/B.jpg", "https://d111.cloudfront.net/a/b.jpg", false},
	{"exact refuses a query", "https://d111.cloudfront.net/a/b.jpg", "https://d111.cloudfront.net/a/b.jpg?w=1", false},
	{"exact with query", `https://d111.cloudfront.net/a/b.jpg\?w=1`, "https://d111.cloudfront.net/a/b.jpg?w=1", true},
	{"exact query differs", `https://d111.cloudfront.net/a/b.jpg\?w=1`, "https://d111.cloudfront.net/a/b.jpg?w=2", false},
	{"query section needs a query", `https://d111.cloudfront.net/a/b.jpg\?w=1`, "https://d111.cloudfront.net/a/b.jpg", false},
	{"no decoding", "https://h/a%20b", "https://h/a b", false},
	// '*' in the path.
	{"path star", "https://h/private/*", "https://h/private/videos/intro.mp4", true},
	{"path star empty", "https://h/private/*", "https://h/private/", true},
	{"path star other prefix", "https://h/private/*", "https://h/public/x.txt", false},
	{"path star needs the slash", "https://h/private/*", "https://h/private", false},
	{"trailing path star implies any query", "https://h/private/*", "https://h/private/a.jpg?w=100&h=2", true},
	{"inner path star", "https://h/*/thumb.jpg", "https://h/2026/05/thumb.jpg", true},
	{"inner path star no query", "https://h/*/thumb.jpg", "https://h/2026/thumb.jpg?x=1", false},
	{"path star suffix", "https://h/*.jpg", "https://h/a/b.jpg", true},
	{"path star suffix mismatch", "https://h/*.jpg", "https://h/a/b.png", false},
	{"path star does not reach the query", "https://h/a*x", "https://h/a?x", false},
	{"several path stars", "https://h/*/v*/*.ts", "https://h/show/v2/seg-001.ts", true},
	{"several path stars fail", "https://h/*/v*/*.ts", "https://h/show/x2/seg-001.ts", false},
	// '?' wildcard.
	{"question one char", "https://h/img?.jpg", "https://h/img1.jpg", true},
	{"question not zero chars", "https://h/img?.jpg", "https://h/img.jpg", false},
	{"question not two chars", "https://h/img?.jpg", "https://h/img12.jpg", false},
	{"question not the query separator", "https://h/a?", "https://h/a?", false},
	{"question and star", "https://h/v?/*", "https://h/v2/seg.ts", true},
	{"question in query", `https://h/a\?v=?`, "https://h/a?v=7", true},
	// Query section.
	{"query star", `https://h/a\?*`, "https://h/a?anything=1&x", true},
	{"query star needs a query", `https://h/a\?*`, "https://h/a", false},
	{"query prefix", `https://h/a\?size=*`, "https://h/a?size=large", true},
	{"query prefix mismatch", `https://h/a\?size=*`, "https://h/a?color=red", false},
	{"literal question mark in query", `https://h/a\?q=\?`, "https://h/a?q=?", true},
	{"path star then query", `https://h/a/*\?v=1`, "https://h/a/b/c?v=1", true},
	{"path star then query mismatch", `https://h/a/*\?v=1`, "https://h/a/b/c?v=2", false},
	// Host section.
	{"host star", "https://*.example.com/a.jpg", "https://cdn.example.com/a.jpg", true},
	{"host star does not cross into path", "https://*.jpg", "https://h/a.jpg", false},
	{"host star subdomain mismatch", "https://*.example.com/a.jpg", "https://example.org/a.jpg", false},
	{"trailing host star implies any path and query", "https://media*", "https://media.example.com/a/b?c=d", true},
	{"trailing host star host mismatch", "https://media*", "https://cdn.example.com/a", false},
	{"host star alone", "https://*", "https://anything/at/all?x", true},
	{"host question", "https://cdn?.example.com/a", "https://cdn2.example.com/a", true},
	{"host with port", "https://h:8443/*", "https://h:8443/a", true},
	{"host without path matches nothing", "https://h", "https://h/", false},
	// Scheme section.
	{"scheme star", "*://h/a", "http://h/a", true},
	{"scheme star https", "*://h/a", "https://h/a", true},
	{"scheme mismatch", "https://h/a", "http://h/a", false},
	{"scheme prefix star", "http*://h/a", "https://h/a", true},
	{"scheme star does not cross", "h*/a", "https://h/a", false},
	{"leading star any scheme", "*.example.com/videos/*", "http://cdn.example.com/videos/a.mp4", true},
	{"leading star any scheme host mismatch", "*.example.com/videos/*", "http://cdn.example.org/videos/a.mp4", false},
	{"star alone", "*", "https://any.host/any/path?any=query", true},
	{"star alone http", "*", "http://h/", true},
	{"no scheme and no leading star", "h/a", "https://h/a", false},
	// Degenerate inputs.
	{"resource without scheme", "*", "h/a", false},
	{"empty pattern", "", "https://h/a", false},
	{"double star", "https://h/**", "https://h/x", true},
	{"backslash literal", `https://h/a\b`, `https://h/a\b`, true},
}

func TestMatchResource(t *testing.T) {
	if len(matchCases) < 30 {
		t.Fatalf("only %d cases", len(matchCases))
	}
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchResource(tc.pattern, tc.url); got != tc.want {
				t.Errorf("MatchResource(%q, %q) = %v, want %v", tc.pattern, tc.url, got, tc.want)
			}
			if got := refMatch(tc.pattern, tc.url); got != tc.want {
				t.Errorf("reference matcher disagrees with the table: %v", got)
			}
		})
	}
}

// TestMatchResourceLinear: inputs that make backtracking matchers explode finish at once.
func TestMatchResourceLinear(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	cases := []struct{ pattern, url string }{
		{"https://h/" + strings.Repeat("*a", 2000) + "b", "https://h/" + long},
		{"https://h/" + strings.Repeat("*?", 2000) + "*b", "https://h/" + long},
		{"https://h/*" + strings.Repeat("a", 100) + "?" + strings.Repeat("a", 100) + "b", "https://h/" + long},
		{"https://h/" + strings.Repeat("*"+strings.Repeat("?", 70), 50) + "b", "https://h/" + long},
	}
	for i, tc := range cases {
		start := time.Now()
		if MatchResource(tc.pattern, tc.url) {
			t.Errorf("case %d matched", i)
		}
		// A quadratic matcher needs billions of steps here; a linear one milliseconds.
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("case %d took %v", i, d)
		}
	}
}

// refMatch is an independent implementation of the section rules: the URL split by a
// regular expression, each section's glob translated to RE2.
func refMatch(pattern, resource string) bool {
	m := regexp.MustCompile(`(?s)^(.*?)://([^/?]*)([^?]*)(\?(.*))?$`).FindStringSubmatch(resource)
	if m == nil {
		return false
	}
	scheme, host, path, hasQuery, query := m[1], m[2], m[3], m[4] != "", m[5]
	rest := pattern
	if i := strings.Index(pattern, "://"); i >= 0 && !strings.Contains(pattern[:i], "/") && !strings.Contains(pattern[:i], `\?`) {
		if !reGlob(pattern[:i], scheme) {
			return false
		}
		rest = pattern[i+3:]
	} else if !strings.HasPrefix(pattern, "*") {
		return false
	}
	// The host ends at the first '/' or `\?`, whichever comes first.
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' || strings.HasPrefix(rest[i:], `\?`) {
			end = i
			break
		}
	}
	if !reGlob(rest[:end], host) {
		return false
	}
	rest = rest[end:]
	if rest == "" && strings.HasSuffix(pattern, "*") {
		return true
	}
	pPath, pQuery, pHas := rest, "", false
	if i := strings.Index(rest, `\?`); i >= 0 {
		pPath, pQuery, pHas = rest[:i], rest[i+2:], true
	}
	if !reGlob(pPath, path) {
		return false
	}
	if !pHas {
		return !hasQuery || strings.HasSuffix(pPath, "*")
	}
	return hasQuery && reGlob(pQuery, query)
}

func reGlob(glob, s string) bool {
	var re strings.Builder
	re.WriteString(`(?s)^`)
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case c == '\\' && i+1 < len(glob) && glob[i+1] == '?':
			re.WriteString(`\?`)
			i++
		case c == '*':
			re.WriteString(`.*`)
		case c == '?':
			re.WriteString(`.`)
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString(`$`)
	// RE2 matches runes; compare bytes by mapping every byte to one rune.
	return regexp.MustCompile(re.String()).MatchString(latin1(s))
}

// latin1 maps each byte to the rune of the same value, so '.' matches one byte.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func FuzzMatchResource(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.url)
	}
	f.Add(`https://h/a?b*\?c?*`, "https://h/aXb/c?c??")
	f.Fuzz(func(t *testing.T, pattern, resource string) {
		if len(pattern) > 300 || len(resource) > 300 {
			return
		}
		// Patterns are glob bytes; keep them ASCII so the latin1 mapping in the
		// reference is exact for both sides.
		pattern, resource = asciiOnly(pattern), asciiOnly(resource)
		got, want := MatchResource(pattern, resource), refMatch(pattern, resource)
		if got != want {
			t.Fatalf("MatchResource(%q, %q) = %v, reference %v", pattern, resource, got, want)
		}
		if !MatchResource("*", resource) && strings.Contains(resource, "://") {
			t.Fatalf("* does not match %q", resource)
		}
	})
}

func asciiOnly(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] &= 0x7f
	}
	return string(b)
}

func BenchmarkMatchResource(b *testing.B) {
	cases := []struct{ name, pattern, url string }{
		{"prefix", "https://media.example.com/private/*", "https://media.example.com/private/videos/2026/intro.mp4?w=1280"},
		{"host-and-path", "https://*.example.com/*/thumbs/*.jpg", "https://cdn3.example.com/gallery/2026/thumbs/img-0042.jpg"},
		{"question", `https://media.example.com/v?/seg-???.ts\?token=*`, "https://media.example.com/v2/seg-001.ts?token=abc"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !MatchResource(tc.pattern, tc.url) {
					b.Fatal("no match")
				}
			}
		})
	}
}
