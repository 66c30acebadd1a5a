package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// Handler serves the public listener from the current State.
type Handler struct {
	state  atomic.Pointer[State]
	log    *slog.Logger // operational messages
	access *slog.Logger // one line per request; nil disables
	tracer trace.Tracer // nil: no spans (trace.go)
}

// NewHandler serves st. access may be nil.
func NewHandler(st *State, log, access *slog.Logger) *Handler {
	h := &Handler{log: log, access: access}
	h.state.Store(st)
	return h
}

// State returns the State in use.
func (h *Handler) State() *State { return h.state.Load() }

// Swap installs a new State and returns the previous one. Requests already running keep
// the State they started with; the caller closes the old one once they are done.
func (h *Handler) Swap(st *State) *State { return h.state.Swap(st) }

// entry is the access-log record of one request.
type entry struct {
	id, path, route, originName, key string
	idv                              [1]string // X-Request-Id's value
	client                           netip.Addr
	decision, reason                 string
	identity                         *policy.Identity
	cause                            error
	rt                               *Route // the matched route, for error pages
	received                         int64  // request body bytes read (PUT)
	traceID                          string // when tracing is on (trace.go)
	// For metrics (metrics.go): the route's recorder, how a cache answered, and
	// whether the request was a PUT to a route that accepts writes.
	m      *metrics.Route
	served origin.Served
	upload bool
}

// request is what ServeHTTP keeps of one request, in one allocation. It is not pooled:
// the response's header map holds slices into it (entry.idv) that net/http may read
// after ServeHTTP returns.
type request struct {
	rec  httpx.Recorder
	e    entry
	preq policy.Request
	plan Plan
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := h.state.Load()
	q := &request{rec: httpx.Recorder{ResponseWriter: w}}
	rec, e := &q.rec, &q.e
	e.id, e.decision, e.m = requestID(r, st.proxies), "-", st.metrics.recorder(nil)
	st.metrics.begin()
	defer st.metrics.end()
	e.idv[0] = e.id
	w.Header()[kRequestID] = e.idv[:] // hdrvals.go
	w.Header()[kXContentTypeOptions] = vNosniff
	client, scheme := st.proxies.Client(r)
	e.client = client
	if h.tracer != nil {
		var span trace.Span
		r, span = h.startRequest(r, st.proxies.Trusted(r), e)
		defer endRequest(span, r, rec, e)
	}

	q.preq = policy.Request{HTTP: r, Client: client, Scheme: scheme}
	// The plan's headers go straight into the response's (State.Resolve gives explain a
	// map of its own).
	q.plan.Header = w.Header()
	err := h.serve(r.Context(), rec, r, st, e, &q.preq, &q.plan)
	if err != nil {
		e.cause = err
		var he *httpx.Error
		if !errors.As(err, &he) {
			he = &httpx.Error{Status: statusFor(r.Context(), err), Cause: err}
		}
		if rec.Started() {
			// The status line and part of the body are gone: the only honest thing left
			// is to cut the connection so the client sees a truncated transfer.
			end := time.Now()
			h.record(st, r, rec, e, start, end)
			h.logAccess(r, rec, e, start, end, true)
			panic(http.ErrAbortHandler)
		}
		h.reply(r.Context(), rec, r, st, e.rt, he.Status, err)
	}
	end := time.Now() // one clock reading for the metrics and the log line
	h.record(st, r, rec, e, start, end)
	h.logAccess(r, rec, e, start, end, false)
}

