// Package jwtauth is the "jwt" authenticator: it accepts a request when it carries a JSON
// Web Token signed by one of the configured issuer's published keys, addressed to one of
// the configured audiences (or Cognito app clients), currently valid, and satisfying the
// configured claim rules.
//
// The issuer's keys (a JWKS) are fetched over HTTP, never at construction: New only
// checks the configuration, so `gatehouse check` can build an Authenticator offline.
// Start fetches them in the background and refreshes them periodically; Load fetches
// them once, synchronously. Until a key set has loaded the authenticator cannot decide
// and reports an outage (503) at once, never an allow, and never waits for a fetch.
// Once loaded, a failing JWKS endpoint leaves the last good set in use, and a token
// whose kid is unknown waits at most jwks_wait for the refetch it triggers before it is
// refused (the fetch goes on in the background), so a hanging endpoint never stalls
// requests longer than that.
//
// Only the configured asymmetric algorithms are accepted. "none" and HMAC (HS*) are
// refused when the token is parsed, whatever keys are published, so a token "signed"
// with a public key used as an HMAC secret never verifies. A key is used only for the
// token whose kid names it, and only if its type fits the token's algorithm.
//
// Outcomes map onto the policy errors: no token anywhere is policy.ErrNoCredentials; a
// token that is malformed, badly signed, expired, not yet valid, from another issuer or
// for another audience is policy.ErrBadCredentials (401 with a Bearer challenge); a
// valid token whose claims fail the rules (token_use, email, hd, claims) is
// policy.ErrForbidden (403).
package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/lifecycle"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// Interface guards: the gateway finds these capabilities by type assertion.
var (
	_ policy.Authenticator = (*Authenticator)(nil)
	_ policy.Challenger    = (*Authenticator)(nil)
	_ policy.Starter       = (*Authenticator)(nil)
	_ policy.Readier       = (*Authenticator)(nil)
	_ policy.Fresher       = (*Authenticator)(nil)
)

// MaxTokenBytes is the longest token accepted. Longer ones are refused as bad
// credentials before any parsing; real ID and access tokens are a few KiB at most.
const MaxTokenBytes = 16 << 10

// DefaultRefreshInterval is how often Start re-fetches the key set after a success.
const DefaultRefreshInterval = time.Hour

// ErrNoKeySet is wrapped by the error Authenticate returns while no key set has ever
// loaded. It is deliberately none of the policy errors, so the request is denied as an
// outage (503): the authenticator cannot tell good tokens from bad ones.
var ErrNoKeySet = errors.New("no signing keys loaded")

// Options are the runtime dependencies of an Authenticator. The zero value is usable.
type Options struct {
	// Logger receives key-set fetch results and failures; nil discards them.
	Logger *slog.Logger
	// Client fetches the discovery document and the JWKS; nil uses a client with a
	// 15-second overall timeout that follows at most 5 redirects, to https (or
	// loopback http) URLs only.
	Client *http.Client
	// Now is the clock for token times, cache expiry and the refetch rate limit; nil
	// uses time.Now.
	Now func() time.Time
	// RefreshInterval is how often Start re-fetches the key set after a success; zero
	// uses DefaultRefreshInterval.
	RefreshInterval time.Duration
	// Revocations are checked for every token, cached or not (by jti, and by sub with
	// iat); nil: revocation is off.
	Revocations *revoke.Set

	// For tests and benchmarks inside this package.
	disableCache bool
	retryMin     time.Duration // first retry delay after a failed background fetch
	retryMax     time.Duration // longest retry delay
}

// Authenticator verifies bearer JWTs against one issuer. It is safe for concurrent use.
// Its configuration is fixed at New; a configuration reload builds a new one.
type Authenticator struct {
	name        string
	issuer      string
	issuerAlt   string // a second accepted iss spelling (Google), or ""
	jwksURL     string // configured; "" means discover
	audiences   []string
	clientIDs   []string
	algs        []jose.SignatureAlgorithm
	leeway      time.Duration
	tokenUse    string
	header      bool
	queryParam  string
	cookie      string
	rules       []claimRule
	emailDoms   []string // lower case
	emailVerify bool
	hostedDoms  []string // lower case
	minRefresh  time.Duration
	wait        time.Duration // longest a request waits for a key set fetch

	log      *slog.Logger
	client   *http.Client
	now      func() time.Time
	interval time.Duration
	retryMin time.Duration
	retryMax time.Duration

	keys    atomic.Pointer[keySet] // nil until the first successful fetch
	cache   *verifyCache           // nil when disabled
	revoked *revoke.Set            // nil: off

	mu            sync.Mutex
	fetches       singleflight.Group // the fetch in progress, shared by every caller
	fetching      bool               // a fetch is in progress (its key is in fetches)
	lastTriggered time.Time          // last fetch triggered by a request (rate-limited)
	lastErr       error              // last fetch failure, cleared by a success
	lastOK        time.Time          // last successful fetch (Freshness)
	refreshErrors uint64             // failed fetches so far (Freshness)
	discovered    string             // jwks_uri read from discovery, cached until a failure
	life          lifecycle.Group    // the refresh loop and every fetch; Close waits for them
}

