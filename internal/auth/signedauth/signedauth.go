// Package signedauth is the "signed" authenticator: it accepts requests carrying a
// CloudFront-format signed URL or signed cookies made with a key of one of the trusted
// key groups, so applications that sign for CloudFront sign for gatehouse unchanged.
//
// The signed resource is rebuilt from what the client asked for: the scheme the client
// used (policy.Request.Scheme: the gateway resolves a trusted proxy's forwarded proto),
// the request's Host (lower-cased, without the scheme's default port; when the
// configuration lists hosts it must be one of them), the escaped path as sent, and the
// query minus the signing parameters (cfsign.StripQuery). Behind a load balancer or
// another CDN, configure hosts with the public name the URLs are signed for, and make
// sure the proxy passes that Host through and is trusted for X-Forwarded-Proto.
//
// Outcomes: no signing parameters and no CloudFront-* cookies is policy.ErrNoCredentials
// (another authenticator may apply). Any verification failure (unknown key, malformed
// policy, bad signature, expired, not yet valid, wrong address, resource not covered,
// unsupported hash, a host not listed) is policy.ErrForbidden, as CloudFront answers 403
// for all of them; the error's text is the specific reason for the log, and it also
// wraps the cfsign reason for errors.Is. A signature that verifies but is revoked (by
// its policy or its key, Options.Revocations) is policy.ErrForbidden too, wrapping
// revoke.ErrRevoked; a revocation list too stale to trust (revoke.ErrStale) is an
// outage (503). Success is the identity "key:<key ID>".
package signedauth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

var _ policy.Authenticator = (*Authenticator)(nil)

// QueryParams returns the query parameters a signed URL adds (Expires, Policy,
// Signature, Key-Pair-Id, Hash-Algorithm). The gateway removes them, by their decoded
// names as cfsign.StripQuery does, before any origin call or cache key. A fresh slice.
func QueryParams() []string { return cfsign.SigningParams() }

// Options are the runtime dependencies of an Authenticator. The zero value is usable.
type Options struct {
	// Now is the clock for policy times; nil uses time.Now.
	Now func() time.Time
	// Revocations are checked after a signature verifies; nil: revocation is off.
	Revocations *revoke.Set
}

// Authenticator verifies CloudFront signed URLs and cookies. It is safe for concurrent
// use and immutable: a configuration reload builds a new one (with a new cache).
type Authenticator struct {
	name     string
	hosts    map[string]map[string]bool // scheme -> hosts normalised for it (config.NormalHost); nil: any host
	cookies  bool
	verifier *cfsign.Verifier
	now      func() time.Time
	revoked  *revoke.Set // nil: off
	// ids holds the identity of each trusted key, made once: shared by the requests
	// signed with it, so read-only (nothing in gatehouse writes into an Identity).
	ids map[string]*policy.Identity
}

// New builds the authenticator from its configuration and the top-level key groups,
// reading key files now (relative paths are used as given, against the working
// directory). Errors name the key group and key ID. Keys are RSA (2048 bits or more) or
// ECDSA P-256, PEM "PUBLIC KEY" or "RSA PUBLIC KEY". A key ID listed in two trusted
// groups must name the same key.
func New(name string, cfg *config.SignedAuth, groups map[string]*config.KeyGroup, opts Options) (*Authenticator, error) {
	if cfg == nil {
		return nil, errors.New("signed: no configuration")
	}
	if len(cfg.KeyGroups) == 0 {
		return nil, errors.New("signed: no key groups")
	}
	keys := map[string]crypto.PublicKey{}
	from := map[string]string{} // key ID -> group it was first loaded from
	for _, gname := range cfg.KeyGroups {
		g := groups[gname]
		if g == nil {
			return nil, fmt.Errorf("signed: no key group named %q", gname)
		}
		for _, k := range g.Keys {
			if k == nil {
				continue
			}
			pub, err := loadKey(k)
			if err != nil {
				return nil, fmt.Errorf("key group %q, key %s: %w", gname, k.ID, err)
			}
			if prev, ok := keys[k.ID]; ok {
				if eq, ok := prev.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
					return nil, fmt.Errorf("key ID %s names different keys in key groups %q and %q", k.ID, from[k.ID], gname)
				}
				continue
			}
			keys[k.ID], from[k.ID] = pub, gname
		}
	}
	size := cfg.CacheSize
	if size == 0 {
		size = config.DefaultSignedCacheSize
	}
	v, err := cfsign.NewVerifier(keys, cfsign.VerifierOptions{CacheSize: size})
	if err != nil {
		return nil, fmt.Errorf("signed: %w", err)
	}
	a := &Authenticator{name: name, cookies: cfg.Cookies == nil || *cfg.Cookies, verifier: v, now: opts.Now, revoked: opts.Revocations,
		ids: make(map[string]*policy.Identity, len(keys))}
	for id := range keys {
		a.ids[id] = &policy.Identity{Subject: "key:" + id, Source: "signed"}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if len(cfg.Hosts) > 0 {
		a.hosts = map[string]map[string]bool{"http": {}, "https": {}}
		for scheme, set := range a.hosts {
			for _, h := range cfg.Hosts {
				set[config.NormalHost(h, scheme)] = true
			}
		}
	}
	return a, nil
}