// serve carries out the plan that resolve makes in p, whose Header is w's.
func (h *Handler) serve(ctx context.Context, w *httpx.Recorder, r *http.Request, st *State, e *entry, preq *policy.Request, p *Plan) error {
	p = st.resolve(ctx, p, r, preq)
	if p.Outcome == Endpoint {
		e.path, e.route, e.decision, e.reason = p.Path, "-", "endpoint", "login authenticator "+p.Endpoint.Name()
		e.m = st.metrics.forLogin()
		// The authenticator sets its own headers; no-store stays unless it says otherwise.
		w.Header().Set("Cache-Control", "no-store")
		p.Endpoint.ServeEndpoint(w, r, p.Path, preq.Scheme)
		return nil
	}
	if p.Outcome == Upload {
		e.m = st.metrics.forUpload()
		h.serveUpload(w, r, p, e, preq)
		return nil
	}
	e.rt = p.Route
	e.path = truncate(p.Path)
	if p.Path == "" {
		e.path = truncate(r.URL.EscapedPath())
	}
	if p.Route != nil {
		e.route, e.originName, e.m = p.Route.Name, p.Route.OriginName, p.Route.metrics
		e.m.Auth(p.Decision.Steps)
		e.upload = r.Method == http.MethodPut && p.Route.Writes != nil
	}
	e.reason = p.Decision.Reason
	switch {
	case p.Preflight:
		e.decision = "preflight"
	case p.Route != nil && p.Decision.Allow:
		e.decision = "allow"
	case p.Route != nil && p.Decision.Status != 0:
		e.decision = "deny"
	}
	e.identity = p.Decision.Identity
	switch p.Outcome {
	case Answer:
		h.reply(ctx, w, r, st, p.Route, http.StatusNoContent, nil)
		return nil
	case Refuse:
		if errors.Is(p.Cause, ErrRateLimited) {
			e.m.RateLimited()
		}
		return &httpx.Error{Status: p.Status, Cause: p.Cause}
	case List:
		return serveList(ctx, w, r, st, p, e)
	}
	e.key = p.Key
	if p.Outcome == Write {
		return h.serveWrite(ctx, w, r, st, p, e)
	}
	return fetch(ctx, w, r, p, &e.served)
}

// fetch sends p.Key from the route's origin (GET or HEAD); served learns how a cache
// answered.
func fetch(ctx context.Context, w *httpx.Recorder, r *http.Request, p *Plan, served *origin.Served) error {
	opt := origin.HeadOptions{Served: served} // the variant and coding asked for; serveGet/serveHead add the rest
	if p.Route.Cached && len(p.Route.QueryKeys) > 0 {
		opt.Variant = cache.Variant(r.URL.Query(), p.Route.QueryKeys)
	}
	if p.Route.Compress {
		w.Header().Add("Vary", "Accept-Encoding")
		opt.Encoding = cache.Negotiate(r.Header.Get("Accept-Encoding"))
	}
	if p.Route.Cached {
		// Replaced by the object's own status when there is an object to send.
		w.Header()[kXCache] = vCacheError
	}
	oh := objectHeaders{policy: p.Route.Headers, path: p.Path, key: p.Key}
	o := traceOrigin(ctx, p.Route.Origin, p.Route.Cached, p.Route.OriginName)
	if r.Method == http.MethodHead {
		return serveHead(ctx, w, r, o, p.Key, opt, oh)
	}
	return serveGet(ctx, w, r, o, p.Key, opt, oh)
}

// statusFor maps origin and context errors to the status the client sees.
func statusFor(ctx context.Context, err error) int {
	switch {
	case errors.As(err, new(*origin.RangeError)):
		return http.StatusRequestedRangeNotSatisfiable
	case errors.Is(err, origin.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, origin.ErrTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, origin.ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	// What the origin refused because of what the client sent is the client's 4xx,
	// never a 502 (and never counted as an origin failure).
	case errors.Is(err, origin.ErrKeyTooLong):
		return http.StatusRequestURITooLong
	case errors.Is(err, origin.ErrHeaderTooLarge):
		return http.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, origin.ErrBadRequest):
		return http.StatusBadRequest
	// Writes (write.go): what the body or the key did is the client's doing too.
	case errors.Is(err, errBodyTooLarge), errors.Is(err, origin.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, new(*bodyError)), errors.Is(err, origin.ErrChecksum), errors.Is(err, origin.ErrSizeMismatch):
		return http.StatusBadRequest // a client gone mid-body never reads it
	case errors.Is(err, origin.ErrKeyConflict):
		return http.StatusConflict
	case errors.Is(err, origin.ErrBusy):
		return http.StatusServiceUnavailable // no memory for upload buffers; serveWrite adds Retry-After
	case origin.FDExhausted(err):
		return http.StatusServiceUnavailable // gatehouse's own overload; reply adds Retry-After
	case ctx.Err() != nil:
		return 499 // client closed the request; nobody reads this status
	}
	return http.StatusBadGateway
}

