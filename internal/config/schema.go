// Package config defines gatehouse's configuration file, decodes it strictly (unknown keys
// are errors), expands ${ENV} references and validates it. Every problem is reported at
// once, each naming the field path and the line it stands on. The package is pure: it
// opens no connections and starts nothing; building runtime state is gateway's job.
package config

import "time"

// Config is the whole configuration file.
type Config struct {
	Server  Server             `yaml:"server"`
	Admin   Admin              `yaml:"admin"`
	Log     Log                `yaml:"log"`
	Origins map[string]*Origin `yaml:"origins"`
	// KeyGroups are named sets of public keys for signed URLs and cookies.
	KeyGroups map[string]*KeyGroup `yaml:"key_groups"`
	// Routes are matched in file order; the first whose path pattern matches wins.
	Routes []*Route `yaml:"routes"`
	// Pages brands the built-in pages.
	Pages Pages `yaml:"pages"`
	// Cache is the edge cache's storage; nil: nothing is cached.
	Cache *Cache `yaml:"cache"`
	// Tracing exports OpenTelemetry traces (tracing.go); nil: off.
	Tracing *Tracing `yaml:"tracing"`
	// Redis is the state a fleet of replicas shares (redis.go); nil: none is shared.
	Redis *Redis `yaml:"redis"`

	file  string
	lines map[string]int
}

// Errorf makes a FieldError for a problem found after loading (for example while building
// an origin), with the file and line of path.
func (c *Config) Errorf(path, format string, args ...any) FieldError {
	col := collector{file: c.file, lines: c.lines}
	col.addf(path, format, args...)
	return col.errs[0]
}

// Server is the public listener.
type Server struct {
	Listen string `yaml:"listen"`
	TLS    *TLS   `yaml:"tls"`
	// TrustedProxies lists the peers (CIDRs or addresses) whose forwarding headers are
	// believed. Empty (the default) means nobody's.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ClientIPHeader names the header a trusted proxy puts the client address in:
	// X-Forwarded-For (default) or CloudFront-Viewer-Address.
	ClientIPHeader    string        `yaml:"client_ip_header"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	// MaxConnections bounds the public listener's open connections; those above it are
	// turned away (503 on plain HTTP). 0: half the process's open-file limit, read when
	// serving starts.
	MaxConnections int `yaml:"max_connections"`
}

// Admin is the operations listener (health, readiness). Empty Listen disables it.
type Admin struct {
	Listen string `yaml:"listen"`
	// Token authenticates admin API calls that change state (cache invalidation) as a
	// bearer token. Give it as ${ENV}. Empty: those endpoints are disabled.
	Token string `yaml:"token"`
}

// Log selects log level, format and where access-log lines go.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
	// Access is "stdout", "stderr", "off" or a file path.
	Access string `yaml:"access"`
}

// Origin is one backend. Exactly one of S3 and Dir is set.
type Origin struct {
	S3  *S3Origin  `yaml:"s3"`
	Dir *DirOrigin `yaml:"dir"`
	// Timeout bounds the wait for the origin's response headers (not the body).
	Timeout time.Duration `yaml:"timeout"`
}

// S3Origin is a bucket on AWS S3 or any S3-compatible endpoint.
type S3Origin struct {
	Bucket string `yaml:"bucket"`
	Region string `yaml:"region"`
	// Endpoint overrides the AWS endpoint (MinIO, R2, Ceph): a full URL.
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`
	// Profile selects a shared-config profile for the default credential chain.
	Profile string `yaml:"profile"`
	// Explicit keys; leave empty to use the AWS SDK's default chain. Give them as ${ENV}.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	SessionToken    string `yaml:"session_token"`
	// MaxAttempts caps the SDK's tries per request (1 = no retry).
	MaxAttempts int `yaml:"max_attempts"`
}

// DirOrigin is a local folder; nothing outside it can be reached.
type DirOrigin struct {
	Root string `yaml:"root"`
}

