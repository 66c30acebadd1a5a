package config

import (
	"fmt"
	"mime"
	"regexp"
	"strings"
	"time"
)

// Upload is a route's write policy (docs/uploads.md). A route that allows PUT or DELETE,
// or hands out presigned uploads, needs one; its max_size is required.
type Upload struct {
	// MaxSize is the largest object a single upload may store (S3's limit: 5 TiB).
	MaxSize Size `yaml:"max_size"`
	// ContentTypes are the media types an upload may declare ("image/png", "image/*");
	// empty: any. An upload that declares none is application/octet-stream.
	ContentTypes []string `yaml:"content_types"`
	// KeyPrefix, when set, confines writes to object keys under it, after its variables
	// are replaced with the caller's identity: {user} (the identity's subject) and
	// {email}. E.g. "uploads/{user}/". A variable the identity lacks, or whose value is
	// not one safe path segment, refuses the write (403).
	KeyPrefix string `yaml:"key_prefix"`
	// Overwrite: false makes every write create-only (If-None-Match: *), so an existing
	// object is never replaced (412). Nil in the file: true.
	Overwrite *bool `yaml:"overwrite"`
	// Presign enables the upload endpoint under /_gatehouse/upload/<route name>/ that hands
	// authorized callers presigned uploads (and Uppy's multipart calls); nil: none.
	Presign *Presign `yaml:"presign"`
}

// Presign configures presigned uploads for a route.
type Presign struct {
	// Mode is "bucket" (the default: URLs signed with the origin's credentials, the
	// client uploads straight to an S3 origin) or "gateway" (URLs signed by gatehouse,
	// pointing at gatehouse, which streams the body to the origin).
	Mode string `yaml:"mode"`
	// Expires is how long a presigned upload stays usable (default 15m, at most 7 days).
	Expires time.Duration `yaml:"expires"`
	// Key is the secret gatehouse signs gateway-mode uploads with (HMAC-SHA256), at
	// least 32 bytes; required in mode gateway, unused in mode bucket. Give it as ${ENV}.
	Key string `yaml:"key"`
}

// Upload defaults and limits.
const (
	MaxUploadSize         = Size(5 << 40) // S3's largest object
	DefaultPresignExpires = 15 * time.Minute
	MaxPresignExpires     = 7 * 24 * time.Hour // SigV4's limit for presigned URLs
	MinPresignKey         = 32                 // bytes of a gateway-mode signing key
	PresignBucket         = "bucket"
	PresignGateway        = "gateway"
	// UploadEndpointPrefix is where a route's presigned-upload endpoint lives:
	// UploadEndpointPrefix + route name + "/".
	UploadEndpointPrefix = ReservedPrefix + "upload/"
)

// CanOverwrite reports whether writes may replace existing objects.
func (u *Upload) CanOverwrite() bool { return u.Overwrite == nil || *u.Overwrite }

