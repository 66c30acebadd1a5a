// Package gateway is gatehouse's request path. Build (build*.go) compiles a validated
// configuration into an immutable State (routes, origins, policies); Handler serves
// requests against the current State and swaps in a new one atomically on reload,
// keeping the old one when building the new one fails.
//
// A request goes: clean and check the path, match a route (first match in file order),
// decide with the route's policy, check the method, map the path to a key, fetch from
// the origin, stream the body. A PUT or DELETE instead passes the write checks before
// its body is read and then writes through the origin's write capabilities (write.go).
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/cors"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// State is everything a request needs, built once per configuration and never mutated
// afterwards (readiness results aside, which are guarded).
type State struct {
	Config *config.Config
	// TLS holds the loaded certificate when server.tls is set.
	TLS     *tls.Config
	routes  route.Table[*Route]
	origins map[string]origin.Origin
	proxies *httpx.Proxies

	// auths are every authenticator of every route, for lifecycle calls.
	auths []policy.Authenticator
	// authRefs count the States sharing an ip or jwt authenticator that a reload took
	// over unchanged (see carryover.go).
	authRefs authRefs
	// endpoints are the login authenticators' own paths (login, callback, logout),
	// answered before any route.
	endpoints map[string]LoginEndpoint
	pages     *pages.Set

	// uploads are the routes' upload endpoints by route name (upload.go).
	uploads map[string]*uploadEndpoint

	// cache is the edge cache's Store; nil when the configuration has no cache section.
	cache *cache.Store
	// cacheLimits, when set, are the sizes (memory, disk) the reused Store takes when this
	// State goes live (Start): a reload that fails later must leave the running Store as
	// it was.
	cacheLimits *[2]int64

	// authShared is what authenticators share (Basic failure counts, spent sign-in
	// states), carried over by reloads; warnings are their build warnings (see Warnings).
	authShared *authbuild.Shared
	warnings   config.Errors
	// metrics records requests (metrics.go); nil until Instrument.
	metrics *stateMetrics
	// rateLimits holds the routes' rate limiters (ratelimit.go); carried over by reloads.
	rateLimits *ratelimit.Registry

	mu     sync.Mutex
	probes map[string]ProbeResult
	// authProbes are the last probes of authenticators that are Probers.
	authProbes map[policy.Authenticator]ProbeResult
}

// Route is a compiled route.
type Route struct {
	Index      int // position in the file's routes list
	Name       string
	Pattern    string
	OriginName string
	Origin     origin.Origin
	Keys       route.KeyMap
	Methods    []string
	Policy     *policy.Policy
	CORS       *cors.Policy // nil: no CORS
	// Login is the route's first login authenticator: browsers denied 401/403 are sent
	// to it. Nil: none.
	Login LoginEndpoint
	// ErrorPages replace error statuses (see config.ErrorPage); nil: none.
	ErrorPages map[int]*config.ErrorPage
	// Cached is set when Origin is a cache decorator; QueryKeys are the query
	// parameters that are part of its cache key.
	Cached    bool
	QueryKeys []string
	// Compress: responses may be compressed, so every one says Vary: Accept-Encoding.
	Compress bool
	// Headers is the route's response headers policy; never nil.
	Headers *ResponseHeaders
	// Lister lists the route's folders (config listing: true): its origin without the
	// cache, since listings are never cached. Nil: the route never lists.
	Lister origin.Lister
	// Writes is how the route writes (PUT, DELETE; write.go); nil: read-only.
	Writes *Writes
	// RateLimit limits the route's requests per client, identity or header (ratelimit.go);
	// nil: unlimited.
	RateLimit *RateLimit
	// metrics records the route's requests (metrics.go); nil until Instrument.
	metrics *metrics.Route
}

// LoginEndpoint is what serving needs of a login authenticator: the paths it answers
// itself, before any route (login, callback, logout), and where to send a browser to sign
// in. The login authenticator (loginauth) is the one implementation; the gateway never
// names it, authbuild constructs it.
type LoginEndpoint interface {
	// Name identifies the authenticator in reasons and logs.
	Name() string
	// Paths are the cleaned paths ServeEndpoint answers.
	Paths() []string
	// ServeEndpoint answers a request for one of Paths; scheme is how the client reached
	// gatehouse (http or https, trusted proxies considered).
	ServeEndpoint(w http.ResponseWriter, r *http.Request, path, scheme string)
	// LoginURL is the login path with returnTo (a relative URL on this site) as the place
	// to come back to.
	LoginURL(returnTo string) string
}

// Endpoint returns the login endpoints serving a cleaned path, if any.
func (s *State) Endpoint(path string) (LoginEndpoint, bool) {
	a, ok := s.endpoints[path]
	return a, ok
}

// ProbeResult is the last readiness probe of one origin or authenticator source.
type ProbeResult struct {
	OK    bool   `json:"ok"`
	Ever  bool   `json:"ever_ok"`
	Error string `json:"error,omitempty"`
	// Reason is a stable word for why the probe failed (see package probe); Message says
	// it to an operator, naming what was contacted but never a secret. Both are empty
	// when OK.
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Checked time.Time `json:"checked"`
}

// Prober is implemented by authenticators whose provider is probed like an origin (a
// login authenticator's OpenID provider): ProbeAll calls Probe each round, and Ready
// requires one success, as for origins. Errors should be *probe.Error.
type Prober interface {
	Probe(ctx context.Context) error
}

// Cache returns the cache Store, or nil when nothing is cached.
func (s *State) Cache() *cache.Store { return s.cache }

