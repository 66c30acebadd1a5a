// Package loginauth is the "login" authenticator: employees-only sites without an
// application. A browser without valid cookies is sent (by the gateway) to the login
// path; gatehouse runs the OpenID Connect authorization-code flow with PKCE, state and
// nonce against the configured provider, verifies the ID token, applies the access
// rules, and issues CloudFront-format signed cookies (cfsign.SignCookies) before
// redirecting back to the page the visitor asked for. Authenticate then accepts exactly
// those cookies: verified by the signed authenticator on a configured host, and with the
// very policy resource this sign-in issues (not another sign-in's sharing the key, nor
// a signed URL). The same cookies would also work on a CloudFront distribution trusting
// the same key group.
//
// What the cookies open is scoped to what the sign-in protects: the resource ends in
// cookie_path (by default the folder of its routes), hosts come from configuration, and
// `gatehouse check` refuses scopes that reach a route where another authenticator
// trusts the same key (config.validateLoginScopes).
//
// Flow (all under the configured paths, /_gatehouse/ by default):
//
//	GET login?rd=/www/page   -> state, nonce, PKCE verifier sealed into an HttpOnly
//	                            cookie scoped to the callback path; 302 to the provider
//	GET callback?code&state  -> cookie opened and cleared (single use), state compared,
//	                            code exchanged with the verifier, ID token verified
//	                            (signature, issuer, audience, expiry, nonce), rules
//	                            applied; signed cookies set; 302 to rd
//	GET logout               -> signed cookies cleared; "signed out" page
//
// Every failure is answered with a built-in page that names no cause; the cause goes to
// the log.
package loginauth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/auth/signedauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

var _ policy.Authenticator = (*Authenticator)(nil)

// Options are the runtime dependencies of an Authenticator. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// HTTPClient talks to the provider (discovery, keys, token endpoint); nil: a client
	// with a 10 second timeout.
	HTTPClient *http.Client
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Pages renders the built-in pages; nil: unbranded pages.
	Pages *pages.Set
	// Spent remembers used sign-in states; nil: a new in-process Spent of its own.
	Spent SpentStates
	// Revocations are checked for every request's cookies (user, key and policy
	// revocations); nil: revocation is off.
	Revocations *revoke.Set
}

// Authenticator is the login authenticator and its endpoints. It is safe for concurrent
// use; configuration reloads build a new one.
type Authenticator struct {
	name        string
	cfg         *config.LoginAuth
	signed      *signedauth.Authenticator
	key         crypto.Signer
	sealer      *sealer
	spent       SpentStates
	returnHosts map[string]bool
	hosts       []string // configured hosts, lower-case: the only ones signed for
	log         *slog.Logger
	client      *http.Client
	now         func() time.Time
	pages       *pages.Set
	revoked     *revoke.Set // nil: off

	mu        sync.Mutex
	provider  *oidc.Provider     // discovered on first use; a failure is retried next time
	discovery singleflight.Group // the discovery in progress, shared by concurrent requests
}

// New builds the authenticator: it reads the private key and the key group's public keys
// and checks that the key group verifies what the private key signs. It does not touch
// the network; the provider's discovery document is read on the first sign-in.
func New(name string, cfg *config.LoginAuth, groups map[string]*config.KeyGroup, opts Options) (*Authenticator, error) {
	if cfg == nil {
		return nil, errors.New("login: no configuration")
	}
	data, err := os.ReadFile(cfg.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("login: private key: %w", err)
	}
	key, err := cfsign.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("login: private key %s: %w", cfg.PrivateKeyFile, err)
	}
	if err := checkKeyInGroup(key, cfg, groups); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	hosts := configuredHosts(cfg)
	if len(hosts) == 0 {
		return nil, errors.New("login: no hosts configured (set hosts or redirect_url)")
	}
	signed, err := signedauth.New(name, &config.SignedAuth{KeyGroups: []string{cfg.KeyGroup}, Hosts: hosts}, groups, signedauth.Options{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("login: private key: %w", err)
	}
	sl, err := newSealer(append(der, cfg.ClientSecret...))
	if err != nil {
		return nil, err
	}
	a := &Authenticator{name: name, cfg: cfg, signed: signed, key: key, sealer: sl, log: opts.Logger,
		client: opts.HTTPClient, now: opts.Now, pages: opts.Pages, returnHosts: map[string]bool{}, hosts: hosts,
		revoked: opts.Revocations}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 10 * time.Second}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.pages == nil {
		a.pages = pages.New(config.Pages{})
	}
	a.spent = opts.Spent
	if a.spent == nil {
		a.spent = NewSpent()
	}
	for _, h := range cfg.ReturnHosts {
		a.returnHosts[strings.ToLower(h)] = true
	}
	return a, nil
}

