package config

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Builtin pages an error_pages entry may name.
var builtinPages = []string{"login", "denied", "logged_out"}

func validateLogin(c *collector, p string, l *LoginAuth, groups map[string]*KeyGroup) {
	if l.Issuer == "" {
		c.addf(p+".issuer", "required: the OpenID provider's issuer URL")
	} else {
		validateURL(c, p+".issuer", l.Issuer, true)
	}
	if l.ClientID == "" {
		c.addf(p+".client_id", "required")
	}
	if l.ClientSecret == "" {
		c.addf(p+".client_secret", "required: give it as ${ENV_VAR}")
	}
	validateLoginHosts(c, p, l)
	paths := map[string]string{}
	for _, f := range []struct{ name, v string }{{"login_path", l.LoginPath}, {"callback_path", l.CallbackPath}, {"logout_path", l.LogoutPath}} {
		if !strings.HasPrefix(f.v, "/") || strings.HasPrefix(f.v, "//") || strings.ContainsAny(f.v, "*?#\\ \r\n") {
			c.addf(p+"."+f.name, "want an absolute path such as %s, got %q", DefaultLoginPath, f.v)
		}
		if other, dup := paths[f.v]; dup {
			c.addf(p+"."+f.name, "same as %s: login, callback and logout need distinct paths", other)
		}
		paths[f.v] = f.name
	}
	if len(l.EmailDomains)+len(l.Emails)+len(l.Groups)+len(l.HostedDomains) == 0 {
		c.addf(p, "no access rule: set email_domains, emails, groups or hosted_domains (without one, anyone with an account at the provider gets in)")
	}
	for i, d := range l.EmailDomains {
		if d == "" || strings.ContainsAny(d, "@ /*") {
			c.addf(fmt.Sprintf("%s.email_domains[%d]", p, i), "want a domain such as example.com, got %q", d)
		}
	}
	for i, e := range l.Emails {
		if strings.Count(e, "@") != 1 || strings.ContainsAny(e, " *") {
			c.addf(fmt.Sprintf("%s.emails[%d]", p, i), "want an address such as ana@example.com, got %q", e)
		}
	}
	if l.KeyGroup == "" {
		c.addf(p+".key_group", "required: the key group whose public key verifies the issued cookies")
	} else if g, ok := groups[l.KeyGroup]; !ok {
		c.addf(p+".key_group", "no key group named %q in key_groups", l.KeyGroup)
	} else if g != nil && l.KeyID != "" {
		found := false
		for _, k := range g.Keys {
			found = found || (k != nil && k.ID == l.KeyID)
		}
		if !found {
			c.addf(p+".key_id", "key group %q has no key %q: the issued cookies could not be verified", l.KeyGroup, l.KeyID)
		}
	}
	if l.KeyID == "" {
		c.addf(p+".key_id", "required")
	}
	if l.PrivateKeyFile == "" {
		c.addf(p+".private_key_file", "required: the PEM private key that signs cookies")
	}
	if l.CookieLifetime < 60e9 || l.CookieLifetime > 30*24*3600e9 {
		c.addf(p+".cookie_lifetime", "must be between 1m and 720h")
	}
	if !strings.HasPrefix(l.CookiePath, "/") || strings.ContainsAny(l.CookiePath, ";\r\n ") {
		c.addf(p+".cookie_path", "want a path such as /, got %q", l.CookiePath)
	}
	if l.LandingPath != "" && (!strings.HasPrefix(l.LandingPath, "/") || strings.HasPrefix(l.LandingPath, "//") || strings.ContainsAny(l.LandingPath, "*?#\\ \r\n")) {
		c.addf(p+".landing_path", "want a path on this site such as /www/, got %q", l.LandingPath)
	}
	if strings.ContainsAny(l.CookieDomain, ";\r\n /") {
		c.addf(p+".cookie_domain", "want a domain such as example.com, got %q", l.CookieDomain)
	}
	if r := l.CookieResource; r != "" && !strings.HasPrefix(r, "http://") && !strings.HasPrefix(r, "https://") && !strings.HasPrefix(r, "http*://") {
		c.addf(p+".cookie_resource", "want a URL pattern such as https://www.example.com/www/*, got %q", r)
	}
	for i, h := range l.ReturnHosts {
		if h == "" || strings.ContainsAny(h, "/?#@ *\\") {
			c.addf(fmt.Sprintf("%s.return_hosts[%d]", p, i), "want a host name (with an optional :port), got %q", h)
		}
	}
}

