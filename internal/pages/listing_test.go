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

// TestListingUploadForm: the upload form escapes every attribute value, puts the
// hidden fields and the type before the file input (named file, last) and lets the
// page's CSP post to the form's origin only; an action that is not an absolute http(s)
// URL with a plain host makes no form.
func TestListingUploadForm(t *testing.T) {
	s := New(config.Pages{})
	w := httptest.NewRecorder()
	s.WriteListing(w, Listing{Path: "/f/", Upload: &UploadForm{
		Action:     "https://bucket.example:9000/b?x=1&y=2",
		Fields:     []Field{{Name: "key", Value: `f/"><script>${filename}`}, {Name: `a"b`, Value: "<&>"}},
		TypePrefix: `image/"`, Accept: "image/*", MaxSize: 2048,
	}}, true)
	body := w.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, `a"b`) {
		t.Fatalf("unescaped:\n%s", body)
	}
	order := []string{
		`<form method="post" action="https://bucket.example:9000/b?x=1&amp;y=2" enctype="multipart/form-data">`,
		`<input type="hidden" name="key" value="f/&#34;&gt;&lt;script&gt;${filename}">`,
		`<input type="hidden" name="a&#34;b" value="&lt;&amp;&gt;">`,
		`name="Content-Type" value="image/&#34;" required>`,
		`<input id="upload-file" type="file" name="file" required accept="image/*">`,
		"(at most 2.0 KiB;",
		`<button class="button" type="submit">Upload</button>`,
		"</form>",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(body[at:], want)
		if i < 0 {
			t.Fatalf("missing or out of order: %s\n%s", want, body)
		}
		at += i + len(want)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; form-action 'self' https://bucket.example:9000") {
		t.Errorf("CSP %q", csp)
	}
	for _, action := range []string{"/relative", "javascript:alert(1)", "https://u:p@bucket.example/", "https://bad host/", "ftp://bucket.example/", "https://a;b/"} {
		w := httptest.NewRecorder()
		s.WriteListing(w, Listing{Path: "/f/", Upload: &UploadForm{Action: action}}, true)
		if strings.Contains(w.Body.String(), "<form") || !strings.HasSuffix(w.Header().Get("Content-Security-Policy"), "form-action 'self'") {
			t.Errorf("action %q made a form", action)
		}
	}
	w = httptest.NewRecorder()
	s.WriteListing(w, Listing{Path: "/f/"}, true)
	if strings.Contains(w.Body.String(), "<form") {
		t.Error("a form without an Upload")
	}
}