// configuredHosts are the hosts a sign-in serves: hosts, else the host of redirect_url.
func configuredHosts(cfg *config.LoginAuth) []string {
	var out []string
	for _, h := range cfg.Hosts {
		out = append(out, strings.ToLower(h))
	}
	if len(out) == 0 && cfg.RedirectURL != "" {
		if u, err := url.Parse(cfg.RedirectURL); err == nil && u.Host != "" {
			out = append(out, strings.ToLower(u.Host))
		}
	}
	return out
}

// host returns the configured host the request is for, or false when its Host header
// names none of them. What goes into a policy or a redirect_uri is the configured
// value, never the request's text.
func (a *Authenticator) host(r *http.Request, scheme string) (string, bool) {
	got := config.NormalHost(r.Host, scheme)
	for _, h := range a.hosts {
		if h = config.NormalHost(h, scheme); h == got {
			return h, true
		}
	}
	return "", false
}

// checkKeyInGroup makes sure the key group's key with the configured ID is the public
// half of the private key: otherwise every cookie issued would be refused.
func checkKeyInGroup(key crypto.Signer, cfg *config.LoginAuth, groups map[string]*config.KeyGroup) error {
	g := groups[cfg.KeyGroup]
	if g == nil {
		return fmt.Errorf("no key group named %q", cfg.KeyGroup)
	}
	for _, k := range g.Keys {
		if k == nil || k.ID != cfg.KeyID {
			continue
		}
		data := []byte(k.PEM)
		if k.File != "" {
			var err error
			if data, err = os.ReadFile(k.File); err != nil {
				return err
			}
		}
		pub, err := cfsign.ParsePublicKeyPEM(data)
		if err != nil {
			return fmt.Errorf("key group %q, key %s: %w", cfg.KeyGroup, k.ID, err)
		}
		if eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
			return fmt.Errorf("private_key_file is not the private half of key %s in key group %q", k.ID, cfg.KeyGroup)
		}
		return nil
	}
	return fmt.Errorf("key group %q has no key %s", cfg.KeyGroup, cfg.KeyID)
}

// Name identifies the authenticator in reasons and logs.
func (a *Authenticator) Name() string { return a.name }

// Authenticate accepts exactly the signed cookies this authenticator issues: verified
// with its key group, on a configured host, with the policy resource it signs for that
// host today. So cookies from another sign-in sharing the key, cookies issued under an
// older, wider scope, and signed URLs are refused. No cookies is
// policy.ErrNoCredentials; cookies that do not verify (expired, other path, altered,
// another resource) are policy.ErrForbidden.
//
// With revocation on (Options.Revocations), the sealed user cookie is required too
// (without it, policy.ErrBadCredentials: 401, so a browser signs in again), and the
// cookies are checked against the revocations with their exact issue time (the user
// cookie's, else DateLessThan minus cookie_lifetime): a user revocation, a key
// revocation with a time, or a policy revocation is policy.ErrBadCredentials (401: a
// fresh sign-in issues new cookies that pass); a key revoked outright is
// policy.ErrForbidden (403: signing in again would only be refused again). A
// revocation list too stale to trust is an outage (503).
func (a *Authenticator) Authenticate(ctx context.Context, r *policy.Request) (*policy.Identity, error) {
	res, err := a.signed.Verify(ctx, r)
	if err != nil {
		return nil, err
	}
	host, _ := a.host(r.HTTP, signedauth.Scheme(r)) // Verify refused other hosts
	if !res.FromCookies || res.Canned || res.Policy.Resource != a.resource(host) {
		return nil, policy.Fail(policy.ErrForbidden, fmt.Sprintf("not the cookies this sign-in issues (resource %q)", clip(res.Policy.Resource)))
	}
	u, ok := a.signedInUser(r.HTTP)
	if a.revoked != nil {
		if !ok {
			return nil, policy.Fail(policy.ErrBadCredentials, "no valid "+userCookie+" cookie (revocation needs it): sign in again")
		}
		if err := a.checkRevoked(res, u); err != nil {
			return nil, err
		}
	}
	return &policy.Identity{Subject: "key:" + res.KeyID, Source: "login", User: u.Name, Display: u.Name}, nil
}

// checkRevoked checks verified cookies and their user cookie against the revocations.
func (a *Authenticator) checkRevoked(res cfsign.Result, u user) error {
	issued := time.Unix(u.Issued, 0)
	if u.Issued == 0 {
		issued = res.Policy.DateLessThan.Add(-a.cfg.CookieLifetime)
	}
	err := a.revoked.CheckSignedIssued(res.KeyID, func() [32]byte { return sha256.Sum256(res.PolicyBytes) }, res.Policy.DateLessThan, issued)
	if err == nil {
		err = a.revoked.CheckUser(u.Name, issued)
	}
	var re *revoke.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re) && re.Revocation.Kind == revoke.KindKey && re.Revocation.Before.IsZero():
		return policy.Fail(policy.ErrForbidden, "").Because(err)
	case errors.Is(err, revoke.ErrRevoked):
		return policy.Fail(policy.ErrBadCredentials, "signed-in cookies revoked: sign in again").Because(err)
	}
	return fmt.Errorf("login: %w", err)
}