// validateLoginHosts: the hosts a sign-in serves come from configuration (hosts, or the
// host of redirect_url), never from a request.
func validateLoginHosts(c *collector, p string, l *LoginAuth) {
	for i, h := range l.Hosts {
		if !validHostPort(h) {
			c.addf(fmt.Sprintf("%s.hosts[%d]", p, i), "want a host name with an optional :port (no scheme, path or wildcard), got %q", h)
		}
	}
	if l.RedirectURL == "" {
		if len(l.Hosts) == 0 {
			c.addf(p+".hosts", "required (or set redirect_url): the host names this sign-in serves; issued cookies and the provider's redirect_uri name these hosts, never the request's Host header")
		}
		return
	}
	validateURL(c, p+".redirect_url", l.RedirectURL, true)
	u, err := url.Parse(l.RedirectURL)
	if err != nil || u.Host == "" || len(l.Hosts) == 0 {
		return
	}
	if !slices.ContainsFunc(l.Hosts, func(h string) bool { return sameHost(h, u.Host, u.Scheme) }) {
		c.addf(p+".redirect_url", "its host %q is not one of hosts: the callback must be on a host this sign-in serves", u.Host)
	}
}

// validHostPort accepts "name" or "name:port" with a host name or IP literal and nothing
// that could act as a wildcard, path or credential.
func validHostPort(h string) bool {
	if h == "" || strings.ContainsAny(h, "/?#@*\\ \t\r\n%,;") {
		return false
	}
	if hp, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || hp == "" {
			return false
		}
		if strings.Contains(hp, ":") {
			return net.ParseIP(hp) != nil
		}
		return !strings.ContainsAny(hp, "[]")
	}
	if net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")) != nil {
		return true
	}
	return !strings.ContainsAny(h, ":[]")
}

// sameHost compares two host[:port] values as a browser would for scheme: case-blind,
// the scheme's default port implied.
func sameHost(a, b, scheme string) bool {
	return NormalHost(a, scheme) == NormalHost(b, scheme)
}

// NormalHost lower-cases a host[:port] and drops the scheme's default port, as browsers
// do in the Host header. It is the one normalisation of hosts for signing (the login
// authenticator) and verifying (the signed authenticator), so issued cookies always
// cover what is checked.
func NormalHost(h, scheme string) string {
	h = strings.ToLower(h)
	switch {
	case scheme == "https":
		return strings.TrimSuffix(h, ":443")
	case scheme == "http":
		return strings.TrimSuffix(h, ":80")
	}
	return h
}

func validateErrorPages(c *collector, p string, r *Route) {
	statuses := make([]int, 0, len(r.ErrorPages))
	for s := range r.ErrorPages {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	hasLogin := false
	if r.Auth != nil {
		for _, m := range r.Auth.Methods {
			hasLogin = hasLogin || (m != nil && m.Login != nil)
		}
	}
	for _, s := range statuses {
		ep := r.ErrorPages[s]
		sp := fmt.Sprintf("%s.%d", p, s)
		if s < 400 || s > 599 {
			c.addf(sp, "only error statuses (400-599) can be mapped, got %d", s)
		}
		if ep == nil {
			c.addf(sp, "empty entry: set page, builtin or login")
			continue
		}
		n := 0
		for _, set := range []bool{ep.Page != "", ep.Builtin != "", ep.Login} {
			if set {
				n++
			}
		}
		if n != 1 {
			c.addf(sp, "set exactly one of page, builtin and login")
		}
		if ep.Page != "" && (strings.HasPrefix(ep.Page, "/") || strings.Contains("/"+ep.Page+"/", "/../") || strings.Contains(ep.Page, "\\")) {
			c.addf(sp+".page", "want an object key such as public/403.html (no leading '/', no '..'), got %q", ep.Page)
		}
		if ep.Builtin != "" {
			oneOf(c, sp+".builtin", ep.Builtin, builtinPages...)
		}
		if ep.Login && !hasLogin {
			c.addf(sp+".login", "the route has no login authenticator to redirect to")
		}
		if ep.Status != 0 && (ep.Status < 200 || ep.Status > 599 || http.StatusText(ep.Status) == "") {
			c.addf(sp+".status", "not an HTTP status: %d", ep.Status)
		}
		if ep.CacheSeconds < 0 {
			c.addf(sp+".cache_seconds", "must not be negative")
		}
	}
}

// IsHexColor reports whether s is a CSS hex colour, #rgb or #rrggbb: the only form
// pages.colour settings may take (and so safe to put in a style sheet).
func IsHexColor(s string) bool { return hexColor.MatchString(s) }

func validatePages(c *collector, p string, pg *Pages) {
	for _, f := range []struct{ name, v string }{{"primary_color", pg.PrimaryColor}, {"background_color", pg.BackgroundColor}, {"text_color", pg.TextColor}} {
		if f.v != "" && !hexColor.MatchString(f.v) {
			c.addf(p+"."+f.name, "want a hex colour such as #1a73e8, got %q", f.v)
		}
	}
	if pg.LogoURL != "" && !strings.HasPrefix(pg.LogoURL, "/") {
		validateURL(c, p+".logo_url", pg.LogoURL, false)
	}
	if strings.HasPrefix(pg.LogoURL, "//") {
		c.addf(p+".logo_url", "want https://... or a path on this site, got %q", pg.LogoURL)
	}
}