var (
	keyPrefixVar = regexp.MustCompile(`\{[^}]*\}`)
	routeNameURL = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// KeyPrefixVars are the variables a key_prefix may use.
var KeyPrefixVars = []string{"{user}", "{email}"}

func (u *Upload) applyDefaults() {
	if u.Presign != nil {
		if u.Presign.Mode == "" {
			u.Presign.Mode = PresignBucket
		}
		if u.Presign.Expires == 0 {
			u.Presign.Expires = DefaultPresignExpires
		}
	}
}

// validateUpload checks a route's upload section and how it fits the route's methods,
// origin and policy.
func validateUpload(c *collector, p string, r *Route, cfg *Config) {
	u := r.Upload
	writes := hasMethod(r, "PUT") || hasMethod(r, "DELETE")
	if u == nil {
		return // PUT and DELETE without one are reported on the method
	}
	up := p + ".upload"
	if !writes && u.Presign == nil {
		c.addf(up, "the route allows neither PUT nor DELETE and has no presign section: nothing would use it")
	}
	if r.Public {
		c.addf(up, "a public route cannot take uploads (anyone could write): give the route an auth section")
	}
	switch {
	case u.MaxSize <= 0:
		c.addf(up+".max_size", "required: the largest object an upload may store, e.g. 5GiB")
	case u.MaxSize > MaxUploadSize:
		c.addf(up+".max_size", "at most 5TiB (S3's largest object), got %d bytes", int64(u.MaxSize))
	}
	for i, ct := range u.ContentTypes {
		if err := checkMediaRange(ct); err != nil {
			c.addf(fmt.Sprintf("%s.content_types[%d]", up, i), "%v", err)
		}
	}
	validateKeyPrefix(c, up+".key_prefix", u.KeyPrefix)
	checkKeyPrefixFits(c, up+".key_prefix", u.KeyPrefix, r.AddPrefix)
	if ps := u.Presign; ps != nil {
		pp := up + ".presign"
		oneOf(c, pp+".mode", ps.Mode, PresignBucket, PresignGateway)
		if ps.Expires < time.Second || ps.Expires > MaxPresignExpires {
			c.addf(pp+".expires", "must be between 1s and 168h (7 days, SigV4's limit), got %s", ps.Expires)
		}
		if o := cfg.Origins[r.Origin]; ps.Mode == PresignBucket && o != nil && o.S3 == nil {
			c.addf(pp+".mode", "bucket needs an s3 origin (%q is a folder): use mode: gateway", r.Origin)
		}
		if ps.Mode == PresignGateway && len(ps.Key) < MinPresignKey {
			c.addf(pp+".key", "required in mode gateway: a secret of at least %d bytes, given as ${ENV}", MinPresignKey)
		}
		if ps.Mode == PresignGateway && !hasMethod(r, "PUT") {
			c.addf(pp+".mode", "gateway mode uploads through gatehouse: add PUT to the route's methods")
		}
		if !routeNameURL.MatchString(r.Name) {
			c.addf(p+".name", "a route with presigned uploads needs a name made of letters, digits, '.', '_' and '-' (its endpoint is %s<name>/), got %q", UploadEndpointPrefix, r.Name)
		}
	}
}

// validateKeyPrefix checks a key_prefix template: a relative key prefix ending in '/',
// without '..' segments, whose variables are known and each a whole segment.
func validateKeyPrefix(c *collector, p, kp string) {
	if kp == "" {
		return
	}
	switch {
	case strings.HasPrefix(kp, "/"):
		c.addf(p, "must not start with '/' (object keys are relative)")
	case !strings.HasSuffix(kp, "/"):
		c.addf(p, "must end with '/' (it names a folder of keys), got %q", kp)
	case strings.Contains("/"+kp, "/../") || strings.Contains("/"+kp, "/./") || strings.Contains(kp, "//") || strings.ContainsAny(kp, "\\\x00"):
		c.addf(p, "must not contain '.' or '..' segments, empty segments, backslashes or NUL")
	}
	for _, seg := range strings.Split(strings.TrimSuffix(kp, "/"), "/") {
		vars := keyPrefixVar.FindAllString(seg, -1)
		for _, v := range vars {
			if v != "{user}" && v != "{email}" {
				c.addf(p, "unknown variable %s (known: %s)", v, strings.Join(KeyPrefixVars, ", "))
			}
		}
		if len(vars) > 0 && (len(vars) > 1 || seg != vars[0]) {
			c.addf(p, "a variable must be a whole segment (as in uploads/{user}/), got %q", seg)
		}
		if strings.ContainsAny(keyPrefixVar.ReplaceAllString(seg, ""), "{}") {
			c.addf(p, "unbalanced '{' or '}' in %q", seg)
		}
	}
}

// checkKeyPrefixFits refuses a key_prefix that no key of the route can start with:
// every key the route writes starts with add_prefix, so the prefix's literal part (up to
// its first variable) must start with add_prefix, or, without variables, one of the two
// must start with the other. add_prefix big/ with key_prefix {user}/ would refuse every
// write (403) and presign call (400); with key_prefix x/{user}/ it names no key either.
// (A variable standing for part of add_prefix, as users/{user}/ under add_prefix
// users/alice/, would let one identity write at most: refused too.)
func checkKeyPrefixFits(c *collector, p, kp, add string) {
	if kp == "" || add == "" {
		return
	}
	lit, _, hasVar := strings.Cut(kp, "{")
	if strings.HasPrefix(lit, add) || !hasVar && strings.HasPrefix(add, lit) {
		return
	}
	c.addf(p, "%q can name no key of this route, whose keys all start with add_prefix %q: start key_prefix with it, as in %s{user}/", kp, add, add)
}

// checkMediaRange accepts "type/subtype" and "type/*" without parameters.
func checkMediaRange(s string) error {
	t, sub, ok := strings.Cut(s, "/")
	if !ok || t == "" || sub == "" || t == "*" || strings.ContainsAny(s, "; ") {
		return fmt.Errorf("want a media type such as image/png or image/*, got %q", s)
	}
	if sub == "*" {
		sub = "x"
	}
	if _, _, err := mime.ParseMediaType(t + "/" + sub); err != nil {
		return fmt.Errorf("want a media type such as image/png or image/*, got %q", s)
	}
	return nil
}

func hasMethod(r *Route, m string) bool {
	for _, x := range r.Methods {
		if x == m {
			return true
		}
	}
	return false
}
