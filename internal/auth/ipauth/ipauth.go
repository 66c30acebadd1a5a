// Package ipauth is the "ip" authenticator: it allows requests whose client address is
// in the union of configured sources — static CIDRs, local files, published range lists
// fetched over HTTP(S) (AWS, Google, plain) and the ingress rules of EC2 security groups.
//
// Contracts:
//   - New parses and checks configuration only; it touches neither network nor files, so
//     `gatehouse check` can build an authenticator without starting it. Start launches
//     one refresh goroutine per dynamic source; Load performs one synchronous load of
//     every source; Close stops the goroutines.
//   - Authenticate allows what any loaded source allows: the static cidrs always, and
//     each dynamic source once it has loaded. While some source has never loaded, an
//     address that no loaded source allows is denied with an outage error (wrapping
//     ErrNotLoaded, never policy.ErrForbidden, so the client gets 503, not 403: the
//     missing source might have allowed it), and Ready reports which sources are
//     missing. An address outside every loaded list is never allowed.
//   - After a source has loaded, a failed refresh keeps its last good prefixes and logs
//     a warning; the source is retried with backoff.
//   - All sources are merged into one immutable prefix table, rebuilt when a source
//     changes and published with an atomic pointer swap, so Authenticate takes no locks
//     and makes no allocations on the lookup itself.
//   - Client addresses are compared without zone, and IPv4-mapped IPv6 addresses
//     (::ffff:192.0.2.1) as the IPv4 address they carry; IPv4-mapped prefixes in a source
//     are likewise stored as IPv4 prefixes (so ::/0 allows every IPv6 client and no
//     IPv4 one).
package ipauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/lifecycle"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// ErrNotLoaded is wrapped by the outage error Ready returns while a source has never
// loaded, and Authenticate meanwhile for an address no loaded source allows.
var ErrNotLoaded = errors.New("address sources not loaded yet")

// errUnknownClient is returned when the request carries no usable client address.
var errUnknownClient = policy.Fail(policy.ErrForbidden, "unknown client address")

// Defaults for Options fields left zero.
const (
	DefaultFilePoll    = 2 * time.Second
	DefaultRetryMin    = 5 * time.Second
	DefaultLoadTimeout = time.Minute
)

// Options are the authenticator's collaborators and timings. The zero value is usable.
type Options struct {
	// Logger receives refresh warnings and changes; nil: slog.Default().
	Logger *slog.Logger
	// HTTPClient fetches urls sources; nil: DefaultHTTPClient().
	HTTPClient *http.Client
	// NewEC2 builds the client for a security_groups source. It is called on the first
	// load of the source (never by New), and again after a failure to build. nil:
	// NewEC2Client with no extra options.
	NewEC2 func(ctx context.Context, q *config.SecurityGroupQuery) (EC2API, error)
	// FilePoll is how often files are checked for changes (modification time, size and
	// identity); default DefaultFilePoll.
	FilePoll time.Duration
	// RetryMin is the wait after a failed load; it doubles with each further failure up
	// to the source's refresh interval. Default DefaultRetryMin.
	RetryMin time.Duration
	// LoadTimeout bounds one load of one source, retries included; default
	// DefaultLoadTimeout.
	LoadTimeout time.Duration
}

// DefaultHTTPClient is the client used for urls sources when Options.HTTPClient is nil:
// it bounds connecting, the TLS handshake, the wait for headers and the whole exchange.
func DefaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// Authenticator is the ip authenticator. It is safe for concurrent use.
type Authenticator struct {
	name      string
	log       *slog.Logger
	opts      Options
	ownClient bool // opts.HTTPClient was made by New, so Close may close its connections
	static    []netip.Prefix
	sources   []*source

	state atomic.Pointer[snapshot]
	mu    sync.Mutex // guards every source's published fields and publishing
	// refreshErrors counts failed source loads (guarded by mu), for Freshness.
	refreshErrors uint64

	life lifecycle.Group // one refresh goroutine per dynamic source
}

// snapshot is what Authenticate reads: immutable once published.
type snapshot struct {
	table    *bart.Lite
	notReady error // non-nil while some source has never loaded
}

var (
	_ policy.Authenticator = (*Authenticator)(nil)
	_ policy.Starter       = (*Authenticator)(nil)
	_ policy.Readier       = (*Authenticator)(nil)
	_ policy.Fresher       = (*Authenticator)(nil)
	_ io.Closer            = (*Authenticator)(nil)
)

