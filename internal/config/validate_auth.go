package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// JWTAlgorithms are the signature algorithms a jwt authenticator may allow. HMAC is
// absent on purpose: a verifier holding only public keys must never accept a token
// "signed" with one of them as an HMAC secret; "none" is absent for the obvious reason.
var JWTAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func validateAuth(c *collector, p string, a *Auth, groups map[string]*KeyGroup) {
	oneOf(c, p+".mode", a.Mode, "any", "all")
	names := map[string]int{}
	for i, m := range a.Methods {
		mp := fmt.Sprintf("%s.methods[%d]", p, i)
		if m == nil {
			c.addf(mp, "empty authenticator: set one of ip, basic, jwt, signed, login")
			continue
		}
		n := 0
		for _, set := range []bool{m.IP != nil, m.Basic != nil, m.JWT != nil, m.Signed != nil, m.Login != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			c.addf(mp, "set exactly one of ip, basic, jwt, signed, login (got %d)", n)
			continue
		}
		if j, dup := names[m.Name]; dup {
			c.addf(mp+".name", "name %q is already used by methods[%d]; give each a distinct name", m.Name, j)
		}
		names[m.Name] = i
		switch {
		case m.IP != nil:
			validateIP(c, mp+".ip", m.IP)
		case m.Basic != nil:
			validateBasic(c, mp+".basic", m.Basic)
		case m.JWT != nil:
			validateJWT(c, mp+".jwt", m.JWT)
		case m.Signed != nil:
			validateSigned(c, mp+".signed", m.Signed, groups)
		case m.Login != nil:
			validateLogin(c, mp+".login", m.Login, groups)
		}
	}
}

func validateIP(c *collector, p string, ip *IPAuth) {
	if len(ip.CIDRs)+len(ip.Files)+len(ip.URLs)+len(ip.SecurityGroups) == 0 {
		c.addf(p, "no sources: set cidrs, files, urls or security_groups")
	}
	for i, s := range ip.CIDRs {
		if _, err := ParsePrefix(s); err != nil {
			c.addf(fmt.Sprintf("%s.cidrs[%d]", p, i), "%v", err)
		}
	}
	for i, f := range ip.Files {
		if strings.TrimSpace(f) == "" {
			c.addf(fmt.Sprintf("%s.files[%d]", p, i), "empty file name")
		}
	}
	for i, u := range ip.URLs {
		up := fmt.Sprintf("%s.urls[%d]", p, i)
		if u == nil {
			c.addf(up, "empty entry")
			continue
		}
		validateURL(c, up+".url", u.URL, true)
		oneOf(c, up+".format", u.Format, "aws", "google", "plain")
		if u.Format == "plain" && len(u.Services)+len(u.Regions) > 0 {
			c.addf(up, "services and regions filter aws and google lists only")
		}
		if u.Refresh < 60e9 {
			c.addf(up+".refresh", "must be at least 1m")
		}
	}
	for i, sg := range ip.SecurityGroups {
		sp := fmt.Sprintf("%s.security_groups[%d]", p, i)
		if sg == nil {
			c.addf(sp, "empty entry")
			continue
		}
		if sg.Region == "" {
			c.addf(sp+".region", "required")
		}
		if sg.VPCID == "" && len(sg.GroupIDs)+len(sg.GroupNames)+len(sg.Tags) == 0 {
			c.addf(sp, "select groups by vpc_id, group_ids, group_names or tags (a query without one would read every group in the region)")
		}
		if len(sg.GroupNames) > 0 && sg.VPCID == "" {
			c.addf(sp+".group_names", "group names are unique only within a VPC: set vpc_id too")
		}
		if sg.Endpoint != "" {
			validateURL(c, sp+".endpoint", sg.Endpoint, false)
		}
		if (sg.AccessKeyID == "") != (sg.SecretAccessKey == "") {
			c.addf(sp, "access_key_id and secret_access_key go together: set both or neither")
		}
		for j, port := range sg.Ports {
			if port < 1 || port > 65535 {
				c.addf(fmt.Sprintf("%s.ports[%d]", sp, j), "must be a TCP port (1-65535), got %d", port)
			}
		}
		if sg.Refresh < 10e9 {
			c.addf(sp+".refresh", "must be at least 10s")
		}
	}
}

// PasswordHashKind names the scheme of a stored password hash, or "" if it is none that
// gatehouse accepts (which means it is probably a plaintext password).
func PasswordHashKind(h string) string {
	switch {
	case strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$"):
		return "bcrypt"
	case strings.HasPrefix(h, "$argon2id$"):
		return "argon2id"
	}
	return ""
}

func validateBasic(c *collector, p string, b *BasicAuth) {
	if b.HtpasswdFile == "" && len(b.Users) == 0 {
		c.addf(p, "no users: set htpasswd_file or users")
	}
	for user, hash := range b.Users {
		up := p + ".users." + user
		if user == "" || strings.ContainsAny(user, ":\r\n") {
			c.addf(up, "a user name must not be empty or contain ':' or line breaks")
		}
		if PasswordHashKind(hash) == "" {
			c.addf(up, "not a bcrypt or argon2id hash: plaintext passwords are refused (make a hash with `gatehouse passwd %s`)", user)
		}
	}
	if strings.ContainsAny(b.Realm, "\"\\\r\n") {
		c.addf(p+".realm", "must not contain quotes, backslashes or line breaks")
	}
	if b.MaxFailures < 1 {
		c.addf(p+".max_failures", "must be at least 1")
	}
}

