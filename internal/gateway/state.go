// Package gateway is gatehouse's request path. Build compiles a validated configuration
// into an immutable State (routes, origins, policies); Handler serves requests against
// the current State and swaps in a new one atomically on reload, keeping the old one when
// building the new one fails.
//
// A request goes: clean and check the path, match a route (first match in file order),
// decide with the route's policy, check the method, map the path to a key, fetch from
// the origin, stream the body.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/auth/loginauth"
	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/cors"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/origin/dirorigin"
	"github.com/gatehouse-dev/gatehouse/internal/origin/s3origin"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
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
	endpoints map[string]*loginauth.Authenticator
	pages     *pages.Set

	// cache is the edge cache's Store; nil when the configuration has no cache section.
	cache *cache.Store
	// cacheLimits, when set, are the sizes (memory, disk) the reused Store takes when this
	// State goes live (Start): a reload that fails later must leave the running Store as
	// it was.
	cacheLimits *[2]int64

	// authShared is what authenticators share (Basic failure counts) and their build
	// warnings; see auth.go.
	authShared *authShared

	mu     sync.Mutex
	probes map[string]ProbeResult
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
	Login *loginauth.Authenticator
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
}

// ProbeResult is the last readiness probe of one origin.
type ProbeResult struct {
	OK      bool      `json:"ok"`
	Ever    bool      `json:"ever_ok"`
	Error   string    `json:"error,omitempty"`
	Checked time.Time `json:"checked"`
}

// Build turns a validated configuration into a State. Everything that can fail before
// serving fails here: folders that do not exist, AWS configuration that does not load.
// On error, whatever was opened is closed again.
func Build(ctx context.Context, cfg *config.Config, log *slog.Logger) (*State, error) {
	return build(ctx, cfg, log, nil, false)
}

// Inspect is Build for `check` and `explain`: the same checks, but the cache's disk tier
// is only checked, not opened, so nothing in a running server's cache folder changes.
// The State must not serve.
func Inspect(ctx context.Context, cfg *config.Config, log *slog.Logger) (*State, error) {
	return build(ctx, cfg, log, nil, true)
}

// BuildFrom is Build keeping prev's cache contents when the cache's storage settings are
// unchanged (a reload must not empty the cache), and taking over prev's ip and jwt
// authenticators whose settings are unchanged, with their loaded address lists and key
// sets (a reload must not wait on, or fail with, a provider it did not touch). prev may
// be nil; it stays usable until it is closed, which no longer stops what was taken over.
func BuildFrom(ctx context.Context, cfg *config.Config, log *slog.Logger, prev *State) (*State, error) {
	return build(ctx, cfg, log, prev, false)
}

