// Package server runs gatehouse's listeners: the public one (HTTP or HTTPS with HTTP/2)
// and the admin one (/healthz, /readyz, /metrics, /cache/invalidate and, behind the
// admin token, /debug/pprof/). It probes origins for readiness, reloads the
// configuration on SIGHUP (keeping the running one when the new one is bad) and shuts
// down gracefully when its context ends: stop accepting, let in-flight requests finish up
// to server.shutdown_timeout, return nil.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fleet"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
	"github.com/gatehouse-dev/gatehouse/internal/tracing"
)

// ProbeInterval is how often origins are probed for /readyz.
const ProbeInterval = 10 * time.Second

// Options configure Run.
type Options struct {
	Config *config.Config
	// Reload returns a fresh configuration on SIGHUP; nil disables reloading.
	Reload func() (*config.Config, error)
	Log    *slog.Logger
	// Access receives access-log lines; nil disables them.
	Access *slog.Logger
	// Listening is called once both listeners are bound, with their addresses (admin is
	// empty when disabled).
	Listening func(public, admin string)
	// Probed, when set, is called after each round of readiness probes (the first runs
	// at start), once /readyz reflects it.
	Probed func()
	// Reloaded, when set, is called after each SIGHUP has been handled: nil once the new
	// configuration serves, else why the running one was kept.
	Reloaded func(error)
}

