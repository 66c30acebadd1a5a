package upload

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// Endpoint is one route's upload endpoint, config.UploadEndpointPrefix + route name +
// "/": authorized callers ask it for presigned uploads (presign.go) and drive Uppy's
// multipart calls under "s3/" (uppy.go). The gateway builds one per route with a presign
// section and never mutates it afterwards.
//
// Every call is authorized with the route's own policy, as a PUT to the route would be
// (without the gateway-signed upload authenticator: a signature never buys another
// signature), and fails closed: a denial, an outage or an identity that cannot name the
// route's key prefix answers an error and signs nothing.
type Endpoint struct {
	// Route is the route's name; Base the endpoint's path (prefix, name, "/").
	Route, Base string
	// Policy is the route's policy as configured.
	Policy *policy.Policy
	// Pattern and Keys are the route's path pattern and key mapping: a "key" a caller
	// names is a path on the route, mapped as a request for it would be.
	Pattern route.Pattern
	Keys    route.KeyMap
	// Owns reports whether a cleaned path is served by this route (no earlier route
	// takes it), so a gateway-signed URL always reaches this route. Nil: any path the
	// pattern matches.
	Owns func(path string) bool
	// Limits are the route's upload section.
	Limits Limits
	// Mode is config.PresignBucket or config.PresignGateway; Expires how long a
	// presigned upload stays usable.
	Mode    string
	Expires time.Duration
	// Presigner signs uploads with the origin's credentials (mode bucket); nil when the
	// origin cannot.
	Presigner origin.Presigner
	// Multipart drives multipart uploads at the origin (Uppy); nil when it cannot.
	Multipart origin.Multipart
	// Signer signs gateway-mode uploads; nil in mode bucket.
	Signer *Signer
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Limits are a route's upload limits (config.Upload, resolved).
type Limits struct {
	MaxSize      int64
	ContentTypes []string // media ranges; empty: any
	KeyPrefix    string   // template, expanded per caller with Prefix
	Overwrite    bool
}

// NewLimits resolves a route's upload section.
func NewLimits(u *config.Upload) Limits {
	return Limits{MaxSize: int64(u.MaxSize), ContentTypes: u.ContentTypes, KeyPrefix: u.KeyPrefix, Overwrite: u.CanOverwrite()}
}

// Call is one authorized call to the endpoint, as the sub-handlers (presign, Uppy) see
// it.
type Call struct {
	// Sub is the path after Base, e.g. "presign" or "s3/multipart/ID/1" (cleaned, no
	// leading '/').
	Sub string
	// Identity is who the route's policy says the caller is (nil on a route whose
	// authenticator establishes none, which validation does not allow for uploads).
	Identity *policy.Identity
	// Prefix is the route's key_prefix expanded for this caller ("" = any key of the
	// route): every key the call touches must pass e.Allowed(c, key).
	Prefix string
	// Scheme is how the client reached gatehouse (http or https, trusted proxies
	// considered): gateway-mode URLs use it.
	Scheme string
	// Decision is the policy's decision (allowed), for the log.
	Decision policy.Decision
}

// Decide is the decision Serve makes about a call, before anything else: the route's
// policy as configured. `gatehouse explain` shows it.
func (e *Endpoint) Decide(ctx context.Context, preq *policy.Request) policy.Decision {
	return e.Policy.Decide(ctx, preq)
}

// Serve authorizes r with the route's policy and answers the call under Base (sub is
// the cleaned path after Base). It returns the decision and, when the call failed after
// it was authorized, the cause (for the access log only: the client gets a short public
// message). CORS and preflights are the gateway's (the route's cors section), as are
// Cache-Control: no-store and the security headers: Serve only adds its own Content-Type.
func (e *Endpoint) Serve(w http.ResponseWriter, r *http.Request, preq *policy.Request, sub string) (policy.Decision, error) {
	d := e.Decide(r.Context(), preq)
	if !d.Allow {
		for _, c := range d.Challenges {
			w.Header().Add("WWW-Authenticate", c)
		}
		status := d.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		writeError(w, status, "not authorized")
		return d, nil
	}
	prefix, err := Prefix(e.Limits.KeyPrefix, d.Identity)
	if err != nil {
		d.Allow, d.Status, d.Reason = false, http.StatusForbidden, d.Reason+"; "+err.Error()
		writeError(w, http.StatusForbidden, "your identity cannot upload on this route")
		return d, nil
	}
	c := &Call{Sub: sub, Identity: d.Identity, Prefix: prefix, Scheme: preq.Scheme, Decision: d}
	switch {
	case sub == "presign":
		err = e.servePresign(w, r, c)
	case sub == "s3" || strings.HasPrefix(sub, "s3/"):
		err = e.serveUppy(w, r, c)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
	return d, err
}

// Allowed reports whether the call may write key: upload.Allowed with the route's
// template and the caller's identity. Its errors map to statuses with ErrorStatus.
func (e *Endpoint) Allowed(c *Call, key string) error {
	return Allowed(e.Limits.KeyPrefix, c.Identity, key)
}

// ErrorStatus is the status for an error of Allowed, CheckKey or Prefix: 400 for a bad
// key, 403 outside the caller's prefix or for an identity that cannot name one, 400
// otherwise.
func ErrorStatus(err error) int {
	switch {
	case errors.Is(err, ErrOutsidePrefix), errors.Is(err, ErrIdentity):
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// TypeAllowed reports whether a declared content type (already normalised: no
// parameters, lower case) is one of the route's media ranges (MatchType).
func (l Limits) TypeAllowed(ct string) bool { return MatchType(l.ContentTypes, ct) }

func (e *Endpoint) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": msg} with status. msg is public: never an internal cause.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