// resource is the policy resource this sign-in signs for a configured host.
func (a *Authenticator) resource(host string) string {
	if a.cfg.CookieResource != "" {
		return a.cfg.CookieResource
	}
	return "http*://" + host + a.cfg.CookiePath + "*"
}

// Paths returns the login, callback and logout paths this authenticator serves.
func (a *Authenticator) Paths() []string {
	return []string{a.cfg.LoginPath, a.cfg.CallbackPath, a.cfg.LogoutPath}
}

// LoginURL is the login path with returnTo (a relative URL on this site) as the place to
// come back to.
func (a *Authenticator) LoginURL(returnTo string) string {
	if returnTo == "" {
		return a.cfg.LoginPath
	}
	return a.cfg.LoginPath + "?rd=" + url.QueryEscape(returnTo)
}

// ServeEndpoint answers a request for one of Paths. scheme is how the client reached
// gatehouse (http or https, trusted proxies considered).
func (a *Authenticator) ServeEndpoint(w http.ResponseWriter, r *http.Request, path, scheme string) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !(path == a.cfg.LogoutPath && r.Method == http.MethodPost) {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.WriteStatus(w, http.StatusMethodNotAllowed)
		return
	}
	if path == a.cfg.LoginPath || path == a.cfg.CallbackPath {
		host, ok := a.host(r, scheme)
		if !ok {
			// Nothing is signed and no provider is contacted for a host the
			// configuration does not name (RFC 9110 15.5.20).
			a.log.Warn("login: request for a host this sign-in does not serve", "host", clip(r.Host))
			httpx.WriteStatus(w, http.StatusMisdirectedRequest)
			return
		}
		if path == a.cfg.LoginPath {
			a.login(w, r, scheme, host)
		} else {
			a.callback(w, r, scheme, host)
		}
		return
	}
	switch path {
	case a.cfg.LogoutPath:
		a.logout(w, r)
	default:
		http.NotFound(w, r)
	}
}

// discoveryTimeout bounds one provider discovery, which runs on after the request that
// began it has gone, for the requests that joined it.
const discoveryTimeout = 30 * time.Second