// Start begins the background work of authenticators (refreshing address lists and
// keys), which stops when ctx ends or the State is closed, and gives a cache Store kept
// from the previous State the sizes of this configuration. It is called once the State
// is sure to go live, just before it is swapped in.
func (s *State) Start(ctx context.Context) {
	if s.cacheLimits != nil {
		s.cache.SetLimits(s.cacheLimits[0], s.cacheLimits[1])
	}
	for _, a := range s.auths {
		if st, ok := a.(policy.Starter); ok {
			st.Start(ctx)
		}
	}
}

// Loader is implemented by authenticators that can load their sources synchronously.
type Loader interface {
	Load(ctx context.Context) error
}

// LoadAuthenticators loads the sources of every authenticator this State built once,
// synchronously (for `gatehouse explain`, which decides one request and exits, and for a
// reload before its swap). Authenticators BuildFrom took over from the previous State
// are skipped: they have loaded already or keep retrying in the background, and their
// provider being down must not hold up the reload. Failures are returned for display;
// an authenticator that failed to load denies, as it would when serving.
func (s *State) LoadAuthenticators(ctx context.Context) error {
	var errs []error
	for _, a := range s.auths {
		if s.carried(a) {
			continue
		}
		if l, ok := a.(Loader); ok {
			if err := l.Load(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close releases origins that hold resources (open folders) and stops authenticators,
// except those a newer State took over and still uses (the last State to close stops
// them).
func (s *State) Close() error {
	errs := []error{s.closeAuths()}
	for _, o := range s.origins {
		if c, ok := o.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Client returns the client address and scheme of r, believing forwarding headers only
// from trusted proxies.
func (s *State) Client(r *http.Request) (netip.Addr, string) { return s.proxies.Client(r) }

// Match returns the route for a cleaned path.
func (s *State) Match(path string) (*Route, bool) { return s.routes.Match(path) }

// ProbeAll probes every origin and every Prober authenticator concurrently and records
// the results.
func (s *State) ProbeAll(ctx context.Context, log *slog.Logger) {
	var wg sync.WaitGroup
	for name, o := range s.origins {
		wg.Go(func() {
			err := o.Probe(ctx)
			s.mu.Lock()
			defer s.mu.Unlock()
			prev := s.probes[name]
			s.probes[name] = probeResult(prev, err)
			if err != nil {
				log.Warn("origin probe failed", "origin", name, "reason", s.probes[name].Reason, "error", err)
			} else if !prev.OK {
				log.Info("origin ready", "origin", name)
			}
		})
	}
	seen := map[policy.Authenticator]bool{}
	for _, a := range s.auths {
		p, ok := a.(Prober)
		if !ok || seen[a] {
			continue
		}
		seen[a] = true
		wg.Go(func() {
			err := p.Probe(ctx)
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.authProbes == nil {
				s.authProbes = map[policy.Authenticator]ProbeResult{}
			}
			prev := s.authProbes[a]
			s.authProbes[a] = probeResult(prev, err)
			if err != nil {
				log.Warn("authenticator probe failed", "authenticator", a.Name(), "reason", s.authProbes[a].Reason, "error", err)
			} else if !prev.OK {
				log.Info("authenticator ready", "authenticator", a.Name())
			}
		})
	}
	wg.Wait()
}

// notProbed gives a result that no probe has filled yet its reason.
func notProbed(r ProbeResult) ProbeResult {
	if r.Checked.IsZero() {
		r.Reason, r.Message = probe.NotLoaded, "not probed yet"
	}
	return r
}

// probeResult records a probe's outcome after prev.
func probeResult(prev ProbeResult, err error) ProbeResult {
	res := ProbeResult{OK: err == nil, Ever: prev.Ever || err == nil, Checked: time.Now()}
	if err != nil {
		res.Error = publicProbeError(err)
		res.Reason, res.Message = probe.Describe(err, res.Error)
	}
	return res
}

// Ready reports whether every origin has answered a probe at least once and every
// authenticator has loaded what it needs, with the state of each (authenticators are
// listed as "auth:ROUTE/NAME").
func (s *State) Ready() (bool, map[string]ProbeResult) {
	s.mu.Lock()
	out := make(map[string]ProbeResult, len(s.origins))
	ready := true
	for name := range s.origins {
		r := notProbed(s.probes[name])
		out[name] = r
		ready = ready && r.Ever
	}
	authProbes := maps.Clone(s.authProbes)
	s.mu.Unlock()
	for _, rt := range s.routes.Values() {
		for _, a := range rt.Policy.Authenticators {
			if _, ok := a.(Prober); ok {
				r := notProbed(authProbes[a])
				out["auth:"+rt.Name+"/"+a.Name()] = r
				ready = ready && r.Ever
				continue
			}
			rd, ok := a.(policy.Readier)
			if !ok {
				continue
			}
			r := ProbeResult{OK: true, Ever: true, Checked: time.Now()}
			if err := rd.Ready(); err != nil {
				r = ProbeResult{Error: err.Error(), Checked: time.Now()}
				r.Reason, r.Message = probe.NotLoaded, err.Error()
				if pe, ok := probe.Of(err); ok {
					r.Reason, r.Message = pe.Reason, pe.Message
				}
				ready = false
			}
			out["auth:"+rt.Name+"/"+a.Name()] = r
		}
	}
	return ready, out
}

// publicProbeError is the coarse "error" of a failed probe, as it was before probes had
// reasons (kept for what reads it); free of endpoints and SDK detail. Reason and
// Message say more.
func publicProbeError(err error) string {
	switch {
	case errors.Is(err, origin.ErrTimeout):
		return "timed out"
	case errors.Is(err, origin.ErrNotFound):
		return "bucket or folder not found, or access denied"
	}
	return "unavailable"
}
