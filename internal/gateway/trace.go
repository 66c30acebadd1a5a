package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/tracing"
)

// Tracing (docs/tracing.md). With no tracer (the default) none of this runs and a request
// costs what it did before: every helper first checks that the context holds a recording
// span. Attributes never hold identities, credentials, query strings or object keys
// (which may carry a user name through key_prefix).

// SetTracer makes the handler start a server span for each request (nil: none). Call it
// before serving; it is read without synchronisation.
func (h *Handler) SetTracer(t trace.Tracer) { h.tracer = t }

// notRecording stands in for a span when the request is not traced; ending it does
// nothing, and it costs no allocation.
var notRecording trace.Span = noop.Span{}

// requestID returns the X-Request-Id a trusted proxy sent when it is well formed, else a
// new one.
func requestID(r *http.Request, proxies *httpx.Proxies) string {
	if vs := r.Header.Values("X-Request-Id"); len(vs) == 1 && validRequestID(vs[0]) && proxies.Trusted(r) {
		return vs[0]
	}
	return httpx.NewRequestID()
}

// validRequestID admits 1 to 128 bytes of [A-Za-z0-9._:-]: enough for UUIDs, AWS and
// Cloudflare request IDs, and nothing that could break a log line or a header.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// startRequest starts the server span of r: the child of the traceparent a trusted proxy
// sent, else a new root (a traceparent from anyone else is ignored, so that clients
// cannot choose trace IDs or force sampling). The returned request carries the span.
func (h *Handler) startRequest(r *http.Request, trusted bool, e *entry) (*http.Request, trace.Span) {
	ctx := r.Context() // net/http's: no span in it
	if trusted {
		ctx = tracing.Propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	method := spanMethod(r.Method)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ctx, span := h.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", method),
			attribute.String("url.scheme", scheme),
			attribute.String("network.protocol.version", strings.TrimPrefix(r.Proto, "HTTP/")),
		))
	e.traceID = span.SpanContext().TraceID().String()
	return r.WithContext(ctx), span
}

// endRequest names the server span after the route and records the outcome.
func endRequest(span trace.Span, r *http.Request, rec *httpx.Recorder, e *entry) {
	method := spanMethod(r.Method)
	if e.route != "" && e.route != "-" {
		span.SetName(method + " " + e.route)
		span.SetAttributes(attribute.String("http.route", e.route))
	}
	status := rec.Status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	span.SetAttributes(
		attribute.Int("http.response.status_code", status),
		attribute.String("gatehouse.decision", e.decision),
	)
	if e.path != "" {
		span.SetAttributes(attribute.String("url.path", e.path))
	}
	if xc := rec.Header().Get("X-Cache"); xc != "" {
		span.SetAttributes(attribute.String("gatehouse.cache", strings.TrimSuffix(xc, " from gatehouse")))
	}
	switch {
	case status >= 500:
		span.SetStatus(codes.Error, http.StatusText(status))
	case e.cause != nil && status < 400:
		span.SetStatus(codes.Error, "response cut short") // the body failed after the headers
	}
	span.End()
}

// spanMethod bounds the method to the known ones (OpenTelemetry's _OTHER otherwise), so
// a client cannot write arbitrary text into span names.
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodOptions, http.MethodPatch, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// startSpan starts an internal child span of the request's span, or returns ctx and a
// span that does nothing when the request is not recorded.
func startSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, notRecording
	}
	return parent.TracerProvider().Tracer(tracing.Name).Start(ctx, name)
}

// endDecision records what the route's policy decided: allow or deny, the status of a
// denial and how many authenticators ran (never who the caller is, nor the reason, which
// may name them).
func endDecision(span trace.Span, d *policy.Decision) {
	if !span.IsRecording() {
		return
	}
	outcome := "deny"
	if d.Allow {
		outcome = "allow"
	}
	span.SetAttributes(attribute.String("gatehouse.decision", outcome), attribute.Int("gatehouse.auth.steps", len(d.Steps)))
	if !d.Allow {
		span.SetAttributes(attribute.Int("gatehouse.deny.status", d.Status))
	}
	span.End()
}

// traceOrigin wraps o so that each Get and Head is a span: "cache.lookup" on a cached
// route (with how the cache answered), "origin.get" or "origin.head" otherwise. The span
// ends when the object's headers are in, not when its body has been sent. o is returned
// as it is when the request is not recorded.
func traceOrigin(ctx context.Context, o origin.Origin, cached bool, originName string) origin.Origin {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return o
	}
	return &tracedOrigin{Origin: o, cached: cached, name: originName}
}

// tracedOrigin is the origin of one traced request (only Get and Head are called on it).
type tracedOrigin struct {
	origin.Origin
	cached bool
	name   string
}

func (t *tracedOrigin) start(ctx context.Context, op string) (context.Context, trace.Span) {
	name := "origin." + op
	if t.cached {
		name = "cache.lookup"
	}
	ctx, span := startSpan(ctx, name)
	span.SetAttributes(attribute.String("gatehouse.origin", t.name), attribute.String("gatehouse.origin.operation", op))
	return ctx, span
}

func (t *tracedOrigin) end(span trace.Span, served *origin.Served, err error) {
	if t.cached && served != nil && served.Status != origin.CacheNone {
		span.SetAttributes(attribute.String("gatehouse.cache", served.Status.String()))
	}
	if err != nil {
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		if errorType(err) == "other" {
			span.SetStatus(codes.Error, "origin failed")
		}
	}
	span.End()
}

// Get implements origin.Origin.
func (t *tracedOrigin) Get(ctx context.Context, key string, opt origin.GetOptions) (*origin.Object, error) {
	ctx, span := t.start(ctx, "get")
	obj, err := t.Origin.Get(ctx, key, opt)
	t.end(span, opt.Served, err)
	return obj, err
}

// Head implements origin.Origin.
func (t *tracedOrigin) Head(ctx context.Context, key string, opt origin.HeadOptions) (origin.Info, error) {
	ctx, span := t.start(ctx, "head")
	info, err := t.Origin.Head(ctx, key, opt)
	t.end(span, opt.Served, err)
	return info, err
}

// errorType classifies an origin error in a fixed word (an error's text may hold the key).
func errorType(err error) string {
	switch {
	case errors.As(err, new(*origin.NotModifiedError)):
		return "not_modified"
	case errors.Is(err, origin.ErrNotFound):
		return "not_found"
	case errors.Is(err, origin.ErrPreconditionFailed):
		return "precondition_failed"
	case errors.As(err, new(*origin.RangeError)):
		return "range_not_satisfiable"
	case errors.Is(err, origin.ErrTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}