// Run serves until ctx is done.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	fl, shared, revocations, err := newFleet(cfg, o.Log) // read at start only (restartOnly)
	if err != nil {
		return asConfigError(cfg, err)
	}
	if fl != nil {
		defer fl.Close()
	}
	st, err := gateway.BuildShared(ctx, cfg, o.Log, shared)
	if err != nil {
		return err
	}
	h := gateway.NewHandler(st, o.Log, o.Access)
	tp, err := tracing.New(cfg.Tracing, o.Log) // read at start only (restartOnly)
	if err != nil {
		st.Close()
		return err
	}
	defer tp.Close(o.Log) // after the listeners' shutdown: their last spans go out too
	if tp != nil {
		h.SetTracer(tp.Tracer())
	}
	m := metrics.New() // one per process: its counters outlive reloads
	h.Instrument(m)
	applyMemoryLimit(o.Log, cfg)

	maxConns := connectionLimit(o.Log, cfg.Server.MaxConnections)

	raw, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		st.Close()
		return fmt.Errorf("server.listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}
	var certs *certificates // nil: plain HTTP
	if cfg.Server.TLS != nil {
		if certs, err = newCertificates(cfg.Server.TLS, st, o.Log, fl); err != nil {
			raw.Close()
			st.Close()
			return asConfigError(cfg, err)
		}
		srv.TLSConfig = certs.tlsConfig() // h2, http/1.1 (and acme-tls/1 for tls-alpn-01)
		m.SetCertificates(certs.metrics)
	}
	pub := publicListener(raw, listenerOptions{
		TLS:              srv.TLSConfig,
		HandshakeTimeout: cfg.Server.ReadHeaderTimeout,
		MaxConns:         maxConns,
		MaxHead:          maxHeaderBytes + 4096, // net/http's own limit, with its slack
		OnRefuse:         logRefused(o.Log),
		OnShed:           logShed(o.Log, maxConns),
		OnHandshakeError: func(c net.Conn, err error) {
			o.Log.Warn("TLS handshake error", "client", c.RemoteAddr().String(), "error", err.Error())
		},
	})
	servers := []*http.Server{srv}
	adminAddr := ""
	var adm net.Listener
	if cfg.Admin.Listen != "" {
		adm, err = net.Listen("tcp", cfg.Admin.Listen)
		if err != nil {
			pub.Close()
			st.Close()
			return fmt.Errorf("admin.listen: %w", err)
		}
		adminAddr = adm.Addr().String()
		servers = append(servers, &http.Server{Handler: adminMux(h, m, fl, revocations, o.Log), ReadHeaderTimeout: 5 * time.Second})
	}

	var acmeHTTP net.Listener // server.tls.acme.http_listen
	if a := cfg.Server.TLS; a != nil && a.ACME != nil && a.ACME.HTTPListen != "" {
		if acmeHTTP, err = net.Listen("tcp", a.ACME.HTTPListen); err != nil {
			pub.Close()
			if adm != nil {
				adm.Close()
			}
			st.Close()
			return fmt.Errorf("server.tls.acme.http_listen: %w", err)
		}
		_, port, _ := net.SplitHostPort(pub.Addr().String())
		servers = append(servers, &http.Server{Handler: certs.httpHandler(port), ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
			IdleTimeout: cfg.Server.IdleTimeout, MaxHeaderBytes: maxHeaderBytes})
	}

	errc := make(chan error, len(servers))
	go func() {
		// pub does the TLS handshake; HTTP/2 is negotiated by ALPN.
		errc <- srv.Serve(pub)
	}()
	if adm != nil {
		go func() { errc <- servers[1].Serve(adm) }()
	}
	if acmeHTTP != nil {
		go func() { errc <- servers[len(servers)-1].Serve(acmeHTTP) }()
	}
	loopCtx, stopLoops := context.WithCancel(ctx)
	defer stopLoops()
	st.Start(loopCtx)
	if fl != nil {
		m.SetFleet(fleetMetrics(fl, shared))
	}
	if fl != nil { // the registry is carried over by reloads: set once, for the process
		st.RateLimits().SetFleet(fl.RateSyncer(), cfg.Redis.Replicas)
		st.RateLimits().Start(loopCtx)
	}
	startFleet(loopCtx, fl, h, o.Log)
	go probeLoop(loopCtx, h, o.Log, o.Probed)
	if certs != nil {
		certs.obtain(loopCtx)
	}
	hup := make(chan os.Signal, 1)
	if o.Reload != nil {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	o.Log.Info("gatehouse listening", "addr", pub.Addr().String(), "tls", cfg.Server.TLS != nil, "admin", adminAddr,
		"routes", len(cfg.Routes), "origins", len(cfg.Origins))
	if o.Listening != nil {
		o.Listening(pub.Addr().String(), adminAddr)
	}

	for {
		select {
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				continue
			}
			shutdown(servers, cfg.Server.ShutdownTimeout, o.Log)
			h.State().Close()
			return fmt.Errorf("serving: %w", err)
		case <-hup:
			err := reload(ctx, h, o, certs)
			m.Reloaded(err, time.Now())
			if o.Reloaded != nil {
				o.Reloaded(err)
			}
		case <-ctx.Done():
			o.Log.Info("shutting down", "grace", cfg.Server.ShutdownTimeout.String())
			stopLoops()
			err := shutdown(servers, cfg.Server.ShutdownTimeout, o.Log)
			h.State().Close()
			return err
		}
	}
}

func shutdown(servers []*http.Server, grace time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			log.Warn("in-flight requests cut at the shutdown deadline", "error", err)
			s.Close()
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("shutdown: %w", errors.Join(errs...))
	}
	return nil
}

