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
	// Outcome is what happens next: fetch Key, answer 204, refuse with Status, or hand
	// the request to a login endpoint.
	Outcome Outcome
	Path    string // cleaned path ("" when the path was refused)
	Route   *Route // nil when no route matched (and for a login endpoint)
	// Endpoint is the login authenticator answering Path (Outcome Endpoint).
	Endpoint  LoginEndpoint
	Preflight bool // a CORS preflight, answered without authenticators
	Decision  policy.Decision
	Key       string // object key to fetch (Outcome Fetch; List: the index document tried first)
	// Prefix is the key prefix of the folder to list (Outcome List).
	Prefix string
	// Write is what a PUT or DELETE will do (Outcome Write; write.go), Key the key it
	// writes.
	Write *WritePlan
	// Status is the error status of a refusal (400, 404, 401, 403, 405, 414, 429, 431,
	// 503); zero for every other outcome.
	Status int
	Cause  error // why it was refused, for the log
	// Header holds response headers decided so far (the route's security headers, CORS,
	// WWW-Authenticate, Allow).
	Header http.Header

	// Upload is the route's upload endpoint answering Path, Sub the path after its base
	// (Outcome Upload; upload.go).
	Upload UploadEndpoint
	Sub    string
}

// Outcome is what the handler does with a Plan.
type Outcome int

const (
	// Refuse: answer the Plan's error Status without contacting the origin.
	Refuse Outcome = iota
	// Fetch: get Key from the route's origin and send it.
	Fetch
	// Answer: 204 No Content without contacting the origin (a CORS preflight that
	// passed, or OPTIONS on a route allowing it).
	Answer
	// Endpoint: the login authenticator in Endpoint answers (login, callback, logout).
	Endpoint
	// Upload: the route's upload endpoint in Upload authorizes and answers (upload.go).
	Upload
	// List: a folder path on a listing route: send Key (the index document) when the
	// route has one and it exists, else list the keys under Prefix (listing.go).
	List
	// Write: store the body at Key (PUT) or delete Key (DELETE), as Write says.
	Write
)

// String names the outcome for logs and tests.
func (o Outcome) String() string {
	switch o {
	case Refuse:
		return "refuse"
	case Fetch:
		return "fetch"
	case Answer:
		return "answer"
	case Endpoint:
		return "endpoint"
	case Upload:
		return "upload"
	case List:
		return "list"
	case Write:
		return "write"
	}
	return "unknown"
}

// refuse makes p a refusal with status and cause.
func (p *Plan) refuse(status int, cause error) *Plan {
	p.Outcome, p.Status, p.Cause = Refuse, status, cause
	return p
}

// Resolve runs everything up to the origin call: path cleaning (once, here), the login
// endpoints (which come before routes: config validation keeps routes out of the
// reserved /_gatehouse/ prefix), route matching, CORS preflight, the route's rate limit
// by client or header (ratelimit.go), the route's policy, its rate limit by identity, the
// method check, key mapping and the request limits every origin honours
// (origin.CheckKey, origin.CheckConditionHeaders).
func (s *State) Resolve(ctx context.Context, r *http.Request, preq *policy.Request) *Plan {
	return s.resolve(ctx, &Plan{Header: http.Header{}}, r, preq)
}

// resolve is Resolve filling p, a zero Plan but for its Header (the handler's is the
// response's own map: the plan's headers need no copy).
func (s *State) resolve(ctx context.Context, p *Plan, r *http.Request, preq *policy.Request) *Plan {
	path, err := reqpath.Clean(r.URL.EscapedPath())
	if err != nil {
		return p.refuse(http.StatusBadRequest, err)
	}
	p.Path = path
	if la, ok := s.Endpoint(path); ok {
		p.Outcome, p.Endpoint = Endpoint, la
		return p
	}
	if name, sub, ok := uploadPath(path); ok {
		return s.resolveUpload(p, r, name, sub)
	}
	rt, ok := s.Match(path)
	if !ok {
		return p.refuse(http.StatusNotFound, errors.New("no route matches"))
	}
	p.Route = rt
	// Security headers go on every response of the route, denials and preflights too.
	rt.Headers.Security(p.Header)
	if rt.CORS != nil {
		if cors.IsPreflight(r) {
			p.Preflight = true
			p.Decision = policy.Decision{Allow: true, Reason: "CORS preflight (no credentials needed)"}
			if reason := rt.CORS.Preflight(p.Header, r); reason != "" {
				p.Decision.Allow = false
				return p.refuse(http.StatusForbidden, errors.New(reason))
			}
			p.Outcome = Answer
			return p
		}
		rt.CORS.Apply(p.Header, r)
	}
	if rt.RateLimit != nil && !rt.RateLimit.beforePolicy(p, r, preq) { // ratelimit.go: by client or header
		return p
	}

	dctx, span := startSpan(ctx, "policy.decide") // trace.go; nothing when not traced
	p.Decision = rt.Policy.Decide(dctx, preq)
	endDecision(span, &p.Decision)
	if !p.Decision.Allow {
		for _, c := range p.Decision.Challenges {
			p.Header.Add("WWW-Authenticate", c)
		}
		return p.refuse(p.Decision.Status, errors.New("denied: "+p.Decision.Reason))
	}
	if rt.RateLimit != nil && !rt.RateLimit.afterPolicy(p, preq) { // by identity
		return p
	}
	if !slices.Contains(rt.Methods, r.Method) {
		p.Header.Set("Allow", strings.Join(rt.Methods, ", "))
		return p.refuse(http.StatusMethodNotAllowed, errors.New("method "+r.Method+" not allowed on route"))
	}
	if r.Method == http.MethodOptions {
		p.Header.Set("Allow", strings.Join(rt.Methods, ", "))
		p.Outcome = Answer
		return p
	}
	if r.Method == http.MethodPut || r.Method == http.MethodDelete {
		return s.resolveWrite(p, r) // write.go: key, key prefix, upload limits
	}
	if prefix, ok := rt.folder(r.Method, path); ok {
		return p.list(prefix, r.Header)
	}
	key, ok := rt.Keys.Key(path)
	if !ok {
		return p.refuse(http.StatusNotFound, errors.New("path names a folder and the route has no index document"))
	}
	// Limits every origin honours, checked here so that S3, cached and folder routes
	// answer alike and no origin is asked what it would refuse.
	if err := origin.CheckKey(key); err != nil {
		return p.refuse(http.StatusRequestURITooLong, err)
	}
	if err := origin.CheckConditionHeaders(r.Header); err != nil {
		return p.refuse(http.StatusRequestHeaderFieldsTooLarge, err)
	}
	p.Outcome, p.Key = Fetch, key
	return p
}
