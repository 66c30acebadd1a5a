package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/route"
)

var originName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// validate checks everything that can be checked without touching the network or disk,
// recording each problem with its field path. It never stops at the first problem.
func (cfg *Config) validate(c *collector) {
	validateServer(c, &cfg.Server)
	if cfg.Admin.Listen != "" {
		validateListen(c, "admin.listen", cfg.Admin.Listen)
		if cfg.Admin.Listen == cfg.Server.Listen && !strings.HasSuffix(cfg.Admin.Listen, ":0") {
			c.addf("admin.listen", "must differ from server.listen")
		}
	}
	oneOf(c, "log.level", cfg.Log.Level, "debug", "info", "warn", "error")
	oneOf(c, "log.format", cfg.Log.Format, "json", "text")

	if len(cfg.Origins) == 0 {
		c.addf("origins", "at least one origin is required")
	}
	names := make([]string, 0, len(cfg.Origins))
	for name := range cfg.Origins {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		validateOrigin(c, "origins."+name, name, cfg.Origins[name])
	}

	validateKeyGroups(c, cfg.KeyGroups)
	validatePages(c, "pages", &cfg.Pages)
	if cfg.Cache != nil {
		validateCache(c, "cache", cfg.Cache)
	}
	if cfg.Redis != nil {
		validateRedis(c, "redis", cfg.Redis)
	}
	validateACMEStore(c, cfg)
	if cfg.Tracing != nil {
		validateTracing(c, "tracing", cfg.Tracing)
	}
	if cfg.Admin.Token != "" && len(cfg.Admin.Token) < 16 {
		c.addf("admin.token", "must be at least 16 characters")
	}
	if len(cfg.Routes) == 0 {
		c.addf("routes", "at least one route is required")
	}
	routeNames := map[string]int{}
	for i, r := range cfg.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if r == nil {
			c.addf(p, "empty route")
			continue
		}
		validateRoute(c, p, r, cfg)
		validateRouteName(c, p, r.Name)
		if j, dup := routeNames[r.Name]; dup {
			c.addf(p+".name", "route name %q is already used by routes[%d]", r.Name, j)
		} else {
			routeNames[r.Name] = i
		}
		for j, earlier := range cfg.Routes[:i] {
			if earlier != nil && shadows(earlier.Path, r.Path) {
				c.addf(p+".path", "unreachable: routes[%d] (%q) comes first and matches every path this one does", j, earlier.Path)
				break
			}
		}
	}
	validateLoginScopes(c, cfg)
}

func validateServer(c *collector, s *Server) {
	validateListen(c, "server.listen", s.Listen)
	if s.TLS != nil {
		validateTLS(c, s)
	}
	for i, p := range s.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			c.addf(fmt.Sprintf("server.trusted_proxies[%d]", i), "%v", err)
		}
	}
	switch {
	case strings.EqualFold(s.ClientIPHeader, HeaderXForwardedFor):
		s.ClientIPHeader = HeaderXForwardedFor
	case strings.EqualFold(s.ClientIPHeader, HeaderCloudFrontViewer):
		s.ClientIPHeader = HeaderCloudFrontViewer
	default:
		c.addf("server.client_ip_header", "must be %s or %s, got %q", HeaderXForwardedFor, HeaderCloudFrontViewer, s.ClientIPHeader)
	}
	positive(c, "server.read_header_timeout", s.ReadHeaderTimeout)
	positive(c, "server.idle_timeout", s.IdleTimeout)
	positive(c, "server.shutdown_timeout", s.ShutdownTimeout)
	if s.MaxConnections < 0 {
		c.addf("server.max_connections", "must be 0 (half the open-file limit) or a positive number, got %d", s.MaxConnections)
	}
}

func validateOrigin(c *collector, p, name string, o *Origin) {
	if !originName.MatchString(name) {
		c.addf(p, "origin name %q must start with a letter or digit and hold only letters, digits, '.', '_' and '-'", name)
	}
	if o == nil {
		c.addf(p, "empty origin: set s3 or dir")
		return
	}
	positive(c, p+".timeout", o.Timeout)
	switch {
	case o.S3 != nil && o.Dir != nil:
		c.addf(p, "set exactly one of s3 and dir, not both")
	case o.S3 == nil && o.Dir == nil:
		c.addf(p, "set one of s3 or dir")
	case o.S3 != nil:
		s := o.S3
		if s.Bucket == "" {
			c.addf(p+".s3.bucket", "required")
		}
		if s.Endpoint != "" {
			u, err := url.Parse(s.Endpoint)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				c.addf(p+".s3.endpoint", "want an http:// or https:// URL, got %q", s.Endpoint)
			}
		}
		if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
			c.addf(p+".s3", "access_key_id and secret_access_key go together: set both or neither")
		}
		if s.SessionToken != "" && s.AccessKeyID == "" {
			c.addf(p+".s3.session_token", "needs access_key_id and secret_access_key")
		}
		if s.Profile != "" && s.AccessKeyID != "" {
			c.addf(p+".s3.profile", "set either profile or explicit keys, not both")
		}
		if s.MaxAttempts < 1 || s.MaxAttempts > 10 {
			c.addf(p+".s3.max_attempts", "must be between 1 and 10, got %d", s.MaxAttempts)
		}
	case o.Dir != nil:
		if o.Dir.Root == "" {
			c.addf(p+".dir.root", "required")
		}
	}
}

