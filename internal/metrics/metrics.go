// Package metrics is gatehouse's Prometheus instrumentation: one Metrics per process, on
// its own Registry (never the global default), served at GET /metrics on the admin
// listener. The set is small and of bounded cardinality: a route label is the route's
// name in the configuration (or a fixed word, see Route), never a request path; methods
// outside a fixed list are "other"; nothing is labelled per user. docs/metrics.md lists
// every series.
//
// Counters that requests drive (requests, auth decisions, origin calls, uploads) live
// here and so survive configuration reloads. What a State owns (the cache Store, the
// authenticators' address lists and key sets) is read at scrape time from the State
// that serves then (SetState), so a reload neither counts twice nor keeps an old State
// alive. The hit path resolves its label children once (per route, lazily) and
// allocates nothing per request.
package metrics

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-dev/gatehouse/internal/version"
)

// namespace prefixes every gatehouse series.
const namespace = "gatehouse"

// DurationBuckets are OpenTelemetry's explicit bucket boundaries for
// http.server.request.duration, in seconds.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Metrics holds every series of one process. Its methods are safe for concurrent use. A
// nil *Metrics records nothing (Route, Origin and the recording methods accept it), so
// `check` and `explain`, which build a State without serving, need none.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	ttfb        *prometheus.HistogramVec
	inflight    prometheus.Gauge
	respBytes   *prometheus.CounterVec
	auth        *prometheus.CounterVec
	uploads     *prometheus.CounterVec
	uploadBytes *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	originCalls *prometheus.CounterVec
	originDur   *prometheus.HistogramVec

	reloads       *prometheus.CounterVec
	reloadOK      prometheus.Gauge
	reloadSuccess prometheus.Gauge

	state atomic.Pointer[func() Snapshot]
	certs atomic.Pointer[func() []Certificate]
	fleet atomic.Pointer[func() Fleet]

	mu      sync.Mutex
	origins map[string]*originObserver
}

// New makes the process's Metrics on a new Registry, with the Go runtime and process
// collectors and gatehouse_build_info.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), origins: map[string]*originObserver{}}
	f := factory{m.reg}
	m.requests = f.counterVec("http_requests_total",
		"Requests answered, by route, method, status class and cache status.", "route", "method", "status_class", "cache")
	m.duration = f.histogramVec("http_request_duration_seconds",
		"Time from a request's arrival to the end of its response.", "route", "method", "status_class")
	m.ttfb = f.histogramVec("http_time_to_first_byte_seconds",
		"Time from a request's arrival to its response's status line.", "route", "method", "status_class")
	m.inflight = f.gauge("http_requests_in_flight", "Requests being served now.")
	m.respBytes = f.counterVec("http_response_bytes_total", "Response body bytes sent, by route.", "route")
	m.auth = f.counterVec("auth_decisions_total",
		"Authenticator verdicts, by route, authenticator and outcome.", "route", "authenticator", "outcome")
	m.uploads = f.counterVec("uploads_total",
		"PUT requests to routes that accept uploads, by route and result (stored; refused: 4xx, denials included; failed: the rest).", "route", "result")
	m.uploadBytes = f.counterVec("upload_received_bytes_total", "Request body bytes read from PUT requests, by route.", "route")
	m.rateLimited = f.counterVec("rate_limited_total", "Requests refused (429) for being over their route's rate_limit, by route.", "route")
	m.originCalls = f.counterVec("origin_requests_total",
		"Calls made to origins (below the cache), by origin, operation and status.", "origin", "operation", "status")
	m.originDur = f.histogramVec("origin_request_duration_seconds",
		"Time origins took to begin answering, by origin and operation.", "origin", "operation")
	m.reloads = f.counterVec("config_reloads_total", "Configuration reloads (SIGHUP), by result (success, failure).", "result")
	m.reloadOK = f.gauge("config_last_reload_successful", "1 when the last reload (or the start) applied its configuration, else 0.")
	m.reloadSuccess = f.gauge("config_last_reload_success_timestamp_seconds", "When a configuration was last applied (start or reload), Unix time.")
	for _, r := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(r)
	}

	v, rev := version.Parts()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help:        "Always 1: the version, VCS revision and Go version of this binary.",
		ConstLabels: prometheus.Labels{"version": v, "revision": rev, "goversion": runtime.Version()}})
	build.Set(1)
	m.reg.MustRegister(build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{m: m},
		&certCollector{m: m}, &fleetCollector{m: m})
	m.ConfigApplied(time.Now())
	return m
}

// Registry is where every series is registered (for tests and Handler).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the Registry in Prometheus's text format (or OpenMetrics, when the
// scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// ConfigApplied records that a configuration started serving at t (the start, or a
// reload that succeeded).
func (m *Metrics) ConfigApplied(t time.Time) {
	if m == nil {
		return
	}
	m.reloadOK.Set(1)
	m.reloadSuccess.Set(float64(t.UnixNano()) / 1e9)
}

// Reloaded records the result of one reload: err nil when the new configuration serves
// (at t), else the running one was kept.
func (m *Metrics) Reloaded(err error, t time.Time) {
	if m == nil {
		return
	}
	if err != nil {
		m.reloads.WithLabelValues("failure").Inc()
		m.reloadOK.Set(0)
		return
	}
	m.reloads.WithLabelValues("success").Inc()
	m.ConfigApplied(t)
}

// Begin counts a request in flight until End.
func (m *Metrics) Begin() { m.inflight.Inc() }

// End ends what Begin counted.
func (m *Metrics) End() { m.inflight.Dec() }

// SetState makes each scrape read the serving State's own series (cache counters,
// authenticator freshness) through snap.
func (m *Metrics) SetState(snap func() Snapshot) { m.state.Store(&snap) }

// factory registers gatehouse series on one Registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: DurationBuckets}, labels)
	f.reg.MustRegister(h)
	return h
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}
