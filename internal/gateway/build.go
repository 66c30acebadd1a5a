package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"sort"

	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fleet"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/origin/dirorigin"
	"github.com/gatehouse-dev/gatehouse/internal/origin/s3origin"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
)

// Building turns a validated configuration into a State, one concern per function:
// origins, TLS, trusted proxies and the cache here; routes in build_routes.go;
// authenticators and login endpoints in build_auth.go. Each records its problems, with
// their field paths, on the builder and goes on, so one failed build lists every problem.

// Build turns a validated configuration into a State. Everything that can fail before
// serving fails here: folders that do not exist, AWS configuration that does not load.
// On error, whatever was opened is closed again.
func Build(ctx context.Context, cfg *config.Config, log *slog.Logger) (*State, error) {
	return build(ctx, cfg, log, nil, false)
}

// BuildShared is Build with what every authenticator of the process shares given, rather
// than made anew: server.Run makes it, joined to the fleet when the configuration has a
// redis section (Basic failure counts, spent sign-in states, revocations). Reloads
// (BuildFrom) carry it over.
func BuildShared(ctx context.Context, cfg *config.Config, log *slog.Logger, shared *authbuild.Shared) (*State, error) {
	return buildWith(ctx, cfg, log, nil, false, shared)
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

// builder holds one build in progress: the State being filled, what it may take over
// from, and the problems found so far.
type builder struct {
	cfg     *config.Config
	log     *slog.Logger
	prev    *State // nil: nothing to take over
	inspect bool   // check the cache's disk tier without opening it
	// shared is what authenticators share when there is no prev to take it from; nil:
	// made anew.
	shared *authbuild.Shared
	st     *State
	errs   config.Errors
	// logins are the login authenticators built so far, by login path: routes whose
	// login blocks name one path share one authenticator (see build_auth.go).
	logins map[string]builtLogin
}

func build(ctx context.Context, cfg *config.Config, log *slog.Logger, prev *State, inspect bool) (*State, error) {
	return buildWith(ctx, cfg, log, prev, inspect, nil)
}

func buildWith(ctx context.Context, cfg *config.Config, log *slog.Logger, prev *State, inspect bool, shared *authbuild.Shared) (_ *State, err error) {
	b := &builder{cfg: cfg, log: log, prev: prev, inspect: inspect, shared: shared, logins: map[string]builtLogin{},
		st: &State{Config: cfg, origins: map[string]origin.Origin{}, probes: map[string]ProbeResult{},
			endpoints: map[string]LoginEndpoint{}, pages: pages.New(cfg.Pages)}}
	defer func() {
		if err != nil {
			b.st.Close()
		}
	}()
	b.buildOrigins(ctx)
	b.buildTLS()
	b.buildRedis()
	b.buildProxies()
	b.buildCache()
	b.buildAuthShared()
	b.buildRoutes()
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	if prev != nil && prev.metrics != nil {
		b.st.Instrument(prev.metrics.m) // a reload counts on in the same series
	}
	return b.st, nil
}

// errorf records a problem at a field path.
func (b *builder) errorf(path, format string, args ...any) {
	b.errs = append(b.errs, b.cfg.Errorf(path, format, args...))
}

// buildOrigins opens every origin, in name order.
func (b *builder) buildOrigins(ctx context.Context) {
	names := make([]string, 0, len(b.cfg.Origins))
	for name := range b.cfg.Origins {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		o, err := buildOrigin(ctx, b.cfg.Origins[name])
		if err != nil {
			b.errorf("origins."+name, "%v", err)
			continue
		}
		b.st.origins[name] = o
	}
}

func buildOrigin(ctx context.Context, oc *config.Origin) (origin.Origin, error) {
	switch {
	case oc.Dir != nil:
		return dirorigin.Open(oc.Dir.Root)
	case oc.S3 != nil:
		return s3origin.New(ctx, oc.S3, oc.Timeout)
	}
	return nil, errors.New("no origin type set")
}

// buildTLS loads server.tls's certificate and key, when set. With acme, certificates
// are the server's to obtain; only the CA bundle is checked here, so `check` reports it.
func (b *builder) buildTLS() {
	t := b.cfg.Server.TLS
	if t == nil {
		return
	}
	if t.ACME != nil {
		// ACME settings are read at start only, so a reload (prev set) does not check
		// the folder again.
		if b.prev == nil && t.ACME.Store != config.ACMEStoreRedis { // redis: no folder
			if err := checkACMEStorage(t.ACME.Storage); err != nil {
				b.errorf("server.tls.acme.storage", "%v", err)
			}
		}
		if f := t.ACME.CAFile; f != "" {
			if pem, err := os.ReadFile(f); err != nil {
				b.errorf("server.tls.acme.ca_file", "%v", err)
			} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
				b.errorf("server.tls.acme.ca_file", "%s holds no PEM certificate", f)
			}
		}
		return
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		b.errorf("server.tls", "loading the certificate and key: %v", err)
		return
	}
	b.st.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// buildRedis checks that redis.tls's files load. The connection itself is the server's
// (internal/fleet, made once per process); `check --probe` contacts Redis.
func (b *builder) buildRedis() {
	if r := b.cfg.Redis; r != nil && r.TLS != nil {
		if _, err := fleet.TLSConfig(r.TLS); err != nil {
			var te *fleet.TLSError
			if errors.As(err, &te) {
				b.errorf("redis."+te.Field, "%v", te.Err)
				return
			}
			b.errorf("redis.tls", "%v", err)
		}
	}
}

// buildProxies sets whose forwarding headers are believed.
func (b *builder) buildProxies() {
	var trusted []netip.Prefix
	for _, p := range b.cfg.Server.TrustedProxies {
		pf, _ := config.ParsePrefix(p) // validated
		trusted = append(trusted, pf)
	}
	b.st.proxies = httpx.NewProxies(trusted, b.cfg.Server.ClientIPHeader)
}

// buildCache opens the cache Store, when the configuration has a cache section, or
// reuses the previous State's (see openCache).
func (b *builder) buildCache() {
	if b.cfg.Cache == nil {
		return
	}
	var err error
	if b.st.cache, b.st.cacheLimits, err = openCache(b.cfg.Cache, b.prev, b.inspect); err != nil {
		b.errorf("cache", "%v", err)
	}
}

// openCache opens the cache Store, or reuses prev's when its options are the same. With
// a disk tier, prev's Store is also reused when only the sizes differ, and the new sizes
// are returned for Start to apply: a second Store would open the same folder while the
// first, still serving requests that started on prev, writes and evicts there.
func openCache(c *config.Cache, prev *State, inspect bool) (*cache.Store, *[2]int64, error) {
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
