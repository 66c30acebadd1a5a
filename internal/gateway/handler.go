package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
)

// Handler serves the public listener from the current State.
type Handler struct {
	state  atomic.Pointer[State]
	log    *slog.Logger // operational messages
	access *slog.Logger // one line per request; nil disables
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
	client                           netip.Addr
	decision, reason                 string
	cause                            error
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := h.state.Load()
	rec := &httpx.Recorder{ResponseWriter: w}
	e := &entry{id: httpx.NewRequestID(), decision: "-"}
	w.Header().Set("X-Request-Id", e.id)
	client, scheme := st.proxies.Client(r)
	e.client = client

	err := h.serve(r.Context(), rec, r, st, e, &policy.Request{HTTP: r, Client: client, Scheme: scheme})
	if err != nil {
		e.cause = err
		var he *httpx.Error
		if !errors.As(err, &he) {
			he = &httpx.Error{Status: statusFor(r.Context(), err), Cause: err}
		}
		if rec.Started() {
			// The status line and part of the body are gone: the only honest thing left
			// is to cut the connection so the client sees a truncated transfer.
			h.logAccess(r, rec, e, start, true)
			panic(http.ErrAbortHandler)
		}
		httpx.WriteStatus(rec, he.Status)
	}
	h.logAccess(r, rec, e, start, false)
}

func (h *Handler) serve(ctx context.Context, w *httpx.Recorder, r *http.Request, st *State, e *entry, preq *policy.Request) error {
	path, err := reqpath.Clean(r.URL.EscapedPath())
	if err != nil {
		e.path = truncate(r.URL.EscapedPath())
		return &httpx.Error{Status: http.StatusBadRequest, Cause: err}
	}
	e.path = truncate(path)
	rt, ok := st.Match(path)
	if !ok {
		return httpx.Errorf(http.StatusNotFound, "no route matches")
	}
	e.route, e.originName = rt.Name, rt.OriginName

	d := rt.Policy.Decide(ctx, preq)
	e.reason = d.Reason
	if !d.Allow {
		e.decision = "deny"
		for _, c := range d.Challenges {
			w.Header().Add("WWW-Authenticate", c)
		}
		return httpx.Errorf(d.Status, "denied: %s", d.Reason)
	}
	e.decision = "allow"

	if !contains(rt.Methods, r.Method) {
		w.Header().Set("Allow", strings.Join(rt.Methods, ", "))
		return httpx.Errorf(http.StatusMethodNotAllowed, "method %s not allowed on route", r.Method)
	}
	key, ok := rt.Keys.Key(path)
	if !ok {
		return httpx.Errorf(http.StatusNotFound, "path names a folder and the route has no index document")
	}
	e.key = key
	if r.Method == http.MethodHead {
		return serveHead(ctx, w, r, rt.Origin, key)
	}
	return serveGet(ctx, w, r, rt.Origin, key)
}

// statusFor maps origin and context errors to the status the client sees.
func statusFor(ctx context.Context, err error) int {
	switch {
	case errors.Is(err, origin.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, origin.ErrTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, origin.ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case ctx.Err() != nil:
		return 499 // client closed the request; nobody reads this status
	}
	return http.StatusBadGateway
}

func (h *Handler) logAccess(r *http.Request, rec *httpx.Recorder, e *entry, start time.Time, aborted bool) {
	if h.access == nil {
		return
	}
	client := "-"
	if e.client.IsValid() {
		client = e.client.String()
	}
	attrs := []slog.Attr{
		slog.String("request_id", e.id),
		slog.String("client_ip", client),
		slog.String("method", r.Method),
		slog.String("path", e.path),
		slog.String("route", e.route),
		slog.Int("status", rec.Status),
		slog.Int64("bytes", rec.Bytes),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("decision", e.decision),
		slog.String("reason", e.reason),
	}
	if e.originName != "" {
		attrs = append(attrs, slog.String("origin", e.originName))
	}
	if e.key != "" {
		attrs = append(attrs, slog.String("key", e.key))
	}
	if e.cause != nil {
		attrs = append(attrs, slog.String("error", e.cause.Error()))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	h.access.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

func truncate(s string) string {
	const max = 512
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
