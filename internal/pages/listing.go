package pages

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Listing is one page of a folder listing. The caller gives every URL already
// percent-encoded (site-relative paths); the page escapes everything for HTML.
type Listing struct {
	Path    string // the folder's (decoded) path, the page's heading
	Crumbs  []Link // the folders from the site root down to Path; no URL: not a link
	Folders []Link
	Objects []Object
	// NextURL is the following page, FirstURL the first; both "" on a single page.
	NextURL, FirstURL string
	// Upload, when set, is a form that uploads a file into the folder; nil: none.
	Upload *UploadForm
}

// UploadForm is a form that sends one file straight to a bucket as multipart/form-data
// (a presigned POST), without scripts.
type UploadForm struct {
	// Action is the bucket's absolute http or https URL; any other makes no form.
	Action string
	// Fields are sent as hidden inputs, in this order, before the file.
	Fields []Field
	// TypePrefix, when set, adds a required text input named Content-Type, filled
	// with it, for the user to complete ("image/" to "image/png").
	TypePrefix string
	// Accept is the file input's accept attribute ("" for none).
	Accept  string
	MaxSize int64 // shown to the user
}

// Field is a form field.
type Field struct{ Name, Value string }

// formOrigin is the scheme://host[:port] of an upload form's action, for the page's
// form-action directive, or "" when the action is not an absolute http(s) URL with a
// plain host.
func formOrigin(action string) string {
	u, err := url.Parse(action)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	for _, r := range u.Host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}

// Link is a named link; an empty URL renders the name alone.
type Link struct{ Name, URL string }

// Object is a listed object.
type Object struct {
	Name, URL    string
	Size         int64
	LastModified time.Time
}

// listingCSS widens the card into a table for listings.
const listingCSS = `
body.listing { align-items: flex-start; }
.listing .card { max-width: 64rem; }
.crumbs { margin: 0 0 1rem; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; font-size: 0.9375rem; }
th, td { text-align: left; padding: 0.375rem 0.5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
td.name { overflow-wrap: anywhere; }
td.size, th.size { text-align: right; white-space: nowrap; }
td.date { white-space: nowrap; color: #59636e; }
a { color: var(--primary); }
.pager { margin-top: 1rem; display: flex; gap: 1rem; }
.empty { color: #59636e; }
.upload { margin-top: 1.5rem; border-top: 1px solid #d0d7de; }
.upload h2 { font-size: 1.125rem; }
.hint { color: #59636e; font-size: 0.875rem; }
`

// WriteListing sends a listing page (status 200) with the headers Write sends, and the
// body unless body is false (HEAD: the same headers, Content-Length included).
func (s *Set) WriteListing(w http.ResponseWriter, l Listing, body bool) {
	formAction := "'self'"
	if l.Upload != nil {
		if o := formOrigin(l.Upload.Action); o != "" {
			formAction += " " + o
		} else {
			l.Upload = nil
		}
	}
	page := renderListing(s.brand, l)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'; form-action "+formAction)
	h.Set("Referrer-Policy", "no-referrer")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(http.StatusOK)
	if body {
		w.Write([]byte(page))
	}
}

