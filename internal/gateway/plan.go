package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/cors"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
)

// Plan is everything gatehouse decides about a request before contacting an origin. The
// handler carries it out; `gatehouse explain` prints it. Both go through Resolve, so
// what explain says is what serving does.
type Plan struct {
	Path      string // cleaned path ("" when the path was refused)
	Route     *Route // nil when no route matched
	Preflight bool   // a CORS preflight, answered without authenticators
	Decision  policy.Decision
	Key       string // object key to fetch, when the request goes to the origin
	// Status is set when the answer is known without the origin (400, 404, 401, 403,
	// 405, 414, 429, 431, 503, or 204 for a preflight or OPTIONS). Zero: fetch Key.
	Status int
	Cause  error // why, for the log
	// Header holds response headers decided so far (the route's security headers, CORS,
	// WWW-Authenticate, Allow).
	Header http.Header
}

// Resolve runs everything up to the origin call: path cleaning, route matching, CORS
// preflight, the route's policy, the method check, key mapping and the request limits
// every origin honours (origin.CheckKey, origin.CheckConditionHeaders).
func (s *State) Resolve(ctx context.Context, r *http.Request, preq *policy.Request) *Plan {
	p := &Plan{Header: http.Header{}}
	path, err := reqpath.Clean(r.URL.EscapedPath())
	if err != nil {
		p.Status, p.Cause = http.StatusBadRequest, err
		return p
	}
	p.Path = path
	rt, ok := s.Match(path)
	if !ok {
		p.Status, p.Cause = http.StatusNotFound, errors.New("no route matches")
		return p
	}
	p.Route = rt
	// Security headers go on every response of the route, denials and preflights too.
	rt.Headers.Security(p.Header)
	if rt.CORS != nil {
		if cors.IsPreflight(r) {
			p.Preflight = true
			if reason := rt.CORS.Preflight(p.Header, r); reason != "" {
				p.Status, p.Cause = http.StatusForbidden, errors.New(reason)
			} else {
				p.Status = http.StatusNoContent
			}
			p.Decision = policy.Decision{Allow: p.Status == http.StatusNoContent, Reason: "CORS preflight (no credentials needed)"}
			return p
		}
		rt.CORS.Apply(p.Header, r)
	}

	p.Decision = rt.Policy.Decide(ctx, preq)
	if !p.Decision.Allow {
		for _, c := range p.Decision.Challenges {
			p.Header.Add("WWW-Authenticate", c)
		}
		p.Status, p.Cause = p.Decision.Status, errors.New("denied: "+p.Decision.Reason)
		return p
	}
	if !slices.Contains(rt.Methods, r.Method) {
		p.Header.Set("Allow", strings.Join(rt.Methods, ", "))
		p.Status, p.Cause = http.StatusMethodNotAllowed, errors.New("method "+r.Method+" not allowed on route")
		return p
	}
	if r.Method == http.MethodOptions {
		p.Header.Set("Allow", strings.Join(rt.Methods, ", "))
		p.Status = http.StatusNoContent
		return p
	}
	key, ok := rt.Keys.Key(path)
	if !ok {
		p.Status, p.Cause = http.StatusNotFound, errors.New("path names a folder and the route has no index document")
		return p
	}
	// Limits every origin honours, checked here so that S3, cached and folder routes
	// answer alike and no origin is asked what it would refuse.
	if err := origin.CheckKey(key); err != nil {
		p.Status, p.Cause = http.StatusRequestURITooLong, err
		return p
	}
	if err := origin.CheckConditionHeaders(r.Header); err != nil {
		p.Status, p.Cause = http.StatusRequestHeaderFieldsTooLarge, err
		return p
	}
	p.Key = key
	return p
}