func build(ctx context.Context, cfg *config.Config, log *slog.Logger, prev *State, inspect bool) (_ *State, err error) {
	st := &State{Config: cfg, origins: map[string]origin.Origin{}, probes: map[string]ProbeResult{},
		endpoints: map[string]*loginauth.Authenticator{}, pages: pages.New(cfg.Pages)}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	var errs config.Errors
	names := make([]string, 0, len(cfg.Origins))
	for name := range cfg.Origins {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		o, err := buildOrigin(ctx, cfg.Origins[name])
		if err != nil {
			errs = append(errs, cfg.Errorf("origins."+name, "%v", err))
			continue
		}
		st.origins[name] = o
	}
	if t := cfg.Server.TLS; t != nil {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			errs = append(errs, cfg.Errorf("server.tls", "loading the certificate and key: %v", err))
		} else {
			st.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}
	var trusted []netip.Prefix
	for _, p := range cfg.Server.TrustedProxies {
		pf, _ := config.ParsePrefix(p) // validated
		trusted = append(trusted, pf)
	}
	st.proxies = httpx.NewProxies(trusted, cfg.Server.ClientIPHeader)
	if cfg.Cache != nil {
		if st.cache, st.cacheLimits, err = buildCache(cfg.Cache, prev, inspect); err != nil {
			errs = append(errs, cfg.Errorf("cache", "%v", err))
		}
	}
	st.authShared = newAuthShared(prev)
	for i, rc := range cfg.Routes {
		pol := &policy.Policy{Public: rc.Public}
		var login *loginauth.Authenticator
		if rc.Auth != nil {
			if rc.Auth.Mode == "all" {
				pol.Mode = policy.All
			}
			for j, m := range rc.Auth.Methods {
				mp := fmt.Sprintf("routes[%d].auth.methods[%d]", i, j)
				if m.Login != nil {
					// Routes that share a login configuration share one authenticator
					// and its endpoints; two different ones may not claim one path.
					if prev := st.endpoints[m.Login.LoginPath]; prev != nil && reflect.DeepEqual(prev.Config(), m.Login) {
						pol.Authenticators = append(pol.Authenticators, prev)
						if login == nil {
							login = prev
						}
						continue
					}
				}
				if a := st.carryOver(prev, m); a != nil { // unchanged: keep what it loaded
					pol.Authenticators = append(pol.Authenticators, a)
					continue
				}
				a, err := buildAuthenticator(m, cfg.KeyGroups, log, st.pages, st.authShared)
				if err != nil {
					errs = append(errs, cfg.Errorf(mp, "%v", err))
					continue
				}
				st.authShared.noteWarnings(cfg, mp, a)
				if la, ok := a.(*loginauth.Authenticator); ok {
					if err := st.addEndpoints(la); err != nil {
						errs = append(errs, cfg.Errorf(mp+".login", "%v", err))
					}
					if login == nil {
						login = la
					}
				}
				pol.Authenticators = append(pol.Authenticators, a)
				st.auths = append(st.auths, a)
				st.hold(a, m)
			}
		}
		rt := &Route{
			Index: i, Name: rc.Name, Pattern: rc.Path, OriginName: rc.Origin, Origin: st.origins[rc.Origin],
			Keys:    route.KeyMap{StripPrefix: rc.StripPrefix, AddPrefix: rc.AddPrefix, Index: rc.Index},
			Methods: slices.Clone(rc.Methods), Policy: pol, Login: login, ErrorPages: rc.ErrorPages,
			Headers: newResponseHeaders(rc),
		}
		if rc.Cache.Cached() && st.cache != nil && rt.Origin != nil {
			rt.Origin = st.cache.Wrap(rc.Origin, rt.Origin, cache.Policy{
				TTLs:         cache.TTLs{Default: rc.Cache.DefaultTTL, Min: rc.Cache.MinTTL, Max: rc.Cache.MaxTTL},
				StaleIfError: rc.Cache.StaleIfError,
				Compress:     compression(cfg.Cache, rc.Cache),
				ReadAhead:    *cfg.Cache.ReadAhead,
				Breaker:      *cfg.Cache.OriginBreaker,
			})
			rt.Cached, rt.QueryKeys = true, rc.Cache.QueryKeys
			rt.Compress = cfg.Cache.Compression != nil && *rc.Cache.Compress
		}
		if rc.CORS != nil {
			rt.CORS = cors.New(rc.CORS)
			if !slices.Contains(rt.Methods, http.MethodOptions) {
				rt.Methods = append(rt.Methods, http.MethodOptions)
			}
		}
		if err := st.routes.Add(rc.Path, rt); err != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("routes[%d].path", i), "%v", err))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return st, nil
}

// addEndpoints registers a login authenticator's paths.
func (s *State) addEndpoints(a *loginauth.Authenticator) error {
	for _, p := range a.Paths() {
		if s.endpoints[p] != nil {
			return fmt.Errorf("path %s is already served by another login authenticator with a different configuration", p)
		}
	}
	for _, p := range a.Paths() {
		s.endpoints[p] = a
	}
	return nil
}

// Endpoint returns the login authenticator serving a cleaned path, if any.
func (s *State) Endpoint(path string) (*loginauth.Authenticator, bool) {
	a, ok := s.endpoints[path]
	return a, ok
}

