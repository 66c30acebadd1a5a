package gateway

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// stateMetrics is how a State records into the process's Metrics: the recorders of the
// route label's fixed words (each Route holds its own).
type stateMetrics struct {
	m                      *metrics.Metrics
	noRoute, login, upload *metrics.Route
}

// Instrument makes s record its requests, authenticator verdicts, origin calls and
// uploads into m. It is called once, before s serves (server.Run); every State that
// BuildFrom builds from an instrumented one is instrumented alike, so a reload keeps
// counting into the same series. Origins report their own calls (origin.Observable),
// below any cache.
func (s *State) Instrument(m *metrics.Metrics) {
	if m == nil {
		return
	}
	s.metrics = &stateMetrics{m: m, noRoute: m.Route(metrics.NoRoute),
		login: m.Route(metrics.LoginRoute), upload: m.Route(metrics.UploadRoute)}
	for _, rt := range s.routes.Values() {
		rt.metrics = m.Route(rt.Name)
	}
	for name, o := range s.origins {
		if ob, ok := o.(origin.Observable); ok {
			ob.SetObserver(m.Origin(name))
		}
	}
}

// Instrument instruments the serving State (see State.Instrument) and makes each
// scrape read the series the serving State owns: its cache's counters and its
// authenticators' freshness.
func (h *Handler) Instrument(m *metrics.Metrics) {
	h.State().Instrument(m)
	m.SetState(h.metricsSnapshot)
}

// metricsSnapshot reads what a scrape reports of the State serving now.
func (h *Handler) metricsSnapshot() metrics.Snapshot {
	st := h.State()
	var snap metrics.Snapshot
	if st.cache != nil {
		snap.Cache = &st.cache.Stats
	}
	for _, rt := range st.routes.Values() {
		for _, a := range rt.Policy.Authenticators {
			if f, ok := a.(policy.Fresher); ok {
				if fr, ok := f.Freshness(); ok {
					snap.Sources = append(snap.Sources, metrics.Source{Route: rt.Name, Authenticator: a.Name(), Freshness: fr})
				}
			}
		}
	}
	return snap
}

// recorder returns the recorder of the route a request went to: the route's, or that of
// the fixed word (nil when the State is not instrumented).
func (sm *stateMetrics) recorder(rt *Route) *metrics.Route {
	switch {
	case sm == nil:
		return nil
	case rt != nil:
		return rt.metrics
	}
	return sm.noRoute
}

// record counts one finished request (after its access-log line's fields are known).
func (h *Handler) record(st *State, r *http.Request, rec *httpx.Recorder, e *entry, start, end time.Time) {
	if st.metrics == nil {
		return
	}
	var ttfb time.Duration
	if !rec.HeaderAt.IsZero() {
		ttfb = rec.HeaderAt.Sub(start)
	}
	e.m.Request(r.Method, rec.Status, e.served.Status, end.Sub(start), ttfb, rec.Bytes)
	if e.upload {
		e.m.Upload(rec.Status, e.received)
	}
}

// forLogin is the recorder of requests a login endpoint answers.
func (sm *stateMetrics) forLogin() *metrics.Route {
	if sm == nil {
		return nil
	}
	return sm.login
}

// forUpload is the recorder of calls to the upload endpoints.
func (sm *stateMetrics) forUpload() *metrics.Route {
	if sm == nil {
		return nil
	}
	return sm.upload
}

// begin and end count a request in flight.
func (sm *stateMetrics) begin() {
	if sm != nil {
		sm.m.Begin()
	}
}

func (sm *stateMetrics) end() {
	if sm != nil {
		sm.m.End()
	}
}
