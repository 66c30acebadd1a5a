package upload

import "testing"

// TestRegression_StarRangeAdmitsSVG: content_types [image/*] admitted image/svg+xml,
// whose script then ran in gatehouse's origin when the object was served. A type/*
// range now admits no type that can run script; an exact entry still does.
func TestRegression_StarRangeAdmitsSVG(t *testing.T) {
	for _, c := range []struct {
		ranges []string
		mt     string
		want   bool
	}{
		{nil, "text/html", true}, // no content_types: any (served sandboxed)
		{[]string{"image/*"}, "image/png", true},
		{[]string{"IMAGE/*"}, "image/png", true},
		{[]string{"image/*"}, "image/svg+xml", false},
		{[]string{"image/*", "image/svg+xml"}, "image/svg+xml", true},
		{[]string{"image/SVG+XML"}, "image/svg+xml", true},
		{[]string{"text/*"}, "text/plain", true},
		{[]string{"text/*"}, "text/html", false},
		{[]string{"text/*"}, "text/javascript", false},
		{[]string{"text/*"}, "text/xml", false},
		{[]string{"text/*"}, "text/xsl", false},
		{[]string{"application/*"}, "application/pdf", true},
		{[]string{"application/*"}, "application/xhtml+xml", false},
		{[]string{"application/*"}, "application/xml", false},
		{[]string{"application/*"}, "application/javascript", false},
		{[]string{"application/*"}, "application/ecmascript", false},
		{[]string{"application/*"}, "application/vnd.foo+xml", false},
		{[]string{"image/*"}, "image/", false},
		{[]string{"image/*"}, "imagex/png", false},
		{[]string{"image/png"}, "image/jpeg", false},
	} {
		if got := MatchType(c.ranges, c.mt); got != c.want {
			t.Errorf("MatchType(%q, %q) = %v, want %v", c.ranges, c.mt, got, c.want)
		}
		if got := (Limits{ContentTypes: c.ranges}).TypeAllowed(c.mt); got != c.want {
			t.Errorf("TypeAllowed(%q, %q) = %v, want %v", c.ranges, c.mt, got, c.want)
		}
	}
	for _, mt := range []string{"text/x-html", "TEXT/HTML", "text/vbscript", "nonsense"} {
		if !RunsScript(mt) {
			t.Errorf("RunsScript(%q) = false", mt)
		}
	}
	for _, mt := range []string{"image/png", "image/jpeg", "video/mp4", "application/octet-stream", "text/plain", "text/csv", "application/json"} {
		if RunsScript(mt) {
			t.Errorf("RunsScript(%q) = true", mt)
		}
	}
}