// getProvider returns the provider, discovering it on first use. Discovery runs outside
// a.mu, so a slow issuer holds up only the requests that need the provider, and each of
// those stops waiting when its own ctx ends; concurrent first requests share one
// discovery (singleflight). A failure is not kept: the next request discovers again.
func (a *Authenticator) getProvider(ctx context.Context) (*oidc.Provider, error) {
	a.mu.Lock()
	p := a.provider
	a.mu.Unlock()
	if p != nil {
		return p, nil
	}
	result := a.discovery.DoChan("", func() (any, error) {
		a.mu.Lock()
		p := a.provider // published by a discovery that ended since the check above
		a.mu.Unlock()
		if p != nil {
			return p, nil
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
		defer cancel()
		p, err := oidc.NewProvider(oidc.ClientContext(dctx, a.client), a.cfg.Issuer)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.provider = p
		a.mu.Unlock()
		return p, nil
	})
	select {
	case r := <-result:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*oidc.Provider), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *Authenticator) oauth2Config(p *oidc.Provider, scheme, host string) *oauth2.Config {
	redirect := a.cfg.RedirectURL
	if redirect == "" {
		redirect = scheme + "://" + host + a.cfg.CallbackPath
	}
	scopes := slices.Clone(a.cfg.Scopes)
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return &oauth2.Config{ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: scopes}
}

// returnTo validates a requested return URL; a missing or unsafe one becomes the
// landing path.
func (a *Authenticator) returnTo(raw string) string {
	if u, ok := SafeReturn(raw, a.returnHosts); ok {
		return u
	}
	if raw != "" {
		a.log.Warn("login: unsafe return URL refused", "rd", clip(raw))
	}
	return a.Landing()
}

// Landing is where a browser goes when it has no page to return to.
func (a *Authenticator) Landing() string {
	if a.cfg.LandingPath == "" {
		return "/"
	}
	return a.cfg.LandingPath
}

func (a *Authenticator) login(w http.ResponseWriter, r *http.Request, scheme, host string) {
	ret := a.returnTo(r.URL.Query().Get("rd"))
	p, err := a.getProvider(r.Context())
	if err != nil {
		a.fail(w, failed(http.StatusBadGateway, ret, "provider discovery failed", err))
		return
	}
	f := &flow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Return: ret,
		Expires: a.now().Add(stateTTL).Unix()}
	v, err := a.sealer.seal(f)
	if err != nil {
		a.fail(w, failed(http.StatusInternalServerError, ret, "sealing the sign-in state", err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: v, Path: a.cfg.CallbackPath, MaxAge: int(stateTTL.Seconds()),
		Secure: *a.cfg.CookieSecure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if r.URL.Query().Get("prompt") == "login" {
		// "Sign in with another account" from the denied page: ask the provider to
		// show its sign-in form again instead of reusing its session.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	u := a.oauth2Config(p, scheme, host).AuthCodeURL(f.State, opts...)
	http.Redirect(w, r, u, http.StatusFound)
}

// check applies the access rules to verified ID token claims. The error says which rule
// failed, for the log.
func (a *Authenticator) check(claims map[string]any) error {
	email := strings.ToLower(claimString(claims, "email"))
	if *a.cfg.EmailVerified && !claimTrue(claims["email_verified"]) {
		return fmt.Errorf("email %q is not verified", email)
	}
	if len(a.cfg.Emails)+len(a.cfg.EmailDomains) > 0 {
		ok := false
		for _, e := range a.cfg.Emails {
			ok = ok || (email != "" && strings.EqualFold(e, email))
		}
		if at := strings.LastIndexByte(email, '@'); at > 0 {
			for _, d := range a.cfg.EmailDomains {
				ok = ok || strings.EqualFold(strings.TrimPrefix(d, "@"), email[at+1:])
			}
		}
		if !ok {
			return fmt.Errorf("email %q is not an allowed address or domain", email)
		}
	}
	if len(a.cfg.HostedDomains) > 0 {
		hd := claimString(claims, "hd")
		if hd == "" || !slices.ContainsFunc(a.cfg.HostedDomains, func(d string) bool { return strings.EqualFold(d, hd) }) {
			return fmt.Errorf("hosted domain %q is not allowed", hd)
		}
	}
	if len(a.cfg.Groups) > 0 {
		have := claimStrings(claims[a.cfg.GroupsClaim])
		if !slices.ContainsFunc(have, func(g string) bool { return slices.Contains(a.cfg.Groups, g) }) {
			return fmt.Errorf("none of the groups in %q is allowed", a.cfg.GroupsClaim)
		}
	}
	return nil
}

// issue signs the cookie set for a configured host (never the request's Host text) and
// the cookie path, and adds the user cookie that names who signed in, for the log.
func (a *Authenticator) issue(host, who string, now time.Time) ([]*http.Cookie, error) {
	exp := now.Add(a.cfg.CookieLifetime)
	cookies, err := cfsign.SignCookies(a.cfg.KeyID, a.key, cfsign.SignOptions{Resource: a.resource(host), Expires: exp})
	if err != nil {
		return nil, err
	}
	uc, err := a.userCookie(who, signatureOf(cookies), now, exp)
	if err != nil {
		return nil, err
	}
	cookies = append(cookies, uc)
	for _, c := range cookies {
		a.scope(c)
		c.MaxAge = int(a.cfg.CookieLifetime.Seconds())
		c.Expires = exp
	}
	return cookies, nil
}

func (a *Authenticator) scope(c *http.Cookie) {
	c.Path, c.Domain = a.cfg.CookiePath, a.cfg.CookieDomain
	c.Secure, c.HttpOnly, c.SameSite = *a.cfg.CookieSecure, true, http.SameSiteLaxMode
}

// cookieNames are every cookie a sign-in may set.
var cookieNames = []string{cfsign.CookiePolicy, cfsign.CookieExpires, cfsign.CookieSignature, cfsign.CookieKeyPairID, cfsign.CookieHashAlgorithm, userCookie}

func (a *Authenticator) logout(w http.ResponseWriter, r *http.Request) {
	for _, n := range cookieNames {
		c := &http.Cookie{Name: n, Value: "", MaxAge: -1}
		a.scope(c)
		http.SetCookie(w, c)
		if c.Path != "/" {
			// Cookies issued before cookie_path defaulted to the sign-in's folder
			// were set on "/": clear those too.
			old := *c
			old.Path = "/"
			http.SetCookie(w, &old)
		}
	}
	w.Header().Set("Clear-Site-Data", `"cache"`)
	ret := a.returnTo(r.URL.Query().Get("rd"))
	a.pages.Write(w, http.StatusOK, pages.Defaults(pages.LoggedOut, a.LoginURL(ret)))
}

func claimString(c map[string]any, name string) string {
	s, _ := c[name].(string)
	return s
}

// claimTrue accepts JSON true and the string "true" (Cognito sends email_verified as a
// string).
func claimTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// claimStrings reads a list claim (or a single string, as some providers send one group
// that way).
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
