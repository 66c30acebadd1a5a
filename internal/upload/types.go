package upload

import "strings"

// MatchType reports whether a media type (no parameters) is one of ranges, a route's
// content_types: exact media types and "type/*" ranges, compared without regard to
// case; empty ranges allow any type. A range "type/*" never matches a type that a
// browser can run script in (RunsScript: image/svg+xml under image/*, text/html under
// text/*): such a type is allowed only when listed exactly. Every way of writing
// (PUT, presigned uploads, Uppy) decides with this one function.
func MatchType(ranges []string, mt string) bool {
	if len(ranges) == 0 {
		return true
	}
	for _, r := range ranges {
		if strings.EqualFold(r, mt) {
			return true
		}
		if main, ok := strings.CutSuffix(r, "/*"); ok && len(mt) > len(main)+1 &&
			strings.EqualFold(mt[:len(main)+1], main+"/") && !RunsScript(mt) {
			return true
		}
	}
	return false
}

// RunsScript reports whether a browser may run script in a document of media type mt
// (no parameters) opened from gatehouse's origin: HTML and XHTML, SVG and every other
// XML type (an XML document can be XHTML or SVG, or be styled by XSLT), XSL itself, and
// script types (JavaScript, ECMAScript, VBScript). Judged by the subtype's words rather
// than a list, so that a variant (text/x-html, application/vnd.foo+xml) is caught too.
func RunsScript(mt string) bool {
	_, sub, ok := strings.Cut(strings.ToLower(mt), "/")
	if !ok {
		return true // not a media type: assume the worst
	}
	for _, w := range []string{"html", "xml", "xsl", "script"} {
		if strings.Contains(sub, w) {
			return true
		}
	}
	return false
}
