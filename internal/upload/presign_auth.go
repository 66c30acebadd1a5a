package upload

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// GatewayAuth accepts gateway-signed uploads on the route that issued them: a PUT whose
// query carries a grant (see Signer) for exactly the key the request's path maps to,
// unexpired, with a Content-Length within the grant's size and the grant's exact
// Content-Type. It establishes the original caller's identity (User and Email), so the
// route's key_prefix and the write path see who asked for the upload. It never
// identifies any other request: GET, HEAD, DELETE, another key or a PUT without a grant
// get no identity from it, whatever their query says.
type GatewayAuth struct {
	Route  string
	Keys   route.KeyMap
	Signer *Signer
	Now    func() time.Time // nil: time.Now
}

var _ policy.Authenticator = (*GatewayAuth)(nil)

// Name implements policy.Authenticator.
func (a *GatewayAuth) Name() string { return "presigned-upload" }

// Authenticate implements policy.Authenticator.
func (a *GatewayAuth) Authenticate(_ context.Context, r *policy.Request) (*policy.Identity, error) {
	h := r.HTTP
	if !HasGrant(h.URL.RawQuery) {
		return nil, policy.ErrNoCredentials
	}
	if h.Method != http.MethodPut {
		return nil, policy.Fail(policy.ErrForbidden, "an upload signature is only good for PUT")
	}
	path, err := reqpath.Clean(h.URL.EscapedPath())
	if err != nil {
		return nil, policy.Fail(policy.ErrBadCredentials, "upload signature on a bad path")
	}
	key, ok := a.Keys.Key(path)
	if !ok {
		return nil, policy.Fail(policy.ErrBadCredentials, "upload signature on a folder")
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	g, err := a.Signer.Verify(h.URL.RawQuery, a.Route, key, now())
	if err != nil {
		return nil, policy.Fail(policy.ErrBadCredentials, "invalid or expired upload signature").Because(err)
	}
	if ct := h.Header.Values("Content-Type"); g.ContentType != "" && (len(ct) != 1 || ct[0] != g.ContentType) {
		return nil, policy.Fail(policy.ErrForbidden, "Content-Type differs from the signed one")
	}
	if h.ContentLength < 0 || h.ContentLength > g.MaxSize || len(h.TransferEncoding) > 0 {
		return nil, policy.Fail(policy.ErrForbidden, fmt.Sprintf("a signed upload needs a Content-Length of at most %d bytes", g.MaxSize))
	}
	subject := "presigned upload"
	if g.User != "" {
		subject = g.User
	}
	return &policy.Identity{Subject: subject, User: g.User, Email: g.Email, Source: a.Name(), Display: g.User}, nil
}

// WithGatewayAuth returns the route's policy with a accepted besides: a request is
// allowed when a identifies it, or when p would allow it. p itself is not changed (the
// upload endpoint keeps deciding with it alone: a signature never buys another
// signature).
func WithGatewayAuth(p *policy.Policy, a *GatewayAuth) *policy.Policy { return withAuth(p, a) }

func withAuth(p *policy.Policy, a policy.Authenticator) *policy.Policy {
	if p.Mode == policy.Any {
		auths := append([]policy.Authenticator{}, p.Authenticators...)
		return &policy.Policy{Public: p.Public, Mode: policy.Any, Authenticators: append(auths, a)}
	}
	return &policy.Policy{Public: p.Public, Mode: policy.Any, Authenticators: []policy.Authenticator{&allOf{p: p}, a}}
}

// allOf is a mode-all policy seen as one authenticator, for WithGatewayAuth.
type allOf struct{ p *policy.Policy }

// denied carries a wrapped policy's denial: its failure and its challenges.
type denied struct {
	*policy.Failure
	challenges []string
}

func (d *denied) Unwrap() error { return d.Failure }

func (a *allOf) Name() string { return "all" }

func (a *allOf) Authenticate(ctx context.Context, r *policy.Request) (*policy.Identity, error) {
	d := a.p.Decide(ctx, r)
	if d.Allow {
		return d.Identity, nil
	}
	kind := policy.ErrForbidden
	switch d.Status {
	case http.StatusUnauthorized:
		kind = policy.ErrBadCredentials
	case http.StatusTooManyRequests:
		kind = policy.ErrRateLimited
	case http.StatusServiceUnavailable:
		return nil, fmt.Errorf("%s", d.Reason) // an outage
	}
	return nil, &denied{Failure: policy.Fail(kind, d.Reason), challenges: d.Challenges}
}

func (a *allOf) Challenge(err error) string {
	if d, ok := err.(*denied); ok {
		return strings.Join(d.challenges, ", ")
	}
	return ""
}