func loadKey(k *config.PublicKey) (crypto.PublicKey, error) {
	data := []byte(k.PEM)
	if k.File != "" {
		var err error
		if data, err = os.ReadFile(k.File); err != nil {
			return nil, err
		}
	}
	pub, err := cfsign.ParsePublicKeyPEM(data)
	if err != nil && k.File != "" {
		return nil, fmt.Errorf("%s: %w", k.File, err)
	}
	return pub, err
}

// Name identifies the authenticator in reasons and logs.
func (a *Authenticator) Name() string { return a.name }

// forbidden is a verification failure: policy.ErrForbidden for the decision, the cfsign
// reason as its cause (for the log and errors.Is). With no detail, the failure reads as
// the reason alone: the policy prefixes the authenticator's name.
func forbidden(reason error) error { return policy.Fail(policy.ErrForbidden, "").Because(reason) }

// Authenticate verifies the request's signed URL parameters or, when there are none and
// cookies are enabled, its CloudFront-* cookies.
func (a *Authenticator) Authenticate(ctx context.Context, r *policy.Request) (*policy.Identity, error) {
	res, err := a.Verify(ctx, r)
	if err != nil {
		return nil, err
	}
	if id, ok := a.ids[res.KeyID]; ok {
		return id, nil
	}
	return &policy.Identity{Subject: "key:" + res.KeyID, Source: "signed"}, nil
}

// Verify is Authenticate returning what allowed the request: the key, the policy, and
// whether it came from cookies. Errors are Authenticate's.
func (a *Authenticator) Verify(_ context.Context, r *policy.Request) (cfsign.Result, error) {
	if r == nil || r.HTTP == nil || r.HTTP.URL == nil {
		return cfsign.Result{}, policy.Fail(policy.ErrNoCredentials, "no request")
	}
	req := r.HTTP
	qc, qerr := cfsign.QueryCredentials(req.URL.RawQuery)
	var cc cfsign.Credentials
	if a.cookies {
		cc = cfsign.CookieCredentials(req.Cookies())
	}
	if qerr == nil && qc.Empty() && cc.Empty() {
		return cfsign.Result{}, policy.Fail(policy.ErrNoCredentials, "no signed URL parameters or CloudFront cookies")
	}
	if qerr != nil {
		return cfsign.Result{}, forbidden(qerr)
	}
	scheme := Scheme(r)
	host := config.NormalHost(req.Host, scheme)
	if a.hosts != nil && !a.hosts[scheme][host] {
		return cfsign.Result{}, forbidden(hostNotSigned(clip(host)))
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	resource := scheme + "://" + host + path
	if q := cfsign.StripQuery(req.URL.RawQuery); q != "" {
		resource += "?" + q
	}
	res, err := a.verifier.Verify(cfsign.VerifyInput{
		Resource: resource, Query: qc, Cookies: cc, Client: r.Client, Now: a.now(),
	})
	if err != nil {
		return cfsign.Result{}, forbidden(err)
	}
	if err := CheckRevoked(a.revoked, res, time.Time{}); err != nil {
		return cfsign.Result{}, err
	}
	return res, nil
}

// CheckRevoked checks a signature Verify accepted against set (nil: revocation off):
// its key (issued, when not zero, is the policy's exact issue time, as the login
// authenticator knows it), then its policy, hashed only when a policy revocation
// exists. A match is policy.ErrForbidden wrapping revoke.ErrRevoked; any other error
// (revoke.ErrStale) is returned wrapped, an outage (503).
func CheckRevoked(set *revoke.Set, res cfsign.Result, issued time.Time) error {
	if set == nil {
		return nil
	}
	err := set.CheckSignedIssued(res.KeyID, func() [32]byte { return sha256.Sum256(res.PolicyBytes) }, res.Policy.DateLessThan, issued)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, revoke.ErrRevoked):
		return forbidden(err)
	}
	return fmt.Errorf("signed: %w", err)
}

// Scheme is how the client reached gatehouse: r.Scheme (the gateway resolves a trusted
// proxy's forwarded proto), else from the connection.
func Scheme(r *policy.Request) string {
	if r.Scheme == "http" || r.Scheme == "https" {
		return r.Scheme
	}
	if r.HTTP != nil && r.HTTP.TLS != nil {
		return "https"
	}
	return "http"
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
