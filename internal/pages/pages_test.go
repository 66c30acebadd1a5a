package pages

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestPagesEscapeEverything: every value from configuration or a caller is escaped for
// its place, only hex colours reach the style sheet, and only site paths and http(s)
// URLs become links.
func TestPagesEscapeEverything(t *testing.T) {
	s := New(config.Pages{Title: `A&B <script>"x'`, LogoURL: "javascript:alert(1)", PrimaryColor: "red;}</style><script>", TextColor: "#0a0"})
	w := httptest.NewRecorder()
	s.Write(w, 403, Content{Heading: "<h1>", Message: "a & b", Detail: `"><img>`, ActionURL: `/_gatehouse/login?rd=%2F&x="><script>`, ActionLabel: "<b>"})
	body := w.Body.String()
	for _, bad := range []string{"<script>", "javascript:", "red;", `"><img>`, "<b>", "<h1>&"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{
		"<title>&lt;h1&gt; · A&amp;B &lt;script&gt;&#34;x&#39;</title>",
		"--primary: " + DefaultPrimary + ";", "--text: #0a0;",
		`<p class="brand">A&amp;B &lt;script&gt;&#34;x&#39;</p>`, // the refused logo falls back to the title
		`<a class="button" href="/_gatehouse/login?rd=%2F&amp;x=&#34;&gt;&lt;script&gt;">&lt;b&gt;</a>`,
		`<p class="detail">&#34;&gt;&lt;img&gt;</p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("Cache-Control") != "no-store" || w.Code != 403 {
		t.Errorf("headers %v, status %d", w.Header(), w.Code)
	}
}

func TestSafeURL(t *testing.T) {
	for u, want := range map[string]bool{"/a": true, "https://x.test/l.svg": true, "HTTP://x": true,
		"//evil.test": false, "/\\evil.test": false, "javascript:x": false, "data:x": false, "": false} {
		if got := safeURL(u) != ""; got != want {
			t.Errorf("safeURL(%q) kept=%v, want %v", u, got, want)
		}
	}
}
