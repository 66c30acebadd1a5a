package config

import "time"

// Auth is a route's authorization policy: authenticators tried in list order and how
// their results combine. An Auth with no methods denies every request: it is how a path
// is blocked on purpose.
type Auth struct {
	// Mode combines authenticators: "any" (default: the first that establishes an
	// identity allows) or "all" (every one must).
	Mode    string        `yaml:"mode"`
	Methods []*AuthMethod `yaml:"methods"`
}

// AuthMethod is one authenticator. Exactly one of its kinds is set.
type AuthMethod struct {
	// Name labels the authenticator in logs and `gatehouse explain`; default: its kind.
	Name   string      `yaml:"name"`
	IP     *IPAuth     `yaml:"ip"`
	Basic  *BasicAuth  `yaml:"basic"`
	JWT    *JWTAuth    `yaml:"jwt"`
	Signed *SignedAuth `yaml:"signed"`
	Login  *LoginAuth  `yaml:"login"`
}

// Kind is the authenticator's kind ("ip", "basic", "jwt"), or "" when none is set.
func (m *AuthMethod) Kind() string {
	switch {
	case m.IP != nil:
		return "ip"
	case m.Basic != nil:
		return "basic"
	case m.JWT != nil:
		return "jwt"
	case m.Signed != nil:
		return "signed"
	case m.Login != nil:
		return "login"
	}
	return ""
}

// SignedAuth accepts CloudFront-format signed URLs and signed cookies made with a key of
// one of the trusted key groups.
type SignedAuth struct {
	// KeyGroups names entries of the top-level key_groups section.
	KeyGroups []string `yaml:"key_groups"`
	// Hosts are the public host names signed URLs are made for. A signed resource is
	// rebuilt as scheme://HOST/path?query; the request's Host must be one of these (when
	// set), which is what makes signatures portable behind load balancers and CDNs.
	Hosts []string `yaml:"hosts"`
	// Cookies accepts CloudFront-* signed cookies (default true); signed URL parameters
	// always win over cookies.
	Cookies *bool `yaml:"cookies"`
	// CacheSize bounds the cache of verified signatures (default 10000).
	CacheSize int `yaml:"cache_size"`
}

// KeyGroup is a set of public keys trusted together (CloudFront's key groups). Several
// keys allow rotation: old and new both verify until the old one is removed.
type KeyGroup struct {
	Keys []*PublicKey `yaml:"keys"`
}

// PublicKey is one RSA (2048+) or ECDSA P-256 public key, PEM, by its key ID.
type PublicKey struct {
	ID   string `yaml:"id"`
	File string `yaml:"file"`
	PEM  string `yaml:"pem"`
}

// IPAuth allows client addresses in the union of its loaded sources. While a source has
// never loaded, an address no loaded source allows is an outage (503) and /readyz
// reports the source as not ready.
type IPAuth struct {
	CIDRs          []string              `yaml:"cidrs"`
	Files          []string              `yaml:"files"`
	URLs           []*IPRangeURL         `yaml:"urls"`
	SecurityGroups []*SecurityGroupQuery `yaml:"security_groups"`
}

// IPRangeURL is a published list of address ranges fetched over HTTP(S).
type IPRangeURL struct {
	URL string `yaml:"url"`
	// Format is "aws" (ip-ranges.json), "google" (cloud.json / goog.json) or "plain" (one
	// CIDR per line, as Cloudflare publishes).
	Format string `yaml:"format"`
	// Services and Regions filter aws entries (e.g. CLOUDFRONT, GLOBAL); Services also
	// filters google cloud.json entries and Regions its scopes. Empty: all.
	Services []string `yaml:"services"`
	Regions  []string `yaml:"regions"`
	// Refresh is how often the list is re-fetched (with If-None-Match/If-Modified-Since).
	Refresh time.Duration `yaml:"refresh"`
}

// SecurityGroupQuery selects EC2 security groups whose TCP ingress CIDRs are allowed.
type SecurityGroupQuery struct {
	Region string `yaml:"region"`
	// Endpoint overrides the EC2 endpoint (VPC endpoints; tests).
	Endpoint string `yaml:"endpoint"`
	Profile  string `yaml:"profile"`
	// Explicit keys; empty uses the AWS SDK's default credential chain.
	AccessKeyID     string            `yaml:"access_key_id"`
	SecretAccessKey string            `yaml:"secret_access_key"`
	VPCID           string            `yaml:"vpc_id"`
	GroupIDs        []string          `yaml:"group_ids"`
	GroupNames      []string          `yaml:"group_names"`
	Tags            map[string]string `yaml:"tags"`
	// Ports: ingress rules count when their TCP port range covers one of these.
	Ports   []int         `yaml:"ports"`
	Refresh time.Duration `yaml:"refresh"`
}

// BasicAuth checks HTTP Basic credentials against hashed passwords (bcrypt or argon2id).
type BasicAuth struct {
	Realm        string `yaml:"realm"`
	HtpasswdFile string `yaml:"htpasswd_file"`
	// Users maps user names to password hashes (as `gatehouse passwd` prints them).
	Users map[string]string `yaml:"users"`
	// MaxFailures is how many failed attempts a client address may make per minute
	// before it is refused (429) without checking. Failures are counted together for
	// every basic authenticator with the same htpasswd_file and users, on any route.
	MaxFailures int `yaml:"max_failures"`
}

