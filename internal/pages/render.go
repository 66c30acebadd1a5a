package pages

import (
	"html"
	"strings"
)

// render writes a page. The pages are fixed and small, so they are built with
// html.EscapeString rather than html/template: html/template's reflection makes the
// linker keep every exported method of every linked type, which tripled the size of the
// binary. Every value from configuration or from the caller is escaped for its context
// here: text and double-quoted attributes (EscapeString escapes <, >, &, ' and "). The
// colours are validated hex (config) before they reach the style sheet, and the URLs
// are gatehouse's own login URLs or a validated https:// or site-relative logo URL.
func render(b Brand, c Content) string {
	var s strings.Builder
	e := html.EscapeString
	s.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<meta name=\"robots\" content=\"noindex\">\n<title>")
	s.WriteString(e(c.Heading) + " · " + e(b.Title))
	s.WriteString("</title>\n<style>\n:root { --primary: " + b.Primary + "; --bg: " + b.Background + "; --text: " + b.Text + "; }\n")
	s.WriteString(styleCSS)
	s.WriteString("\n</style>\n</head>\n<body>\n<main class=\"card\" aria-labelledby=\"heading\">")
	if logo := safeURL(b.LogoURL); logo != "" {
		s.WriteString("\n<img class=\"logo\" src=\"" + e(logo) + "\" alt=\"" + e(b.Title) + "\">")
	} else {
		s.WriteString("\n<p class=\"brand\">" + e(b.Title) + "</p>")
	}
	s.WriteString("\n<h1 id=\"heading\">" + e(c.Heading) + "</h1>\n<p>" + e(c.Message) + "</p>")
	if action := safeURL(c.ActionURL); action != "" {
		s.WriteString("\n<p><a class=\"button\" href=\"" + e(action) + "\">" + e(c.ActionLabel) + "</a></p>")
	}
	if c.Detail != "" {
		s.WriteString("\n<p class=\"detail\">" + e(c.Detail) + "</p>")
	}
	s.WriteString("\n</main>\n</body>\n</html>\n")
	return s.String()
}

// safeURL passes a site-relative path or an http(s) URL and drops anything else (such as
// javascript:), as html/template would have.
func safeURL(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, "/\\") ||
		strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		return u
	}
	return ""
}