// reload builds the new configuration fully before swapping it in; any failure keeps the
// running State, and is returned. The certificate files are read again (a pair that does
// not load refuses the reload); listener addresses and ACME settings are read at start only.
func reload(ctx context.Context, h *gateway.Handler, o Options, certs *certificates) error {
	cfg, err := o.Reload()
	if err != nil {
		o.Log.Error("reload refused: configuration invalid, keeping the running one", "errors", err.Error())
		return err
	}
	st, err := gateway.BuildFrom(ctx, cfg, o.Log, h.State())
	if err != nil {
		o.Log.Error("reload refused: building failed, keeping the running one", "errors", err.Error())
		return err
	}
	// Load the address lists and key sets of new or changed authenticators before the
	// swap: a State whose sources have not loaded denies, and the running one is known
	// good. Unchanged ip and jwt authenticators were taken over by BuildFrom as they run
	// and are not loaded again, so a provider outage holds up only a reload that
	// changes that provider's settings.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.LoadAuthenticators(pctx); err != nil {
		st.Close()
		o.Log.Error("reload refused: authenticator sources did not load, keeping the running configuration", "errors", err.Error())
		return err
	}
	st.Start(ctx) // stopped by st.Close when it is replaced in turn
	st.ProbeAll(pctx, o.Log)
	old := h.Swap(st)
	if certs != nil {
		certs.reloaded(st)
	}
	applyMemoryLimit(o.Log, old.Config, cfg)
	if changed := restartOnlyChanges(old.Config, cfg); len(changed) > 0 {
		o.Log.Warn(strings.Join(changed, ", ")+" changed: these settings take effect on restart only", "settings", changed)
	}
	o.Log.Info("configuration reloaded", "routes", len(cfg.Routes), "origins", len(cfg.Origins))
	// Requests that started on the old State may still be streaming from it.
	time.AfterFunc(cfg.Server.ShutdownTimeout, func() {
		old.Close()
		applyMemoryLimit(o.Log, h.State().Config) // the old cache is gone
	})
	return nil
}

// restartOnlyChanges lists the field paths of the settings read only at start that
// differ between a and b, in file order. admin.token is not one of them: the admin
// endpoints read the serving State's token on every request.
func restartOnlyChanges(a, b *config.Config) []string {
	sa, sb := a.Server, b.Server
	var out []string
	add := func(changed bool, path string) {
		if changed {
			out = append(out, path)
		}
	}
	add(sa.Listen != sb.Listen, "server.listen")
	add((sa.TLS == nil) != (sb.TLS == nil), "server.tls")
	add(sa.TLS != nil && sb.TLS != nil && tlsRestartOnly(sa.TLS, sb.TLS), "server.tls.acme")
	add(sa.ReadHeaderTimeout != sb.ReadHeaderTimeout, "server.read_header_timeout")
	add(sa.IdleTimeout != sb.IdleTimeout, "server.idle_timeout")
	add(sa.ShutdownTimeout != sb.ShutdownTimeout, "server.shutdown_timeout")
	add(sa.MaxConnections != sb.MaxConnections, "server.max_connections")
	add(a.Admin.Listen != b.Admin.Listen, "admin.listen")
	add(a.Log.Level != b.Log.Level, "log.level")
	add(a.Log.Format != b.Log.Format, "log.format")
	add(a.Log.Access != b.Log.Access, "log.access")
	add(!reflect.DeepEqual(a.Tracing, b.Tracing), "tracing")
	add(!reflect.DeepEqual(a.Redis, b.Redis), "redis")
	return out
}

func probeLoop(ctx context.Context, h *gateway.Handler, log *slog.Logger, probed func()) {
	t := time.NewTicker(ProbeInterval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, ProbeInterval)
		h.State().ProbeAll(pctx, log)
		cancel()
		if probed != nil {
			probed()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// adminMux serves the admin listener. The endpoints behind admin.token read it from the
// State serving at the time of each request, so a reload that changes or removes the
// token applies at once: the old token stops working when the new State is swapped in.
func adminMux(h *gateway.Handler, m *metrics.Metrics, fl *fleet.Fleet, revocations revoke.Store, log *slog.Logger) http.Handler {
	token := func() string { return h.State().Config.Admin.Token }
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	handlePprof(mux, token)
	store := func() revoke.Store { return revocations } // nil without a redis section: 404 "revocation needs a redis section"
	handleRevocations(mux, token, store, func() *config.Config { return h.State().Config }, log)
	mux.HandleFunc("POST /cache/invalidate", func(w http.ResponseWriter, r *http.Request) {
		invalidate(w, r, h, fl, token(), log)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ready, origins := h.State().Ready()
		var redis *fleetStatus
		if fl != nil {
			redis = newFleetStatus(fl)
			ready = ready && redis.Ready
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(struct {
			Ready   bool                           `json:"ready"`
			Origins map[string]gateway.ProbeResult `json:"origins"`
			Redis   *fleetStatus                   `json:"redis,omitempty"`
		}{ready, origins, redis})
	})
	return mux
}