func validateRoute(c *collector, p string, r *Route, cfg *Config) {
	origins := cfg.Origins
	switch {
	case r.Path == "":
		c.addf(p+".path", "required")
	case r.Path != "*" && !strings.HasPrefix(r.Path, "/") && !strings.HasPrefix(r.Path, "*"):
		c.addf(p+".path", "must start with '/' or '*', got %q", r.Path)
	case strings.HasPrefix(r.Path, ReservedPrefix) || r.Path+"/" == ReservedPrefix:
		c.addf(p+".path", "paths under %s are reserved for gatehouse's own endpoints (login, callback, logout)", ReservedPrefix)
	case strings.ContainsAny(r.Path, "\\\x00") || strings.Contains(r.Path, "/../") || strings.HasSuffix(r.Path, "/.."):
		c.addf(p+".path", "must not contain '..' segments, backslashes or NUL")
	}
	if r.Origin == "" {
		c.addf(p+".origin", "required")
	} else if _, ok := origins[r.Origin]; !ok {
		c.addf(p+".origin", "no origin named %q", r.Origin)
	}
	if r.StripPrefix != "" {
		if !strings.HasPrefix(r.StripPrefix, "/") {
			c.addf(p+".strip_prefix", "must start with '/'")
		} else if r.StripPrefix != "/" && !strings.HasPrefix(route.LiteralPrefix(r.Path), r.StripPrefix) {
			c.addf(p+".strip_prefix", "%q is not a prefix of every path %q matches, so it would not always apply", r.StripPrefix, r.Path)
		}
	}
	if strings.HasPrefix(r.AddPrefix, "/") {
		c.addf(p+".add_prefix", "must not start with '/' (object keys are relative)")
	}
	if strings.Contains("/"+r.AddPrefix, "/../") || strings.Contains(r.AddPrefix, "\\") {
		c.addf(p+".add_prefix", "must not contain '..' segments or backslashes")
	}
	if strings.ContainsAny(r.Index, "/\\") || r.Index == "." || r.Index == ".." {
		c.addf(p+".index", "must be a plain file name such as index.html")
	}
	seen := map[string]bool{}
	for i, m := range r.Methods {
		mp := fmt.Sprintf("%s.methods[%d]", p, i)
		switch m {
		case "GET", "HEAD":
		case "OPTIONS":
			if r.CORS == nil {
				c.addf(mp, "OPTIONS is only served for CORS preflights: configure cors (which allows it by itself)")
			}
		case "PUT", "DELETE":
			if r.Upload == nil {
				c.addf(mp, "%s needs an upload section on the route (its max_size, and who may write where; docs/uploads.md)", m)
			}
		case "POST", "PATCH":
			c.addf(mp, "%s is not supported (GET, HEAD, PUT and DELETE are; browsers POST to a presigned upload, see upload.presign)", m)
		default:
			c.addf(mp, "unknown method %q (methods are upper case: GET, HEAD, PUT, DELETE)", m)
		}
		if seen[m] {
			c.addf(mp, "duplicate method %s", m)
		}
		seen[m] = true
	}
	switch {
	case r.Public && r.Auth != nil:
		c.addf(p+".auth", "a route is either public: true or has an auth section, not both")
	case !r.Public && r.Auth == nil:
		c.addf(p, "route %q has no auth section: add one, or set public: true to serve it to anyone", r.Name)
	case r.Auth != nil:
		validateAuth(c, p+".auth", r.Auth, cfg.KeyGroups)
	}
	if r.CORS != nil {
		validateCORS(c, p+".cors", r.CORS)
	}
	validateErrorPages(c, p+".error_pages", r)
	if r.Cache != nil {
		validateRouteCache(c, p+".cache", r.Cache, cfg.Cache)
	}
	if r.ResponseHeaders != nil {
		validateResponseHeaders(c, p+".response_headers", r.ResponseHeaders)
	}
	validateUpload(c, p, r, cfg)
	validateRateLimit(c, p, r)
	if r.Listing && !hasMethod(r, "GET") {
		c.addf(p+".listing", "a listing answers GET: add GET to the route's methods")
	}
}

// shadows reports whether pattern a matches every path pattern b matches, in the cases
// that are cheap to prove: a is "*", a equals b, or a is "prefix*" and b's literal prefix
// starts with that prefix.
func shadows(a, b string) bool {
	if a == "*" || a == b {
		return true
	}
	if strings.Count(a, "*") == 1 && strings.HasSuffix(a, "*") && !strings.Contains(a, "?") {
		return strings.HasPrefix(route.LiteralPrefix(b), strings.TrimSuffix(a, "*"))
	}
	return false
}

// ParsePrefix accepts a CIDR or a bare address (a single host).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("want a CIDR such as 10.0.0.0/8, got %q", s)
		}
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("want an address or CIDR, got %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func validateListen(c *collector, path, addr string) {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		c.addf(path, "want host:port such as 127.0.0.1:8080, got %q", addr)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		c.addf(path, "port %q is not a port number from 0 to 65535", port)
	}
}

func oneOf(c *collector, path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.addf(path, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

func positive(c *collector, path string, d interface{ Seconds() float64 }) {
	if d.Seconds() <= 0 {
		c.addf(path, "must be positive")
	}
}
