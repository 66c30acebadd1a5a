package config

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ResponseHeaders is a route's response headers policy, modelled on CloudFront's response
// headers policies: security headers, custom headers added or replaced, headers removed,
// Content-Disposition: attachment for chosen paths, which origin metadata is passed on,
// and whether object responses are kept out of shared caches.
//
// Security headers go on every response of the route; everything else applies to
// responses that carry an object (200, 206, 304, and HEAD). The gateway applies them in
// this order: origin metadata, remove, content_disposition, custom, cache_control_private.
type ResponseHeaders struct {
	// CacheControlPrivate marks object responses "Cache-Control: private" (merged with the
	// origin's directives). Nil in the file: true unless the route is public; after
	// defaults it is never nil.
	CacheControlPrivate *bool            `yaml:"cache_control_private"`
	Security            *SecurityHeaders `yaml:"security"`
	Custom              []*CustomHeader  `yaml:"custom"`
	// Remove names headers taken off object responses.
	Remove []string `yaml:"remove"`
	// ContentDisposition rules are tried in order; the first whose path matches wins.
	ContentDisposition []*DispositionRule `yaml:"content_disposition"`
	// OriginMetadata lists the x-amz-meta-* headers passed on to clients ("x-amz-meta-*":
	// all of them). Nothing else the origin sends beyond the documented object headers
	// ever reaches a client.
	OriginMetadata []string `yaml:"origin_metadata"`
}

// SecurityHeaders are CloudFront's SecurityHeadersConfig. X-Content-Type-Options: nosniff
// is not among them because gatehouse sends it on every response. X-XSS-Protection is
// left out on purpose: browsers removed the filter it controlled, and enabling it could
// open leaks in the ones that kept it.
type SecurityHeaders struct {
	StrictTransportSecurity *HSTS `yaml:"strict_transport_security"`
	// FrameOptions is DENY or SAMEORIGIN; empty: not sent.
	FrameOptions string `yaml:"frame_options"`
	// ReferrerPolicy is one of ReferrerPolicies; empty: not sent.
	ReferrerPolicy string `yaml:"referrer_policy"`
	// ContentSecurityPolicy is sent as written; empty: not sent.
	ContentSecurityPolicy string `yaml:"content_security_policy"`
}

// HSTS is the Strict-Transport-Security header.
type HSTS struct {
	// MaxAge is whole seconds; zero in the file: DefaultHSTSMaxAge.
	MaxAge            time.Duration `yaml:"max_age"`
	IncludeSubdomains bool          `yaml:"include_subdomains"`
	Preload           bool          `yaml:"preload"`
}

// CustomHeader is added to object responses. With Override false (the default) a header
// of the same name the origin sent is kept; with true it is replaced.
type CustomHeader struct {
	Name     string `yaml:"name"`
	Value    string `yaml:"value"`
	Override bool   `yaml:"override"`
}

// DispositionRule sends "Content-Disposition: attachment" for object responses whose
// request path matches Path, replacing the origin's Content-Disposition.
type DispositionRule struct {
	// Path is a pattern with the syntax of a route's path, matched against the cleaned
	// request path.
	Path string `yaml:"path"`
	// Filename is "key" (the default: the object key's last segment) or "none".
	Filename string `yaml:"filename"`
}

// Defaults and fixed values of response header policies.
const (
	DefaultHSTSMaxAge = 365 * 24 * time.Hour
	// MinHSTSPreloadMaxAge is what browsers' preload lists require.
	MinHSTSPreloadMaxAge    = 365 * 24 * time.Hour
	DispositionFilenameKey  = "key"
	DispositionFilenameNone = "none"
	maxHeaderValue          = 4096
)

