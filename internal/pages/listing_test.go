package pages

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestListingEscapesEverything: names are escaped as text, URLs as attributes, and a
// URL that is not site-relative is not linked.
func TestListingEscapesEverything(t *testing.T) {
	s := New(config.Pages{})
	w := httptest.NewRecorder()
	s.WriteListing(w, Listing{
		Path:    "/f/<i>/",
		Crumbs:  []Link{{Name: "/"}, {Name: "f/", URL: "/f/"}, {Name: "<i>/", URL: "/f/%3Ci%3E/"}},
		Folders: []Link{{Name: `"><script>/`, URL: `/f/%22%3E%3Cscript%3E/`}},
		Objects: []Object{
			{Name: "a&b.txt", URL: "/f/a&b.txt", Size: 1536, LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))},
			{Name: "evil", URL: "javascript:alert(1)"},
			{Name: "other site", URL: "//evil.test/x"},
		},
		NextURL: "/f/?after=abc", FirstURL: "/f/",
	}, true)
	body := w.Body.String()
	for _, bad := range []string{"<script>", "<i>", "javascript:", "//evil.test"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{
		"<title>Index of /f/&lt;i&gt;/ · gatehouse</title>",
		`<a href="/f/%3Ci%3E/">&lt;i&gt;/</a>`,
		`<a href="/f/%22%3E%3Cscript%3E/">&#34;&gt;&lt;script&gt;/</a>`,
		`<a href="/f/a&amp;b.txt">a&amp;b.txt</a></td><td class="size" title="1536 bytes">1.5 KiB</td>`,
		`<time datetime="2026-01-02T02:04:05Z">2026-01-02 02:04</time>`,
		`<td class="name">evil</td>`, `<td class="name">other site</td>`,
		`<a href="/f/?after=abc" rel="next">Next page</a>`, `<a href="/f/">First page</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if w.Code != 200 || w.Header().Get("Content-Length") != strconv.Itoa(len(body)) || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d, headers %v", w.Code, w.Header())
	}
	head := httptest.NewRecorder()
	s.WriteListing(head, Listing{Path: "/"}, false)
	if head.Body.Len() != 0 || head.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: body %q, Content-Length %q", head.Body.String(), head.Header().Get("Content-Length"))
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
