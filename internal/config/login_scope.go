package config

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// A login authenticator is identified by its login path: routes whose login blocks name
// the same path share one authenticator (the gateway refuses two different blocks on one
// path). loginUse is one of them with the routes it protects, in file order.
type loginUse struct {
	cfg    *LoginAuth
	field  string // field path of its first block
	routes []int
	// conflicts are blocks on the same login path with other settings.
	conflicts []string
}

func (c *Config) logins() []*loginUse {
	var out []*loginUse
	byPath := map[string]*loginUse{}
	for i, r := range c.Routes {
		if r == nil || r.Auth == nil {
			continue
		}
		for j, m := range r.Auth.Methods {
			if m == nil || m.Login == nil {
				continue
			}
			u := byPath[m.Login.LoginPath]
			if u != nil && !reflect.DeepEqual(u.cfg, m.Login) {
				u.conflicts = append(u.conflicts, fmt.Sprintf("routes[%d].auth.methods[%d].login", i, j))
			}
			if u == nil {
				u = &loginUse{cfg: m.Login, field: fmt.Sprintf("routes[%d].auth.methods[%d].login", i, j)}
				byPath[m.Login.LoginPath] = u
				out = append(out, u)
			}
			if !slices.Contains(u.routes, i) {
				u.routes = append(u.routes, i)
			}
		}
	}
	return out
}

// applyLoginDefaults gives every login block the defaults that depend on the routes it
// protects: cookie_path (the longest folder prefix of those routes' paths, so the issued
// cookies cover what this sign-in protects and not the rest of the site) and
// landing_path (the first path it protects). Every block of one authenticator gets the
// same values. It runs after the per-route defaults.
func (c *Config) applyLoginDefaults() {
	for _, u := range c.logins() {
		var dirs []string
		for _, i := range u.routes {
			dirs = append(dirs, patternFolder(c.Routes[i].Path))
		}
		// Cookie paths and signed resources are matched against the path as the browser
		// sends it, percent-escaped; routes against the decoded path.
		scope := escapePath(commonFolder(dirs))
		landing := escapePath(patternLanding(c.Routes[u.routes[0]].Path))
		for _, i := range u.routes {
			for _, m := range c.Routes[i].Auth.Methods {
				if m == nil || m.Login == nil || m.Login.LoginPath != u.cfg.LoginPath {
					continue
				}
				if m.Login.CookiePath == "" {
					m.Login.CookiePath = scope
				}
				if m.Login.LandingPath == "" {
					m.Login.LandingPath = landing
				}
			}
		}
	}
}

func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// patternFolder is the folder a route pattern lies in: its text before the first
// wildcard, up to and including the last '/'. "/www/*" -> "/www/", "/docs" -> "/".
func patternFolder(p string) string {
	lit := route.LiteralPrefix(p)
	if i := strings.LastIndexByte(lit, '/'); i >= 0 {
		return lit[:i+1]
	}
	return "/"
}

// commonFolder is the longest folder prefix shared by every folder in dirs.
func commonFolder(dirs []string) string {
	if len(dirs) == 0 {
		return "/"
	}
	p := dirs[0]
	for _, d := range dirs[1:] {
		n := 0
		for n < len(p) && n < len(d) && p[n] == d[n] {
			n++
		}
		p = p[:n]
	}
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return "/"
}

// patternLanding is the first page a route pattern serves: an exact path itself, else
// its folder ("/www/*" -> "/www/").
func patternLanding(p string) string {
	if !strings.ContainsAny(p, "*?") && strings.HasPrefix(p, "/") {
		return p
	}
	return patternFolder(p)
}

// validateLoginScopes checks what a login authenticator's cookies open across the
// routes: the landing page is served by a route, and no cookie issued by one sign-in
// opens a route guarded by rules the user did not pass there (another login with other
// rules, or a signed authenticator, trusting the same signing key).
func validateLoginScopes(c *collector, cfg *Config) {
	for _, u := range cfg.logins() {
		l := u.cfg
		for _, f := range u.conflicts {
			c.addf(f+".login_path", "%s is already the login path of %s, whose settings differ: give each sign-in its own login_path, callback_path and logout_path (identical blocks share one sign-in)", l.LoginPath, u.field)
		}
		if l.LandingPath != "" {
			if why := landingProblem(cfg, l.LandingPath); why != "" {
				c.addf(u.field+".landing_path", "%s", why)
			}
		}
		res := cookieResourcePath(l)
		for j, r := range cfg.Routes {
			if r == nil || r.Auth == nil || slices.Contains(u.routes, j) {
				continue // on its own routes the cookie passes this sign-in's rules anyway
			}
			for k, m := range r.Auth.Methods {
				who := trustsKey(m, l.KeyID, cfg.KeyGroups)
				if who == "" || !route.OverlapURL(res, r.Path) {
					continue
				}
				c.addf(u.field+".key_id", "cookies issued by this sign-in (key %s, resource path %q) would also open routes[%d] (%q), where methods[%d] (%s) accepts them without this sign-in's access rules: give each sign-in its own key, or narrow cookie_path or cookie_resource so they do not cover that route", l.KeyID, res, j, r.Path, k, who)
				break
			}
		}
	}
}

// trustsKey names the kind of m when it accepts cookies signed with keyID (a key of one
// of its trusted key groups has that ID), and is "" otherwise.
func trustsKey(m *AuthMethod, keyID string, groups map[string]*KeyGroup) string {
	has := func(group string) bool {
		g := groups[group]
		return g != nil && slices.ContainsFunc(g.Keys, func(k *PublicKey) bool { return k != nil && k.ID == keyID })
	}
	switch {
	case m == nil:
	case m.Signed != nil && slices.ContainsFunc(m.Signed.KeyGroups, has):
		return "signed"
	case m.Login != nil && has(m.Login.KeyGroup):
		return "login"
	}
	return ""
}

// cookieResourcePath is the path part of the resource a sign-in's cookies are signed
// for, as a pattern on the escaped request path (route.OverlapURL). A host part with
// wildcards may also stand for '/' and more, so it counts as covering every path.
func cookieResourcePath(l *LoginAuth) string {
	if l.CookieResource == "" {
		return l.CookiePath + "*"
	}
	_, rest, ok := strings.Cut(l.CookieResource, "://")
	if !ok {
		return "*"
	}
	host, path, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(host, "*?") {
		return "*"
	}
	return "/" + path
}

// landingProblem says why path (percent-escaped, as in a URL) cannot be a landing page:
// no route matches it, or the first route that does (first match wins) has no index
// document for a folder path. "" when a route serves it.
func landingProblem(cfg *Config, escaped string) string {
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return fmt.Sprintf("%q is not a valid URL path: %v", escaped, err)
	}
	for i, r := range cfg.Routes {
		if r == nil {
			continue
		}
		p, err := route.Compile(r.Path)
		if err != nil || !p.Match(path) {
			continue
		}
		if strings.HasSuffix(path, "/") && r.Index == "" {
			return fmt.Sprintf("routes[%d] (%q) answers %q with 404: it has no index document; set its index or point landing_path at a page (the sign-in buttons lead there)", i, r.Path, path)
		}
		return ""
	}
	return fmt.Sprintf("no route serves %q: set landing_path to a page a route serves (the sign-in buttons lead there)", path)
}
