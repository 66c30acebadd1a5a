package metrics

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// The route label's fixed words, for requests that belong to no configured route
// (docs/metrics.md says a route should not be given one of these names).
const (
	// NoRoute labels requests no route matched (404s, refused paths).
	NoRoute = "-"
	// LoginRoute labels requests a login authenticator answered itself (sign-in,
	// callback, sign-out).
	LoginRoute = "_login"
	// UploadRoute labels calls to the presigned-upload endpoints.
	UploadRoute = "_upload"
)

// methods are the method label's values; anything else is "other" (the last index).
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodDelete, http.MethodOptions, http.MethodPatch, "other",
}

// methodIndex maps a request method to its index in methods.
func methodIndex(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodDelete:
		return 4
	case http.MethodOptions:
		return 5
	case http.MethodPatch:
		return 6
	}
	return len(methods) - 1
}

// classes are the status_class label's values.
var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// classIndex maps a status to its index in classes; 0 (nothing written, which net/http
// sends as 200) is 2xx, and anything out of range 5xx.
func classIndex(status int) int {
	switch {
	case status == 0:
		return 1
	case status < 100 || status >= 600:
		return 4
	}
	return status/100 - 1
}

// cacheLabels are the cache label's values, by origin.CacheStatus.
var cacheLabels = [...]string{
	origin.CacheNone: "-", origin.CacheHit: origin.CacheHit.String(),
	origin.CacheMiss: origin.CacheMiss.String(), origin.CacheRefreshHit: origin.CacheRefreshHit.String(),
}

// outcomes are the outcome label's values, by policy.Outcome: its word, with "_" for
// spaces.
var outcomes = func() (o [policy.Outage + 1]string) {
	for i := range o {
		o[i] = strings.ReplaceAll(policy.Outcome(i).String(), " ", "_")
	}
	return o
}()

// lazy is a label child made on first use, then read without locks.
type lazy[T any] struct{ p atomic.Pointer[T] }

func (l *lazy[T]) get(make func() T) T {
	if p := l.p.Load(); p != nil {
		return *p
	}
	v := make()
	l.p.CompareAndSwap(nil, &v)
	return *l.p.Load()
}

// Route records the requests of one route (or of the fixed words above). Its label
// children are made on first use and kept, so recording a request takes no lock and
// allocates nothing once each combination has been seen. A nil *Route records nothing.
type Route struct {
	m     *Metrics
	name  string
	bytes prometheus.Counter

	requests [len(methods)][len(classes)][len(cacheLabels)]lazy[prometheus.Counter]
	duration [len(methods)][len(classes)]lazy[prometheus.Observer]
	ttfb     [len(methods)][len(classes)]lazy[prometheus.Observer]
	uploads  [3]lazy[prometheus.Counter] // stored, refused, failed
	upBytes  lazy[prometheus.Counter]
	limited  lazy[prometheus.Counter]

	authMu sync.Mutex                                                          // serialises writers of auth
	auth   atomic.Pointer[map[string]*[len(outcomes)]lazy[prometheus.Counter]] // copy on write
}

// Route returns the recorder of route name (a route's configured name, or one of
// NoRoute, LoginRoute, UploadRoute). The gateway makes one per route when it builds a
// State; two for the same name share the same series.
func (m *Metrics) Route(name string) *Route {
	if m == nil {
		return nil
	}
	return &Route{m: m, name: name, bytes: m.respBytes.WithLabelValues(name)}
}

// Request records one finished request: its method, the status sent (0: none yet, taken
// as 200), how an edge cache answered, how long it took, how long until the status line
// went out (ttfb; 0 when nothing was sent: then d) and the body bytes sent.
func (r *Route) Request(method string, status int, cache origin.CacheStatus, d, ttfb time.Duration, bytes int64) {
	if r == nil {
		return
	}
	mi, ci := methodIndex(method), classIndex(status)
	ca := int(cache)
	if ca >= len(cacheLabels) {
		ca = 0
	}
	r.requests[mi][ci][ca].get(func() prometheus.Counter {
		return r.m.requests.WithLabelValues(r.name, methods[mi], classes[ci], cacheLabels[ca])
	}).Inc()
	r.duration[mi][ci].get(func() prometheus.Observer {
		return r.m.duration.WithLabelValues(r.name, methods[mi], classes[ci])
	}).Observe(d.Seconds())
	if ttfb <= 0 || ttfb > d {
		ttfb = d
	}
	r.ttfb[mi][ci].get(func() prometheus.Observer {
		return r.m.ttfb.WithLabelValues(r.name, methods[mi], classes[ci])
	}).Observe(ttfb.Seconds())
	if bytes > 0 {
		r.bytes.Add(float64(bytes))
	}
}

// Auth records the verdict of each authenticator that ran in a decision.
func (r *Route) Auth(steps []policy.Step) {
	if r == nil {
		return
	}
	for _, s := range steps {
		o := int(s.Outcome)
		if o < 0 || o >= len(outcomes) {
			o = int(policy.Outage)
		}
		r.authCounters(s.Name)[o].get(func() prometheus.Counter {
			return r.m.auth.WithLabelValues(r.name, s.Name, outcomes[o])
		}).Inc()
	}
}

// authCounters returns the children of authenticator name, adding them on first use.
func (r *Route) authCounters(name string) *[len(outcomes)]lazy[prometheus.Counter] {
	if m := r.auth.Load(); m != nil {
		if c, ok := (*m)[name]; ok {
			return c
		}
	}
	r.authMu.Lock()
	defer r.authMu.Unlock()
	next := map[string]*[len(outcomes)]lazy[prometheus.Counter]{}
	if m := r.auth.Load(); m != nil {
		if c, ok := (*m)[name]; ok {
			return c
		}
		for k, v := range *m {
			next[k] = v
		}
	}
	c := new([len(outcomes)]lazy[prometheus.Counter])
	next[name] = c
	r.auth.Store(&next)
	return c
}

// uploadResults are the result label's values of uploads_total.
var uploadResults = [...]string{"stored", "refused", "failed"}

// Upload records a PUT that reached the route's write path: the status it got (2xx:
// stored, 4xx: refused, else failed) and the body bytes read from the client.
func (r *Route) Upload(status int, received int64) {
	if r == nil {
		return
	}
	i := 2
	switch {
	case status >= 200 && status < 300:
		i = 0
	case status >= 400 && status < 500:
		i = 1
	}
	r.uploads[i].get(func() prometheus.Counter {
		return r.m.uploads.WithLabelValues(r.name, uploadResults[i])
	}).Inc()
	if received > 0 {
		r.upBytes.get(func() prometheus.Counter {
			return r.m.uploadBytes.WithLabelValues(r.name)
		}).Add(float64(received))
	}
}

// RateLimited records a request refused (429) for being over the route's rate_limit.
func (r *Route) RateLimited() {
	if r == nil {
		return
	}
	r.limited.get(func() prometheus.Counter { return r.m.rateLimited.WithLabelValues(r.name) }).Inc()
}