func (h *Handler) logAccess(r *http.Request, rec *httpx.Recorder, e *entry, start, end time.Time, aborted bool) {
	if h.access == nil {
		return
	}
	// The server's access log (httpx.AccessHandler) takes the fields straight into its
	// line; any other handler gets them as slog attributes: the same JSON either way.
	if ah, ok := h.access.Handler().(*httpx.AccessHandler); ok {
		l := ah.LineAt("request", end)
		accessFields(l, r, rec, e, end.Sub(start), aborted)
		l.Write()
		return
	}
	a := make(attrFields, 0, 16)
	accessFields(&a, r, rec, e, end.Sub(start), aborted)
	h.access.LogAttrs(context.Background(), slog.LevelInfo, "request", a...)
}

// fieldWriter takes the access-log fields in order: *httpx.AccessLine, or attrFields.
type fieldWriter interface {
	String(k, v string)
	Int(k string, v int64)
	Float(k string, v float64)
	Bool(k string, v bool)
	Addr(k string, v netip.Addr) // as v.String()
}

// attrFields collects the fields as slog attributes.
type attrFields []slog.Attr

func (a *attrFields) String(k, v string)          { *a = append(*a, slog.String(k, v)) }
func (a *attrFields) Int(k string, v int64)       { *a = append(*a, slog.Int64(k, v)) }
func (a *attrFields) Float(k string, v float64)   { *a = append(*a, slog.Float64(k, v)) }
func (a *attrFields) Bool(k string, v bool)       { *a = append(*a, slog.Bool(k, v)) }
func (a *attrFields) Addr(k string, v netip.Addr) { *a = append(*a, slog.String(k, v.String())) }

// accessFields writes the access-log line's fields of one request (docs/logging.md).
func accessFields(f fieldWriter, r *http.Request, rec *httpx.Recorder, e *entry, took time.Duration, aborted bool) {
	f.String("request_id", e.id)
	if e.client.IsValid() {
		f.Addr("client_ip", e.client)
	} else {
		f.String("client_ip", "-")
	}
	f.String("method", r.Method)
	f.String("path", e.path)
	f.String("route", e.route)
	f.Int("status", int64(rec.Status))
	f.Int("bytes", rec.Bytes)
	f.Float("duration_ms", float64(took.Microseconds())/1000)
	f.String("decision", e.decision)
	f.String("reason", e.reason)
	if e.traceID != "" {
		f.String("trace_id", e.traceID)
	}
	if e.originName != "" {
		f.String("origin", e.originName)
	}
	if e.key != "" {
		f.String("key", e.key)
	}
	if r.Method == http.MethodPut {
		f.Int("bytes_received", e.received)
	}
	if e.identity != nil && e.identity.Display != "" {
		f.String("user", e.identity.Display)
		f.String("subject", e.identity.Subject)
	} else if e.identity != nil && e.identity.Subject != "" {
		f.String("user", e.identity.Subject)
	}
	if e.cause != nil {
		f.String("error", e.cause.Error())
	}
	if aborted {
		f.Bool("aborted", true)
	}
}

// truncate shortens s to at most 512 bytes (then marked "..."), cutting before a
// character rather than through one: the path goes into JSON log lines and into trace
// attributes, which must be valid UTF-8 (TestRegression_TruncatedPathSplitsCharacter).
func truncate(s string) string {
	const max = 512
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
