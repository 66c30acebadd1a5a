package gateway

import (
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// ResponseHeaders is a route's compiled response headers policy (config.ResponseHeaders).
// It is immutable once built. Every route has one, so that Private holds for routes
// without a response_headers section too.
type ResponseHeaders struct {
	// Private: object responses get Cache-Control: private, merged with the origin's
	// directives (see PrivateCacheControl).
	Private bool
	// security holds the security headers, set on every response of the route.
	security http.Header
	custom   []config.CustomHeader // names canonical
	remove   []string              // names as written
	dispose  []disposition
	// metadata are the allowed user metadata names (lower case, without x-amz-meta-);
	// allMetadata: x-amz-meta-* was listed.
	metadata    []string
	allMetadata bool
	// sandbox: object responses get Content-Security-Policy: sandbox (uploadSandbox).
	sandbox bool
}

// uploadSandbox is the Content-Security-Policy of the objects of a route that accepts
// uploads (its methods include PUT, or upload.presign is set) and whose
// response_headers.security sets no content_security_policy of its own: what a client
// uploaded (HTML, SVG) is a document from gatehouse's origin, and sandbox keeps it from
// running script there or reaching that origin's cookies and storage. Images, video
// and downloads are unaffected.
const uploadSandbox = "sandbox"

type disposition struct {
	pattern  route.Pattern
	filename bool
}

// newResponseHeaders compiles a validated route's policy.
func newResponseHeaders(rc *config.Route) *ResponseHeaders {
	p := &ResponseHeaders{Private: rc.CacheControlPrivate(), security: http.Header{}}
	rh := rc.ResponseHeaders
	p.sandbox = (slices.Contains(rc.Methods, http.MethodPut) || rc.Upload != nil && rc.Upload.Presign != nil) &&
		(rh == nil || rh.Security == nil || rh.Security.ContentSecurityPolicy == "")
	if rh == nil {
		return p
	}
	if s := rh.Security; s != nil {
		if h := s.StrictTransportSecurity; h != nil {
			v := "max-age=" + strconv.FormatInt(int64(h.MaxAge/time.Second), 10)
			if h.IncludeSubdomains {
				v += "; includeSubDomains"
			}
			if h.Preload {
				v += "; preload"
			}
			p.security.Set("Strict-Transport-Security", v)
		}
		set := func(k, v string) {
			if v != "" {
				p.security.Set(k, v)
			}
		}
		set("X-Frame-Options", s.FrameOptions)
		set("Referrer-Policy", s.ReferrerPolicy)
		set("Content-Security-Policy", s.ContentSecurityPolicy)
	}
	for _, c := range rh.Custom {
		p.custom = append(p.custom, config.CustomHeader{Name: http.CanonicalHeaderKey(c.Name), Value: c.Value, Override: c.Override})
	}
	// Kept as written, for explain; Header.Del canonicalizes.
	p.remove = append(p.remove, rh.Remove...)
	for _, d := range rh.ContentDisposition {
		pat, _ := route.Compile(d.Path) // validated
		p.dispose = append(p.dispose, disposition{pattern: pat, filename: d.Filename != config.DispositionFilenameNone})
	}
	for _, name := range rh.OriginMetadata {
		n := strings.TrimPrefix(strings.ToLower(name), "x-amz-meta-")
		if n == "*" {
			p.allMetadata = true
		} else {
			p.metadata = append(p.metadata, n)
		}
	}
	return p
}

// Security adds the route's security headers to h. They go on every response of the
// route, errors and redirects included; built-in pages then replace Content-Security-
// Policy, X-Frame-Options and Referrer-Policy with their own stricter ones. Nil-safe.
func (p *ResponseHeaders) Security(h http.Header) {
	if p == nil {
		return
	}
	for k, v := range p.security {
		h[k] = v
	}
}

// Object applies the policy to the headers of a response carrying an object (200, 206,
// 304, HEAD), after the origin's headers were set: allowed origin metadata, then
// remove, content_disposition, custom, the Cache-Control private merge, so nothing
// earlier can make a private route's object cacheable by a shared cache, and last the
// sandbox of an upload route (uploadSandbox).
// urlPath is the cleaned request path, key the object key. Nil-safe.
func (p *ResponseHeaders) Object(h http.Header, urlPath, key string, meta map[string]string) {
	if p == nil {
		return
	}
	if p.allMetadata {
		for k, v := range meta {
			h.Set("X-Amz-Meta-"+k, v)
		}
	} else {
		for _, k := range p.metadata {
			if v, ok := meta[k]; ok {
				h.Set("X-Amz-Meta-"+k, v)
			}
		}
	}
	for _, k := range p.remove {
		h.Del(k)
	}
	for _, d := range p.dispose {
		if d.pattern.Match(urlPath) {
			h.Set("Content-Disposition", attachment(key, d.filename))
			break
		}
	}
	for _, c := range p.custom {
		if c.Override || len(h.Values(c.Name)) == 0 {
			h.Set(c.Name, c.Value)
		}
	}
	if p.Private {
		h.Set("Cache-Control", PrivateCacheControl(h.Get("Cache-Control")))
	}
	if p.sandbox {
		h.Set("Content-Security-Policy", uploadSandbox)
	}
}

// objectHeaders carries a route's policy and one request's path and key to where the
// object response is written.
type objectHeaders struct {
	policy    *ResponseHeaders
	path, key string
}

// apply runs the policy on h, after the object's own headers were set from info.
func (o objectHeaders) apply(h http.Header, info origin.Info) {
	o.policy.Object(h, o.path, o.key, info.Metadata)
}

// Describe returns what Object adds to a response whose origin sent no headers, the
// headers it removes, and the user metadata it passes on ("*": all), for explain.
func (p *ResponseHeaders) Describe(urlPath, key string) (added http.Header, removed, metadata []string) {
	added = http.Header{}
	p.Object(added, urlPath, key, nil)
	metadata = slices.Clone(p.metadata)
	if p.allMetadata {
		metadata = []string{"*"}
	}
	for i, m := range metadata {
		metadata[i] = "x-amz-meta-" + m
	}
	return added, slices.Clone(p.remove), metadata
}

// attachment is a Content-Disposition: attachment value, naming the key's last segment
// as the file name when withName is set (RFC 6266; mime.FormatMediaType encodes
// non-ASCII names in the filename* form of RFC 2231).
func attachment(key string, withName bool) string {
	if !withName {
		return "attachment"
	}
	name := path.Base(key)
	if name == "." || name == "/" || name == "" {
		return "attachment"
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// PrivateCacheControl merges "private" into an origin's Cache-Control value: "" becomes
// "private"; "max-age=60" becomes "private, max-age=60"; public, s-maxage and
// proxy-revalidate (which only speak to shared caches) are dropped, and an existing
// private (also private="field", which would leave the rest shareable) is replaced.
// Every other directive is kept as written. The result always starts with "private"
// and merging it again changes nothing.
//
// Hand-written because the directive lists of the Cache-Control parsers around (the
// cache package's included) are for reading ages, not for rewriting a value.
func PrivateCacheControl(v string) string {
	var b strings.Builder
	b.WriteString("private")
	for _, d := range splitDirectives(v) {
		name, _, _ := strings.Cut(d, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "public", "private", "s-maxage", "proxy-revalidate":
			continue
		}
		b.WriteString(", ")
		b.WriteString(d)
	}
	return b.String()
}

// splitDirectives splits a Cache-Control value at commas outside quoted strings,
// trimming each directive and dropping empty ones. A quoted string left open runs to
// the end of the value.
func splitDirectives(v string) []string {
	var out []string
	start, quoted := 0, false
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			add(v[start:i])
			start = i + 1
		}
	}
	if start <= len(v) {
		add(v[start:])
	}
	return out
}