// ReferrerPolicies are the values Referrer-Policy accepts (W3C Referrer Policy).
var ReferrerPolicies = []string{"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}

// fixedHeaders may be neither added nor removed by a policy: they describe the body, its
// framing or its freshness, belong to another part of gatehouse, or are sent always.
// The value says why, for the error message.
var fixedHeaders = map[string]string{
	"Content-Length":         "describes the body",
	"Content-Range":          "describes the body",
	"Content-Encoding":       "describes the body",
	"Transfer-Encoding":      "is connection framing",
	"Connection":             "is connection framing",
	"Keep-Alive":             "is connection framing",
	"Te":                     "is connection framing",
	"Trailer":                "is connection framing",
	"Upgrade":                "is connection framing",
	"Proxy-Connection":       "is connection framing",
	"Proxy-Authenticate":     "is connection framing",
	"Proxy-Authorization":    "is connection framing",
	"Date":                   "is set by the HTTP server",
	"Age":                    "tells caches how old a copy is",
	"Vary":                   "tells caches which request headers select a variant",
	"X-Request-Id":           "names the access log line",
	"X-Content-Type-Options": "is always nosniff",
	"Www-Authenticate":       "is set by the route's authenticators",
	"Location":               "is set by gatehouse's redirects",
	"Allow":                  "is set by gatehouse from the route's methods",
	"Set-Cookie":             "would attach a cookie to objects that caches may keep",
}

// securityNames are the headers the security section owns.
var securityNames = map[string]string{
	"Strict-Transport-Security": "strict_transport_security",
	"X-Frame-Options":           "frame_options",
	"Referrer-Policy":           "referrer_policy",
	"Content-Security-Policy":   "content_security_policy",
}

// CacheControlPrivate reports whether the route's object responses are marked private.
func (r *Route) CacheControlPrivate() bool {
	if r.ResponseHeaders == nil || r.ResponseHeaders.CacheControlPrivate == nil {
		return !r.Public
	}
	return *r.ResponseHeaders.CacheControlPrivate
}

// applyResponseHeaderDefaults fills the route's response_headers defaults: private
// unless public, HSTS max age, disposition filename from the key.
func (r *Route) applyResponseHeaderDefaults() {
	rh := r.ResponseHeaders
	if rh == nil {
		return
	}
	if rh.CacheControlPrivate == nil {
		p := !r.Public
		rh.CacheControlPrivate = &p
	}
	if s := rh.Security; s != nil && s.StrictTransportSecurity != nil && s.StrictTransportSecurity.MaxAge == 0 {
		s.StrictTransportSecurity.MaxAge = DefaultHSTSMaxAge
	}
	for _, d := range rh.ContentDisposition {
		if d != nil && d.Filename == "" {
			d.Filename = DispositionFilenameKey
		}
	}
}

func validateResponseHeaders(c *collector, p string, rh *ResponseHeaders) {
	owned := map[string]string{} // canonical name -> field path that sets it
	if s := rh.Security; s != nil {
		sp := p + ".security"
		if h := s.StrictTransportSecurity; h != nil {
			hp := sp + ".strict_transport_security"
			switch {
			case h.MaxAge < time.Second || h.MaxAge%time.Second != 0:
				c.addf(hp+".max_age", "must be a positive whole number of seconds, such as 8760h, got %s", h.MaxAge)
			case h.Preload && h.MaxAge < MinHSTSPreloadMaxAge:
				c.addf(hp+".max_age", "preload needs at least a year (8760h), got %s", h.MaxAge)
			}
			if h.Preload && !h.IncludeSubdomains {
				c.addf(hp+".preload", "preload needs include_subdomains: true")
			}
			owned["Strict-Transport-Security"] = hp
		}
		if s.FrameOptions != "" {
			oneOf(c, sp+".frame_options", s.FrameOptions, "DENY", "SAMEORIGIN")
			owned["X-Frame-Options"] = sp + ".frame_options"
		}
		if s.ReferrerPolicy != "" {
			oneOf(c, sp+".referrer_policy", s.ReferrerPolicy, ReferrerPolicies...)
			owned["Referrer-Policy"] = sp + ".referrer_policy"
		}
		if s.ContentSecurityPolicy != "" {
			if msg := badHeaderValue(s.ContentSecurityPolicy); msg != "" {
				c.addf(sp+".content_security_policy", "%s", msg)
			}
			owned["Content-Security-Policy"] = sp + ".content_security_policy"
		}
	}
	removed := map[string]string{}
	for i, name := range rh.Remove {
		ip := fmt.Sprintf("%s.remove[%d]", p, i)
		canon, ok := headerNameUsable(c, ip, name)
		if !ok {
			continue
		}
		if field, dup := removed[canon]; dup {
			c.addf(ip, "%s is already removed by %s", canon, field)
		} else if field, set := owned[canon]; set {
			c.addf(ip, "%s is set by %s; remove that instead", canon, field)
		}
		removed[canon] = ip
	}
	for i, h := range rh.Custom {
		ip := fmt.Sprintf("%s.custom[%d]", p, i)
		if h == nil {
			c.addf(ip, "empty entry: want name and value")
			continue
		}
		if msg := badHeaderValue(h.Value); msg != "" {
			c.addf(ip+".value", "%s", msg)
		}
		canon, ok := headerNameUsable(c, ip+".name", h.Name)
		if !ok {
			continue
		}
		switch {
		case canon == "Content-Disposition":
			c.addf(ip+".name", "use content_disposition for Content-Disposition")
		case securityNames[canon] != "":
			c.addf(ip+".name", "%s is set with security.%s", canon, securityNames[canon])
		case owned[canon] != "":
			c.addf(ip+".name", "%s is already set by %s", canon, owned[canon])
		case removed[canon] != "":
			c.addf(ip+".name", "%s is also removed by %s: do one or the other", canon, removed[canon])
		}
		owned[canon] = ip
	}
	for i, d := range rh.ContentDisposition {
		ip := fmt.Sprintf("%s.content_disposition[%d]", p, i)
		if d == nil {
			c.addf(ip, "empty entry: want path")
			continue
		}
		validatePattern(c, ip+".path", d.Path)
		oneOf(c, ip+".filename", d.Filename, DispositionFilenameKey, DispositionFilenameNone)
	}
	seen := map[string]bool{}
	for i, name := range rh.OriginMetadata {
		ip := fmt.Sprintf("%s.origin_metadata[%d]", p, i)
		low := strings.ToLower(name)
		rest, ok := strings.CutPrefix(low, "x-amz-meta-")
		switch {
		case !ok:
			c.addf(ip, "only user metadata (x-amz-meta-NAME, or x-amz-meta-* for all) can be passed on, got %q", name)
		case rest != "*" && !isToken(rest):
			c.addf(ip, "not a valid header name: %q", name)
		case seen[low]:
			c.addf(ip, "duplicate %q", name)
		}
		seen[low] = true
	}
}

// headerNameUsable checks a header name given to remove or custom, returning its
// canonical form.
func headerNameUsable(c *collector, p, name string) (string, bool) {
	if !isToken(name) {
		c.addf(p, "not a valid header name: %q", name)
		return "", false
	}
	canon := http.CanonicalHeaderKey(name)
	switch low := strings.ToLower(name); {
	case fixedHeaders[canon] != "":
		c.addf(p, "%s cannot be changed by a policy: it %s", canon, fixedHeaders[canon])
		return "", false
	case strings.HasPrefix(low, "access-control-"):
		c.addf(p, "%s is set by the route's cors section", canon)
		return "", false
	case strings.HasPrefix(low, "x-amz-"):
		c.addf(p, "x-amz-* headers are never sent unless listed in origin_metadata")
		return "", false
	}
	return canon, true
}

// isToken reports whether s is an RFC 9110 token (a header field name). Hand-written
// because the checker in golang.org/x/net/http/httpguts would be gatehouse's only use
// of that module.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// badHeaderValue says what is wrong with a header value from the file, or "" if nothing:
// empty, too long, control characters (which could split the response) or surrounding
// white space.
func badHeaderValue(v string) string {
	switch {
	case v == "":
		return "must not be empty"
	case len(v) > maxHeaderValue:
		return fmt.Sprintf("longer than %d bytes", maxHeaderValue)
	case strings.TrimSpace(v) != v:
		return "must not start or end with white space"
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return fmt.Sprintf("control character %q at byte %d", b, i)
		}
	}
	return ""
}

// validatePattern checks a path pattern written like a route's path.
func validatePattern(c *collector, p, pat string) {
	switch {
	case pat == "":
		c.addf(p, "required")
	case pat != "*" && !strings.HasPrefix(pat, "/") && !strings.HasPrefix(pat, "*"):
		c.addf(p, "must start with '/' or '*', got %q", pat)
	}
}