// New builds the authenticator named name from cfg. It parses the static cidrs and
// checks the other sources' settings, but reads no file and makes no request: until
// Start or Load, an authenticator with dynamic sources allows only its static cidrs and
// answers every other address as not ready. cfg is not retained: later changes to it have no effect.
func New(name string, cfg *config.IPAuth, opts Options) (*Authenticator, error) {
	if cfg == nil {
		return nil, errors.New("ip: no configuration")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ownClient := opts.HTTPClient == nil
	if ownClient {
		opts.HTTPClient = DefaultHTTPClient()
	}
	if opts.NewEC2 == nil {
		opts.NewEC2 = func(ctx context.Context, q *config.SecurityGroupQuery) (EC2API, error) { return NewEC2Client(ctx, q) }
	}
	opts.FilePoll = orDefault(opts.FilePoll, DefaultFilePoll)
	opts.RetryMin = orDefault(opts.RetryMin, DefaultRetryMin)
	opts.LoadTimeout = orDefault(opts.LoadTimeout, DefaultLoadTimeout)
	a := &Authenticator{name: name, opts: opts, ownClient: ownClient, log: opts.Logger.With("authenticator", name)}

	for i, s := range cfg.CIDRs {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("cidrs[%d]: %w", i, err)
		}
		a.static = append(a.static, normalize(p))
	}
	for i, path := range cfg.Files {
		if strings.TrimSpace(path) == "" {
			return nil, fmt.Errorf("files[%d]: empty file name", i)
		}
		a.sources = append(a.sources, &source{name: "file " + path, loader: &fileLoader{path: path, poll: opts.FilePoll}})
	}
	for i, u := range cfg.URLs {
		l, err := newURLLoader(u, opts.HTTPClient)
		if err != nil {
			return nil, fmt.Errorf("urls[%d]: %w", i, err)
		}
		a.sources = append(a.sources, &source{name: "url " + l.display, loader: l})
	}
	for i, q := range cfg.SecurityGroups {
		if q == nil {
			return nil, fmt.Errorf("security_groups[%d]: empty entry", i)
		}
		q := cloneQuery(q)
		name := fmt.Sprintf("security_groups[%d] %s", i, describeQuery(q))
		a.sources = append(a.sources, &source{name: name, loader: newSGLoader(q, opts.NewEC2, a.log.With("source", name))})
	}
	a.mu.Lock()
	a.publish(true)
	a.mu.Unlock()
	return a, nil
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Name identifies the authenticator in reasons and logs.
func (a *Authenticator) Name() string { return a.name }

// Authenticate allows a request whose client address is in the set of the static cidrs
// and every source loaded so far, with an identity whose Subject is the address
// (unmapped, without zone) and Source "ip". Otherwise it returns an outage error
// wrapping ErrNotLoaded while some source has never loaded (that source might allow
// the address), and an error wrapping policy.ErrForbidden when every source has loaded
// or the address is unknown (zero or invalid). It takes no locks.
func (a *Authenticator) Authenticate(_ context.Context, r *policy.Request) (*policy.Identity, error) {
	if r == nil || !r.Client.IsValid() {
		return nil, errUnknownClient
	}
	addr := r.Client.Unmap().WithZone("")
	st := a.state.Load()
	// The table holds only loaded prefixes (publish), so a hit is an allow whatever
	// is still missing.
	if st.table.Contains(addr) {
		return &policy.Identity{Subject: addr.String(), Source: "ip"}, nil
	}
	if st.notReady != nil {
		return nil, st.notReady
	}
	return nil, policy.Fail(policy.ErrForbidden, addr.String()+" is not in the allowed ranges")
}

// Contains reports whether addr is in the current set (the static cidrs and every
// source loaded so far), as Authenticate decides an allow. It is meant for `gatehouse
// explain` and tests.
func (a *Authenticator) Contains(addr netip.Addr) bool {
	return a.state.Load().table.Contains(addr.Unmap().WithZone(""))
}

// Ready returns nil once every source has loaded at least once; until then, an error
// wrapping ErrNotLoaded that names the missing sources and their last errors.
func (a *Authenticator) Ready() error { return a.state.Load().notReady }

// Start launches one refresh goroutine per file, url and security_groups source and
// returns at once; the first load of each begins immediately. The goroutines stop when
// ctx ends or Close is called. Calls after the first, or after Close, do nothing.
func (a *Authenticator) Start(ctx context.Context) {
	loops := make([]func(context.Context), len(a.sources))
	for i, s := range a.sources {
		loops[i] = func(ctx context.Context) { a.run(ctx, s) }
	}
	a.life.Start(ctx, loops...)
}

// Close stops the refresh goroutines and waits for them to return. It is safe to call
// without Start and more than once; the authenticator keeps answering from the last
// published set.
func (a *Authenticator) Close() error {
	a.life.Close()
	if a.ownClient {
		a.opts.HTTPClient.CloseIdleConnections()
	}
	return nil
}

// Load loads every dynamic source once, concurrently, and publishes the result. Files
// are re-read even if unchanged; urls are fetched conditionally, as on refresh. It
// returns the sources' errors joined (nil if all loaded); a failed source keeps its
// previous prefixes. Load may run alongside Start's goroutines.
func (a *Authenticator) Load(ctx context.Context) error {
	errs := make([]error, len(a.sources))
	var wg sync.WaitGroup
	for i, s := range a.sources {
		wg.Go(func() { errs[i] = a.loadSource(ctx, s, true) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// publish stores a new snapshot; rebuild makes a new table from the static prefixes and
// every loaded source, otherwise the current table is kept. Called with a.mu held.
func (a *Authenticator) publish(rebuild bool) {
	next := &snapshot{}
	if cur := a.state.Load(); cur != nil && !rebuild {
		next.table = cur.table
	} else {
		next.table = new(bart.Lite)
		for _, p := range a.static {
			next.table.Insert(p)
		}
		for _, s := range a.sources {
			for _, p := range s.prefixes {
				next.table.Insert(p)
			}
		}
	}
	var missing []string
	for _, s := range a.sources {
		if !s.loaded {
			m := s.name
			if s.lastErr != nil {
				m += " (" + s.lastErr.Error() + ")"
			}
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		next.notReady = fmt.Errorf("%w: %s", ErrNotLoaded, strings.Join(missing, "; "))
	}
	a.state.Store(next)
}

// normalize stores an IPv4-mapped IPv6 prefix as the IPv4 prefix it covers, since
// client addresses are unmapped before lookup. A mapped prefix shorter than /96 also
// covers non-mapped IPv6 addresses and is kept as it is.
func normalize(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked()
}