// Route is one behavior: which requests it takes and how it serves them.
type Route struct {
	Name string `yaml:"name"`
	// Path is a pattern on the cleaned URL path: exact ("/robots.txt"), with '*' (any run
	// of characters, '/' included) and '?' (one character) anywhere, or "*" for all.
	Path   string `yaml:"path"`
	Origin string `yaml:"origin"`
	// StripPrefix is removed from the path, then AddPrefix is put before what remains
	// (without its leading '/') to form the object key.
	StripPrefix string   `yaml:"strip_prefix"`
	AddPrefix   string   `yaml:"add_prefix"`
	Methods     []string `yaml:"methods"`
	// Index is appended to keys that are empty or end in '/'.
	Index  string `yaml:"index"`
	Public bool   `yaml:"public"`
	Auth   *Auth  `yaml:"auth"`
	// CORS answers preflights and adds CORS headers; nil: no CORS.
	CORS *CORS `yaml:"cors"`
	// ErrorPages maps an error status to what is sent instead (CloudFront's custom
	// error responses).
	ErrorPages map[int]*ErrorPage `yaml:"error_pages"`
	// Cache is the route's cache policy; nil: the route is not cached.
	Cache *RouteCache `yaml:"cache"`
	// ResponseHeaders is the route's response headers policy (see headers.go); nil: the
	// defaults (object responses of routes that are not public are Cache-Control: private).
	ResponseHeaders *ResponseHeaders `yaml:"response_headers"`
	// Upload is the route's write policy (PUT, DELETE, presigned uploads); nil: read-only.
	Upload *Upload `yaml:"upload"`
	// Listing makes a GET or HEAD of a path naming a folder answer a listing of the keys
	// under it (an HTML page, or JSON when asked for) instead of 404; with Index, the
	// index document is sent when it exists and the listing otherwise (docs/listings.md).
	Listing bool `yaml:"listing"`
	// RateLimit limits each client's (or identity's, or header value's) requests to the
	// route, answering 429 with Retry-After (ratelimit.go); nil: unlimited.
	RateLimit *RateLimit `yaml:"rate_limit"`
}

// Defaults used when a field is left empty.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultOriginTimeout     = 30 * time.Second
	DefaultS3MaxAttempts     = 3
	DefaultS3Region          = "us-east-1"
	HeaderXForwardedFor      = "X-Forwarded-For"
	HeaderCloudFrontViewer   = "CloudFront-Viewer-Address"
)

// applyDefaults fills empty fields. It runs after decoding and before validation.
func (c *Config) applyDefaults() {
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	if c.Server.ClientIPHeader == "" {
		c.Server.ClientIPHeader = HeaderXForwardedFor
	}
	if c.Server.ReadHeaderTimeout == 0 {
		c.Server.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.Server.IdleTimeout == 0 {
		c.Server.IdleTimeout = DefaultIdleTimeout
	}
	if c.Server.ShutdownTimeout == 0 {
		c.Server.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Server.TLS != nil {
		c.Server.TLS.applyDefaults()
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Log.Access == "" {
		c.Log.Access = "stdout"
	}
	if c.Cache != nil {
		c.Cache.applyDefaults()
	}
	if c.Tracing != nil {
		c.Tracing.applyDefaults()
	}
	if c.Redis != nil {
		c.Redis.applyDefaults()
	}
	for _, o := range c.Origins {
		if o == nil {
			continue
		}
		if o.Timeout == 0 {
			o.Timeout = DefaultOriginTimeout
		}
		if o.S3 != nil {
			if o.S3.MaxAttempts == 0 {
				o.S3.MaxAttempts = DefaultS3MaxAttempts
			}
		}
	}
	for _, r := range c.Routes {
		if r == nil {
			continue
		}
		if len(r.Methods) == 0 {
			r.Methods = []string{"GET", "HEAD"}
		}
		if r.Name == "" {
			r.Name = r.Path
		}
		if r.Auth != nil {
			r.Auth.applyDefaults()
		}
		if r.CORS != nil {
			r.CORS.applyDefaults()
		}
		if r.Cache != nil {
			r.Cache.applyDefaults()
		}
		r.applyResponseHeaderDefaults()
		if r.Upload != nil {
			r.Upload.applyDefaults()
		}
		if r.RateLimit != nil {
			r.RateLimit.applyDefaults()
		}
	}
	c.applyLoginDefaults()
}