// JWTAuth verifies bearer tokens signed by an issuer's keys.
type JWTAuth struct {
	Issuer string `yaml:"issuer"`
	// JWKSURL is where the keys are; empty: read jwks_uri from the issuer's OpenID
	// discovery document.
	JWKSURL    string   `yaml:"jwks_url"`
	Audiences  []string `yaml:"audiences"`
	ClientIDs  []string `yaml:"client_ids"`
	Algorithms []string `yaml:"algorithms"`
	// Leeway tolerates clock skew on exp, nbf and iat.
	Leeway time.Duration `yaml:"leeway"`
	// TokenUse, for Cognito, requires token_use to be "id" or "access".
	TokenUse string `yaml:"token_use"`
	// Token sources, tried in this order: the Authorization header (unless
	// header: false), the query parameter, the cookie.
	Header     *bool  `yaml:"header"`
	QueryParam string `yaml:"query_param"`
	Cookie     string `yaml:"cookie"`
	// Claim rules; all must hold.
	Claims        []*ClaimRule `yaml:"claims"`
	EmailDomains  []string     `yaml:"email_domains"`
	EmailVerified bool         `yaml:"email_verified"`
	// HostedDomains are allowed values of Google's hd claim.
	HostedDomains []string `yaml:"hosted_domains"`
	// MinRefresh rate-limits JWKS re-fetches triggered by unknown key IDs.
	MinRefresh time.Duration `yaml:"min_refresh"`
	// JWKSWait is the longest a request waits for a key set fetch (a token with an
	// unknown kid waits for the refetch it triggers or joins); the fetch itself goes on
	// in the background. A key set that has never loaded is never waited for.
	JWKSWait time.Duration `yaml:"jwks_wait"`
}

// ClaimRule is one condition on a claim. Exactly one of Equals, OneOf, Contains is set.
// Values are compared as text: true, 42 and "42" are written as they appear in JSON
// without quotes for strings.
type ClaimRule struct {
	Claim    string   `yaml:"claim"`
	Equals   string   `yaml:"equals"`
	OneOf    []string `yaml:"one_of"`
	Contains string   `yaml:"contains"`
}

// CORS makes a route answer cross-origin requests and preflights. Preflight OPTIONS
// requests are answered by gatehouse without credentials and never reach the origin.
type CORS struct {
	// AllowedOrigins are exact origins ("https://app.example.com") or "*".
	AllowedOrigins   []string      `yaml:"allowed_origins"`
	AllowedMethods   []string      `yaml:"allowed_methods"`
	AllowedHeaders   []string      `yaml:"allowed_headers"`
	ExposeHeaders    []string      `yaml:"expose_headers"`
	MaxAge           time.Duration `yaml:"max_age"`
	AllowCredentials bool          `yaml:"allow_credentials"`
}

// Defaults for authenticators.
const (
	DefaultIPURLRefresh     = time.Hour
	DefaultSGRefresh        = 10 * time.Minute
	DefaultBasicRealm       = "gatehouse"
	DefaultBasicMaxFailures = 10
	DefaultJWTLeeway        = 30 * time.Second
	DefaultJWTMinRefresh    = time.Minute
	DefaultJWTJWKSWait      = time.Second
	MaxJWTJWKSWait          = 10 * time.Second
	DefaultCORSMaxAge       = 10 * time.Minute
	DefaultSignedCacheSize  = 10000
)

// DefaultSGPorts are the ports whose ingress rules an ip security_groups source reads.
var DefaultSGPorts = []int{80, 443}

func (a *Auth) applyDefaults() {
	if a.Mode == "" {
		a.Mode = "any"
	}
	for _, m := range a.Methods {
		if m == nil {
			continue
		}
		if m.Name == "" {
			m.Name = m.Kind()
		}
		if ip := m.IP; ip != nil {
			for _, u := range ip.URLs {
				if u != nil && u.Refresh == 0 {
					u.Refresh = DefaultIPURLRefresh
				}
			}
			for _, sg := range ip.SecurityGroups {
				if sg == nil {
					continue
				}
				if sg.Refresh == 0 {
					sg.Refresh = DefaultSGRefresh
				}
				if len(sg.Ports) == 0 {
					sg.Ports = append([]int(nil), DefaultSGPorts...)
				}
			}
		}
		if b := m.Basic; b != nil {
			if b.Realm == "" {
				b.Realm = DefaultBasicRealm
			}
			if b.MaxFailures == 0 {
				b.MaxFailures = DefaultBasicMaxFailures
			}
		}
		if l := m.Login; l != nil {
			l.applyDefaults()
		}
		if sg := m.Signed; sg != nil && sg.CacheSize == 0 {
			sg.CacheSize = DefaultSignedCacheSize
		}
		if j := m.JWT; j != nil {
			if len(j.Algorithms) == 0 {
				j.Algorithms = []string{"RS256"}
			}
			if j.Leeway == 0 {
				j.Leeway = DefaultJWTLeeway
			}
			if j.MinRefresh == 0 {
				j.MinRefresh = DefaultJWTMinRefresh
			}
			if j.JWKSWait == 0 {
				j.JWKSWait = DefaultJWTJWKSWait
			}
		}
	}
}

func (c *CORS) applyDefaults() {
	if len(c.AllowedMethods) == 0 {
		c.AllowedMethods = []string{"GET", "HEAD"}
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultCORSMaxAge
	}
}