// buildCache opens the cache Store, or reuses prev's when its options are the same. With
// a disk tier, prev's Store is also reused when only the sizes differ, and the new sizes
// are returned for Start to apply: a second Store would open the same folder while the
// first, still serving requests that started on prev, writes and evicts there.
func buildCache(c *config.Cache, prev *State, inspect bool) (*cache.Store, *[2]int64, error) {
	opt := cache.Options{MemoryBytes: int64(c.Memory.MaxSize), SliceSize: int64(c.SliceSize), Inspect: inspect}
	if c.Disk != nil {
		opt.DiskPath, opt.DiskBytes = c.Disk.Path, int64(c.Disk.MaxSize)
	}
	if prev != nil && prev.cache != nil {
		old := prev.cache.Options()
		if old == opt {
			return prev.cache, nil, nil
		}
		sized := old
		sized.MemoryBytes, sized.DiskBytes = opt.MemoryBytes, opt.DiskBytes
		if opt.DiskPath != "" && sized == opt {
			return prev.cache, &[2]int64{opt.MemoryBytes, opt.DiskBytes}, nil
		}
	}
	s, err := cache.NewStore(opt)
	return s, nil, err
}

// compression is a route's compression settings, nil when it does not compress.
func compression(c *config.Cache, rc *config.RouteCache) *cache.Compression {
	if c.Compression == nil || rc.Compress == nil || !*rc.Compress {
		return nil
	}
	return &cache.Compression{MinSize: int64(c.Compression.MinSize), Types: c.Compression.Types}
}

// Cache returns the cache Store, or nil when nothing is cached.
func (s *State) Cache() *cache.Store { return s.cache }

func buildOrigin(ctx context.Context, oc *config.Origin) (origin.Origin, error) {
	switch {
	case oc.Dir != nil:
		return dirorigin.Open(oc.Dir.Root)
	case oc.S3 != nil:
		return s3origin.New(ctx, oc.S3, oc.Timeout)
	}
	return nil, errors.New("no origin type set")
}

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

// ProbeAll probes every origin concurrently and records the results.
func (s *State) ProbeAll(ctx context.Context, log *slog.Logger) {
	var wg sync.WaitGroup
	for name, o := range s.origins {
		wg.Go(func() {
			err := o.Probe(ctx)
			s.mu.Lock()
			defer s.mu.Unlock()
			prev := s.probes[name]
			res := ProbeResult{OK: err == nil, Ever: prev.Ever || err == nil, Checked: time.Now()}
			if err != nil {
				res.Error = publicProbeError(err)
				log.Warn("origin probe failed", "origin", name, "error", err)
			} else if !prev.OK {
				log.Info("origin ready", "origin", name)
			}
			s.probes[name] = res
		})
	}
	wg.Wait()
}

// Ready reports whether every origin has answered a probe at least once and every
// authenticator has loaded what it needs, with the state of each (authenticators are
// listed as "auth:ROUTE/NAME").
func (s *State) Ready() (bool, map[string]ProbeResult) {
	s.mu.Lock()
	out := make(map[string]ProbeResult, len(s.origins))
	ready := true
	for name := range s.origins {
		r := s.probes[name]
		out[name] = r
		ready = ready && r.Ever
	}
	s.mu.Unlock()
	for _, rt := range s.routes.Values() {
		for _, a := range rt.Policy.Authenticators {
			rd, ok := a.(policy.Readier)
			if !ok {
				continue
			}
			r := ProbeResult{OK: true, Ever: true, Checked: time.Now()}
			if err := rd.Ready(); err != nil {
				r = ProbeResult{Error: err.Error(), Checked: time.Now()}
				ready = false
			}
			out["auth:"+rt.Name+"/"+a.Name()] = r
		}
	}
	return ready, out
}

// publicProbeError keeps readiness output free of endpoints and SDK detail; the full
// error is logged by the caller.
func publicProbeError(err error) string {
	switch {
	case errors.Is(err, origin.ErrTimeout):
		return "timed out"
	case errors.Is(err, origin.ErrNotFound):
		return "bucket or folder not found, or access denied"
	}
	return "unavailable"
}
