package config

import "time"

// LoginAuth is the "login" authenticator: a browser sign-in with an OpenID provider
// (authorization-code flow with PKCE, state and nonce) that ends in CloudFront-format
// signed cookies. Requests are then allowed by those cookies alone, so the same cookies
// work on a CloudFront distribution trusting the same key group.
type LoginAuth struct {
	// Issuer is the OpenID provider's issuer URL; its discovery document is read from
	// ISSUER/.well-known/openid-configuration.
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// Scopes requested (default openid, email, profile; openid is always added).
	Scopes []string `yaml:"scopes"`
	// Hosts are the host names (with an optional :port) this sign-in serves. The login
	// and callback endpoints refuse a request for any other Host, and the host put in
	// issued cookie policies and in the provider's redirect_uri is the configured one,
	// never text from the request. Empty: the host of RedirectURL (one of the two is
	// required).
	Hosts []string `yaml:"hosts"`
	// RedirectURL is the absolute callback URL registered with the provider. Empty: the
	// request's scheme, the matching configured host and CallbackPath. Its host must be
	// one of Hosts.
	RedirectURL string `yaml:"redirect_url"`
	// Paths gatehouse answers itself, before any route (defaults under /_gatehouse/).
	LoginPath    string `yaml:"login_path"`
	CallbackPath string `yaml:"callback_path"`
	LogoutPath   string `yaml:"logout_path"`

	// Access rules on the verified ID token. Email rules (emails, email_domains) pass
	// when either list matches; every configured kind of rule must pass.
	EmailDomains []string `yaml:"email_domains"`
	Emails       []string `yaml:"emails"`
	// Groups: the GroupsClaim (default "groups") must contain at least one of these.
	Groups      []string `yaml:"groups"`
	GroupsClaim string   `yaml:"groups_claim"`
	// HostedDomains are allowed values of Google's hd claim (the Workspace domain).
	HostedDomains []string `yaml:"hosted_domains"`
	// EmailVerified requires email_verified to be true (default true).
	EmailVerified *bool `yaml:"email_verified"`

	// Cookie signing: the private key whose public key (KeyID) is in KeyGroup.
	KeyGroup       string `yaml:"key_group"`
	KeyID          string `yaml:"key_id"`
	PrivateKeyFile string `yaml:"private_key_file"`
	// CookieLifetime is how long issued cookies are valid (default 24h).
	CookieLifetime time.Duration `yaml:"cookie_lifetime"`
	// CookieResource is the signed policy's resource pattern. Empty:
	// "http*://HOST" + CookiePath + "*" for the configured host the visitor signed in on.
	CookieResource string `yaml:"cookie_resource"`
	// CookiePath is the cookies' Path attribute. Default: the longest folder prefix of
	// the paths of the routes this sign-in protects ("/www/" for "/www/*"), so its
	// cookies cover those routes and not the rest of the site.
	CookiePath   string `yaml:"cookie_path"`
	CookieDomain string `yaml:"cookie_domain"`
	// CookieSecure marks cookies Secure (default true). Turn it off only for tests on
	// plain http.
	CookieSecure *bool `yaml:"cookie_secure"`
	// ReturnHosts are hosts (besides the request's own, which relative return URLs
	// address) that an absolute return URL may point at.
	ReturnHosts []string `yaml:"return_hosts"`
	// LandingPath is where a browser goes when it has no (safe) page to return to: after
	// signing in without one, and from the built-in pages' buttons (sign in again, try
	// again). Default: the first path this sign-in protects. A route must serve it.
	LandingPath string `yaml:"landing_path"`
}

// ErrorPage says what a route answers instead of a plain error status. Exactly one of
// Page, Builtin and Login is set.
type ErrorPage struct {
	// Page is an object key on the route's origin (e.g. public/403.html).
	Page string `yaml:"page"`
	// Builtin is one of the embedded pages: login, denied, logged_out.
	Builtin string `yaml:"builtin"`
	// Login redirects (302) to the route's login authenticator, carrying the original
	// URL.
	Login bool `yaml:"login"`
	// Status is the status sent with the page (default: the original one).
	Status int `yaml:"status"`
	// CacheSeconds is the Cache-Control max-age of the response (default 0: no-store).
	CacheSeconds int `yaml:"cache_seconds"`
}

// Pages brands the built-in pages (login, denied, logged out, errors).
type Pages struct {
	Title   string `yaml:"title"`
	LogoURL string `yaml:"logo_url"`
	// Colours are CSS hex colours (#rgb or #rrggbb).
	PrimaryColor    string `yaml:"primary_color"`
	BackgroundColor string `yaml:"background_color"`
	TextColor       string `yaml:"text_color"`
}

// Defaults for the login authenticator.
const (
	ReservedPrefix        = "/_gatehouse/"
	DefaultLoginPath      = ReservedPrefix + "login"
	DefaultCallbackPath   = ReservedPrefix + "callback"
	DefaultLogoutPath     = ReservedPrefix + "logout"
	DefaultCookieLifetime = 24 * time.Hour
	DefaultGroupsClaim    = "groups"
)

func (l *LoginAuth) applyDefaults() {
	if l.LoginPath == "" {
		l.LoginPath = DefaultLoginPath
	}
	if l.CallbackPath == "" {
		l.CallbackPath = DefaultCallbackPath
	}
	if l.LogoutPath == "" {
		l.LogoutPath = DefaultLogoutPath
	}
	if len(l.Scopes) == 0 {
		l.Scopes = []string{"openid", "email", "profile"}
	}
	if l.GroupsClaim == "" {
		l.GroupsClaim = DefaultGroupsClaim
	}
	if l.EmailVerified == nil {
		t := true
		l.EmailVerified = &t
	}
	if l.CookieSecure == nil {
		t := true
		l.CookieSecure = &t
	}
	if l.CookieLifetime == 0 {
		l.CookieLifetime = DefaultCookieLifetime
	}
	// CookiePath and LandingPath depend on the routes: Config.applyLoginDefaults.
}