func validateJWT(c *collector, p string, j *JWTAuth) {
	if j.Issuer == "" {
		c.addf(p+".issuer", "required")
	} else if j.JWKSURL == "" {
		validateURL(c, p+".issuer", j.Issuer, true)
	}
	if j.JWKSURL != "" {
		validateURL(c, p+".jwks_url", j.JWKSURL, true)
	}
	if len(j.Audiences)+len(j.ClientIDs) == 0 {
		c.addf(p, "set audiences (ID tokens) or client_ids (Cognito access tokens): without them any token the issuer signs for any application would pass")
	}
	for i, a := range j.Algorithms {
		ap := fmt.Sprintf("%s.algorithms[%d]", p, i)
		switch {
		case strings.EqualFold(a, "none"):
			c.addf(ap, "\"none\" means unsigned tokens: never allowed")
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			c.addf(ap, "%s (HMAC) is not allowed: verification uses the issuer's public keys", a)
		default:
			oneOf(c, ap, a, JWTAlgorithms...)
		}
	}
	oneOf(c, p+".token_use", j.TokenUse, "", "id", "access")
	if j.Leeway < 0 || j.Leeway > 300e9 {
		c.addf(p+".leeway", "must be between 0s and 5m")
	}
	if j.Header != nil && !*j.Header && j.QueryParam == "" && j.Cookie == "" {
		c.addf(p, "no token source: header is false and neither query_param nor cookie is set")
	}
	for i, r := range j.Claims {
		rp := fmt.Sprintf("%s.claims[%d]", p, i)
		if r == nil {
			c.addf(rp, "empty rule")
			continue
		}
		if r.Claim == "" {
			c.addf(rp+".claim", "required")
		}
		n := 0
		if r.Equals != "" {
			n++
		}
		if len(r.OneOf) > 0 {
			n++
		}
		if r.Contains != "" {
			n++
		}
		if n != 1 {
			c.addf(rp, "set exactly one of equals, one_of, contains")
		}
	}
	if j.MinRefresh < 1e9 {
		c.addf(p+".min_refresh", "must be at least 1s")
	}
	if j.JWKSWait < time.Millisecond || j.JWKSWait > MaxJWTJWKSWait {
		c.addf(p+".jwks_wait", "must be between 1ms and %s", MaxJWTJWKSWait)
	}
}

func validateCORS(c *collector, p string, cr *CORS) {
	if len(cr.AllowedOrigins) == 0 {
		c.addf(p+".allowed_origins", "required: exact origins such as https://app.example.com, or \"*\"")
	}
	for i, o := range cr.AllowedOrigins {
		op := fmt.Sprintf("%s.allowed_origins[%d]", p, i)
		if o == "*" {
			if cr.AllowCredentials {
				c.addf(op, "\"*\" cannot be combined with allow_credentials (browsers refuse it)")
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			c.addf(op, "want an origin such as https://app.example.com (scheme and host, no path), got %q", o)
		}
	}
	for i, m := range cr.AllowedMethods {
		oneOf(c, fmt.Sprintf("%s.allowed_methods[%d]", p, i), m, "GET", "HEAD", "OPTIONS")
	}
	for i, h := range cr.AllowedHeaders {
		if h == "" || strings.ContainsAny(h, " ,:\r\n") {
			c.addf(fmt.Sprintf("%s.allowed_headers[%d]", p, i), "not a header name: %q", h)
		}
	}
	if cr.MaxAge < 0 {
		c.addf(p+".max_age", "must not be negative")
	}
}

// validateURL checks an http(s) URL. Plain http is allowed only to loopback hosts when
// secure is set: keys and address lists fetched in the clear could be forged.
func validateURL(c *collector, p, s string, secure bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.addf(p, "want an https:// URL, got %q", s)
		return
	}
	if secure && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		c.addf(p, "must use https (plain http is allowed for loopback addresses only)")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validateSigned(c *collector, p string, s *SignedAuth, groups map[string]*KeyGroup) {
	if len(s.KeyGroups) == 0 {
		c.addf(p+".key_groups", "required: name at least one entry of the top-level key_groups")
	}
	for i, g := range s.KeyGroups {
		if _, ok := groups[g]; !ok {
			c.addf(fmt.Sprintf("%s.key_groups[%d]", p, i), "no key group named %q in key_groups", g)
		}
	}
	for i, h := range s.Hosts {
		if h == "" || strings.ContainsAny(h, "/?#@ *") {
			c.addf(fmt.Sprintf("%s.hosts[%d]", p, i), "want a host name (with an optional :port), got %q", h)
		}
	}
	if s.CacheSize < 0 {
		c.addf(p+".cache_size", "must not be negative")
	}
}

func validateKeyGroups(c *collector, groups map[string]*KeyGroup) {
	for name, g := range groups {
		gp := "key_groups." + name
		if g == nil || len(g.Keys) == 0 {
			c.addf(gp, "a key group needs at least one key")
			continue
		}
		ids := map[string]bool{}
		for i, k := range g.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", gp, i)
			if k == nil {
				c.addf(kp, "empty key")
				continue
			}
			if k.ID == "" || strings.ContainsAny(k.ID, " \t\r\n;=,") {
				c.addf(kp+".id", "want a key ID such as K2JCJMDEHXQW5F, got %q", k.ID)
			}
			if ids[k.ID] {
				c.addf(kp+".id", "duplicate key ID %q in this group", k.ID)
			}
			ids[k.ID] = true
			if (k.File == "") == (k.PEM == "") {
				c.addf(kp, "set exactly one of file and pem")
			}
		}
	}
}
