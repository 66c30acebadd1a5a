// Package cors implements a route's Cross-Origin Resource Sharing policy. Preflight
// requests (OPTIONS with Origin and Access-Control-Request-Method) are answered here,
// before any authenticator runs and without contacting the origin: browsers never send
// credentials on a preflight, so requiring them would break every cross-origin fetch
// with an Authorization header (seed 004). Actual requests get the CORS response headers
// whatever their status, so that a page can read a 401 or 403.
package cors

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// Policy is a compiled CORS configuration.
type Policy struct {
	anyOrigin   bool
	origins     map[string]bool // exact, lower-case scheme and host
	methods     []string
	methodsHdr  string
	headers     map[string]bool // lower-case
	headersHdr  string
	exposeHdr   string
	maxAge      string
	credentials bool
}

// New compiles a validated configuration.
func New(c *config.CORS) *Policy {
	p := &Policy{origins: map[string]bool{}, headers: map[string]bool{}, credentials: c.AllowCredentials}
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			p.anyOrigin = true
			continue
		}
		p.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	p.methods = slices.Clone(c.AllowedMethods)
	p.methodsHdr = strings.Join(p.methods, ", ")
	canon := make([]string, 0, len(c.AllowedHeaders))
	for _, h := range c.AllowedHeaders {
		p.headers[strings.ToLower(h)] = true
		canon = append(canon, http.CanonicalHeaderKey(h))
	}
	p.headersHdr = strings.Join(canon, ", ")
	p.exposeHdr = strings.Join(c.ExposeHeaders, ", ")
	p.maxAge = strconv.Itoa(int(c.MaxAge.Seconds()))
	return p
}

// IsPreflight reports whether r is a CORS preflight request.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func (p *Policy) allowOrigin(origin string) bool {
	return origin != "" && (p.anyOrigin || p.origins[strings.ToLower(origin)])
}

// varyOrigin reports whether responses depend on the Origin header, in which case every
// response (even one to a request without Origin) must say so, or a shared cache could
// hand one origin's answer to another.
func (p *Policy) varyOrigin() bool { return !p.anyOrigin || p.credentials }

// Preflight answers a preflight request into the response headers h. It returns "" when
// the request is allowed (answer 204 with h), or the reason it was refused (answer 403;
// h then carries no Access-Control-Allow-* headers).
func (p *Policy) Preflight(h http.Header, r *http.Request) string {
	h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := r.Header.Get("Origin")
	if !p.allowOrigin(origin) {
		return "cors: origin not allowed"
	}
	if !slices.Contains(p.methods, r.Header.Get("Access-Control-Request-Method")) {
		return "cors: method not allowed"
	}
	for _, f := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" && !p.headers[f] && !safelisted(f) {
			return "cors: header " + f + " not allowed"
		}
	}
	p.setOrigin(h, origin)
	h.Set("Access-Control-Allow-Methods", p.methodsHdr)
	if p.headersHdr != "" {
		h.Set("Access-Control-Allow-Headers", p.headersHdr)
	}
	h.Set("Access-Control-Max-Age", p.maxAge)
	return ""
}

// Apply adds the CORS headers for an actual (non-preflight) request.
func (p *Policy) Apply(h http.Header, r *http.Request) {
	if p.varyOrigin() {
		h.Add("Vary", "Origin")
	}
	origin := r.Header.Get("Origin")
	if !p.allowOrigin(origin) {
		return
	}
	p.setOrigin(h, origin)
	if p.exposeHdr != "" {
		h.Set("Access-Control-Expose-Headers", p.exposeHdr)
	}
}

func (p *Policy) setOrigin(h http.Header, origin string) {
	if p.anyOrigin && !p.credentials {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// safelisted request headers never need to be allowed explicitly (Fetch standard).
func safelisted(h string) bool {
	switch h {
	case "accept", "accept-language", "content-language", "content-type", "range":
		return true
	}
	return false
}