// New builds an Authenticator from a validated configuration without touching the
// network. It re-checks what would make verification unsafe (no issuer, no audience,
// none or HMAC algorithms) and returns an error rather than a weaker authenticator.
func New(name string, cfg *config.JWTAuth, opts Options) (*Authenticator, error) {
	if cfg == nil {
		return nil, errors.New("jwt: no configuration")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("jwt: issuer is required")
	}
	if len(cfg.Audiences)+len(cfg.ClientIDs) == 0 {
		return nil, errors.New("jwt: set audiences or client_ids")
	}
	a := &Authenticator{
		name:        name,
		issuer:      cfg.Issuer,
		jwksURL:     cfg.JWKSURL,
		audiences:   slices.Clone(cfg.Audiences),
		clientIDs:   slices.Clone(cfg.ClientIDs),
		leeway:      cfg.Leeway,
		tokenUse:    cfg.TokenUse,
		header:      cfg.Header == nil || *cfg.Header,
		queryParam:  cfg.QueryParam,
		cookie:      cfg.Cookie,
		emailVerify: cfg.EmailVerified,
		minRefresh:  cfg.MinRefresh,
		wait:        cfg.JWKSWait,
		log:         opts.Logger,
		client:      opts.Client,
		now:         opts.Now,
		interval:    opts.RefreshInterval,
		retryMin:    opts.retryMin,
		retryMax:    opts.retryMax,
		revoked:     opts.Revocations,
	}
	if a.name == "" {
		a.name = "jwt"
	}
	// Google documents both spellings of its issuer; accept the bare one too.
	if cfg.Issuer == "https://accounts.google.com" {
		a.issuerAlt = "accounts.google.com"
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	for _, s := range algs {
		if !slices.Contains(config.JWTAlgorithms, s) {
			return nil, fmt.Errorf("jwt: algorithm %q is not allowed (allowed: %s)", s, strings.Join(config.JWTAlgorithms, ", "))
		}
		a.algs = append(a.algs, jose.SignatureAlgorithm(s))
	}
	if !a.header && a.queryParam == "" && a.cookie == "" {
		return nil, errors.New("jwt: no token source (header is false, no query_param or cookie)")
	}
	for i, r := range cfg.Claims {
		cr, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("jwt: claims[%d]: %w", i, err)
		}
		a.rules = append(a.rules, cr)
	}
	for _, d := range cfg.EmailDomains {
		a.emailDoms = append(a.emailDoms, strings.ToLower(strings.TrimPrefix(d, "@")))
	}
	for _, d := range cfg.HostedDomains {
		a.hostedDoms = append(a.hostedDoms, strings.ToLower(d))
	}
	if a.leeway < 0 {
		a.leeway = 0
	}
	if a.minRefresh <= 0 {
		a.minRefresh = config.DefaultJWTMinRefresh
	}
	if a.wait <= 0 {
		a.wait = config.DefaultJWTJWKSWait
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("authenticator", a.name)
	if a.client == nil {
		a.client = &http.Client{Timeout: 15 * time.Second, CheckRedirect: checkRedirect}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.interval <= 0 {
		a.interval = DefaultRefreshInterval
	}
	if a.retryMin <= 0 {
		a.retryMin = time.Second
	}
	if a.retryMax <= 0 {
		a.retryMax = 5 * time.Minute
	}
	if !opts.disableCache {
		a.cache = newVerifyCache(defaultCacheEntries)
	}
	return a, nil
}

// Name identifies the authenticator in reasons and logs.
func (a *Authenticator) Name() string { return a.name }

// QueryParam is the query parameter tokens are read from, or "" when none is
// configured. The gateway must strip it from anything it forwards or logs: the token in
// it is a bearer credential.
func (a *Authenticator) QueryParam() string { return a.queryParam }

// Authenticate extracts a token from the request's sources (Authorization header,
// query parameter, cookie, in that order; the first present wins) and verifies it.
// It returns the token's identity, or an error wrapping policy.ErrNoCredentials,
// policy.ErrBadCredentials or policy.ErrForbidden; an error wrapping ErrNoKeySet (or a
// cancelled ctx) is an outage. Verified tokens are cached by their SHA-256 until they
// expire or for five minutes, whichever is sooner. Every token, cached or not, is then
// checked against Options.Revocations: a revoked one is policy.ErrBadCredentials
// ("token revoked", 401 with error="invalid_token"); a revocation list too stale to
// trust (revoke.ErrStale) is an outage.
func (a *Authenticator) Authenticate(ctx context.Context, r *policy.Request) (*policy.Identity, error) {
	if r == nil || r.HTTP == nil {
		return nil, policy.ErrNoCredentials
	}
	tok, err := a.extract(r.HTTP)
	if err != nil {
		return nil, err
	}
	return a.authenticateToken(ctx, tok)
}

func (a *Authenticator) authenticateToken(ctx context.Context, tok string) (*policy.Identity, error) {
	if len(tok) > MaxTokenBytes {
		return nil, bad("token too large", nil)
	}
	now := a.now()
	var key [32]byte
	if a.cache != nil {
		key = cacheKey(tok)
		if v, ok := a.cache.get(key, now); ok {
			if err := a.checkRevoked(&v); err != nil {
				return nil, err
			}
			return v.id, nil
		}
	}
	v, until, err := a.verify(ctx, tok, now)
	if err != nil {
		return nil, err
	}
	if a.cache != nil && now.Before(until) {
		a.cache.put(key, v, until, now)
	}
	if err := a.checkRevoked(v); err != nil {
		return nil, err
	}
	return cloneIdentity(v.id), nil
}

// checkRevoked checks a verified token against the revocations.
func (a *Authenticator) checkRevoked(v *verified) error {
	err := a.revoked.CheckJWT(v.jti, v.id.Subject, v.iat, v.hasIat)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, revoke.ErrRevoked):
		return bad("token revoked", err)
	}
	return fmt.Errorf("jwt %s: %w", a.name, err)
}