// renderListing writes a listing page the way render writes the others: every name is
// escaped with html.EscapeString, and only site-relative URLs become links (safeURL).
func renderListing(b Brand, l Listing) string {
	var s strings.Builder
	e := html.EscapeString
	heading := "Index of " + l.Path
	s.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<meta name=\"robots\" content=\"noindex\">\n<title>")
	s.WriteString(e(heading) + " · " + e(b.Title))
	s.WriteString("</title>\n<style>\n:root { --primary: " + b.Primary + "; --bg: " + b.Background + "; --text: " + b.Text + "; }\n")
	s.WriteString(styleCSS)
	s.WriteString(listingCSS)
	s.WriteString("</style>\n</head>\n<body class=\"listing\">\n<main class=\"card\" aria-labelledby=\"heading\">")
	if logo := safeURL(b.LogoURL); logo != "" {
		s.WriteString("\n<img class=\"logo\" src=\"" + e(logo) + "\" alt=\"" + e(b.Title) + "\">")
	} else {
		s.WriteString("\n<p class=\"brand\">" + e(b.Title) + "</p>")
	}
	s.WriteString("\n<h1 id=\"heading\">" + e(heading) + "</h1>\n<nav class=\"crumbs\" aria-label=\"Breadcrumbs\">")
	for i, c := range l.Crumbs {
		if i > 0 {
			s.WriteString(" ")
		}
		s.WriteString(link(c.Name, c.URL, ""))
	}
	s.WriteString("</nav>\n")
	if len(l.Folders) == 0 && len(l.Objects) == 0 {
		s.WriteString("<p class=\"empty\">Nothing here.</p>\n")
	} else {
		s.WriteString("<table>\n<thead><tr><th>Name</th><th class=\"size\">Size</th><th>Last modified (UTC)</th></tr></thead>\n<tbody>\n")
		for _, f := range l.Folders {
			s.WriteString("<tr><td class=\"name\">" + link(f.Name, f.URL, "") + "</td><td class=\"size\">-</td><td class=\"date\"></td></tr>\n")
		}
		for _, o := range l.Objects {
			s.WriteString("<tr><td class=\"name\">" + link(o.Name, o.URL, "") + "</td><td class=\"size\" title=\"" +
				strconv.FormatInt(o.Size, 10) + " bytes\">" + e(HumanSize(o.Size)) + "</td><td class=\"date\">")
			if !o.LastModified.IsZero() {
				t := o.LastModified.UTC()
				s.WriteString("<time datetime=\"" + t.Format(time.RFC3339) + "\">" + t.Format("2006-01-02 15:04") + "</time>")
			}
			s.WriteString("</td></tr>\n")
		}
		s.WriteString("</tbody>\n</table>\n")
	}
	if l.NextURL != "" || l.FirstURL != "" {
		s.WriteString("<nav class=\"pager\" aria-label=\"Pages\">")
		if l.FirstURL != "" {
			s.WriteString(link("First page", l.FirstURL, ""))
		}
		if l.NextURL != "" {
			s.WriteString(link("Next page", l.NextURL, "next"))
		}
		s.WriteString("</nav>\n")
	}
	if l.Upload != nil {
		renderUpload(&s, l.Upload)
	}
	s.WriteString("</main>\n</body>\n</html>\n")
	return s.String()
}

// renderUpload writes the upload form: the hidden fields first, then the type (when
// asked for), the file input named "file" last (S3 ignores fields after the file) and
// the submit button. Every attribute value is escaped.
func renderUpload(s *strings.Builder, f *UploadForm) {
	e := html.EscapeString
	s.WriteString("<section class=\"upload\" aria-labelledby=\"upload-heading\">\n<h2 id=\"upload-heading\">Upload a file here</h2>\n")
	s.WriteString("<form method=\"post\" action=\"" + e(f.Action) + "\" enctype=\"multipart/form-data\">\n")
	for _, fd := range f.Fields {
		s.WriteString("<input type=\"hidden\" name=\"" + e(fd.Name) + "\" value=\"" + e(fd.Value) + "\">\n")
	}
	if f.TypePrefix != "" {
		s.WriteString("<p><label for=\"upload-type\">Type of the file</label> <input id=\"upload-type\" type=\"text\" name=\"Content-Type\" value=\"" +
			e(f.TypePrefix) + "\" required> <span class=\"hint\">(must start with " + e(f.TypePrefix) + ")</span></p>\n")
	}
	s.WriteString("<p><label for=\"upload-file\">File</label> <input id=\"upload-file\" type=\"file\" name=\"file\" required")
	if f.Accept != "" {
		s.WriteString(" accept=\"" + e(f.Accept) + "\"")
	}
	s.WriteString("> <span class=\"hint\">(at most " + e(HumanSize(f.MaxSize)) + "; a file with the name of one already here replaces it)</span></p>\n")
	s.WriteString("<p><button class=\"button\" type=\"submit\">Upload</button></p>\n</form>\n</section>\n")
}

// link is an anchor to a site-relative URL, or the name alone when the URL is empty or
// not site-relative.
func link(name, u, rel string) string {
	e := html.EscapeString
	u = safeURL(u)
	if u == "" || !strings.HasPrefix(u, "/") {
		return e(name)
	}
	r := ""
	if rel != "" {
		r = " rel=\"" + rel + "\""
	}
	return "<a href=\"" + e(u) + "\"" + r + ">" + e(name) + "</a>"
}

// HumanSize writes a byte count in binary units with one decimal ("1.5 MiB"), and
// exactly below 1 KiB ("512 B").
func HumanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for v /= 1024; v >= 1024 && unit < len(units)-1; v /= 1024 {
		unit++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[unit]
}