// Challenge returns the WWW-Authenticate value for a 401: a plain Bearer challenge when
// no token was sent, and an RFC 6750 invalid_token challenge carrying the short reason
// (never token contents) when one was refused. Other errors get no challenge.
func (a *Authenticator) Challenge(err error) string {
	switch {
	case errors.Is(err, policy.ErrNoCredentials):
		return `Bearer realm="gatehouse"`
	case errors.Is(err, policy.ErrBadCredentials):
		reason := "invalid token"
		var f *policy.Failure
		if errors.As(err, &f) && f.Detail != "" {
			reason = f.Detail
		}
		return `Bearer error="invalid_token", error_description="` + quoteEscape(reason) + `"`
	}
	return ""
}

// Ready returns nil once a key set has loaded, and until then an error saying why not.
func (a *Authenticator) Ready() error {
	if a.keys.Load() != nil {
		return nil
	}
	a.mu.Lock()
	last := a.lastErr
	a.mu.Unlock()
	if last != nil {
		return fmt.Errorf("jwt %s: %w: %w", a.name, ErrNoKeySet, last) // last may be a *probe.Error
	}
	return fmt.Errorf("jwt %s: %w yet", a.name, ErrNoKeySet)
}

// bad is a refusal of the token: a short public reason (the challenge carries it) and an
// optional cause that only the log sees.
func bad(reason string, cause error) error {
	return policy.Fail(policy.ErrBadCredentials, reason).Because(cause)
}

// forbidden is a valid token whose claims fail the rules, with a short public reason.
func forbidden(reason string) error {
	return policy.Fail(policy.ErrForbidden, reason)
}

// quoteEscape makes s safe inside a quoted-string: backslash and quote are escaped,
// control characters dropped.
func quoteEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func cloneIdentity(id *policy.Identity) *policy.Identity {
	c := *id
	c.Groups = slices.Clone(id.Groups)
	return &c
}
