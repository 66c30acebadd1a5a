package tracing

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

func decode(t *testing.T, r *http.Request) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	if r.Header.Get("Content-Type") != "application/x-protobuf" || r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("headers %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		t.Fatalf("not an ExportTraceServiceRequest: %v", err)
	}
	return &req
}

// TestEncodeSpan: what the exporter sends decodes, with the official OTLP types, to the
// span that was recorded: IDs, parent, kind, times, every attribute type, events, links,
// status (whose numbers differ between the SDK and OTLP), flags and the resource.
func TestEncodeSpan(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	pid, _ := trace.SpanIDFromHex("1111111111111111")
	ts, _ := trace.ParseTraceState("vendor=1")
	start := time.Unix(1700000000, 5)
	stub := tracetest.SpanStub{
		Name:        "GET www",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, TraceState: ts}),
		Parent:      trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: pid, Remote: true}),
		SpanKind:    trace.SpanKindServer,
		StartTime:   start,
		EndTime:     start.Add(time.Millisecond),
		Attributes: []attribute.KeyValue{
			attribute.String("s", "v"), attribute.Int("i", -7), attribute.Bool("b", true),
			attribute.Float64("f", 1.5), attribute.StringSlice("ss", []string{"x", "y"}),
		},
		Events:               []sdktrace.Event{{Name: "ev", Time: start, Attributes: []attribute.KeyValue{attribute.Int("n", 1)}}},
		Links:                []sdktrace.Link{{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: pid})}},
		Status:               sdktrace.Status{Code: codes.Error, Description: "boom"},
		Resource:             resource.NewSchemaless(attribute.String("service.name", "gh")),
		InstrumentationScope: instrumentation.Scope{Name: Name, Version: "1"},
	}
	var got *coltracepb.ExportTraceServiceRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = decode(t, r) }))
	defer srv.Close()
	e := newExporter(srv.URL+"/v1/traces", nil, 5*time.Second, nil)
	if err := e.ExportSpans(context.Background(), tracetest.SpanStubs{stub, stub}.Snapshots()); err != nil {
		t.Fatal(err)
	}
	if len(got.ResourceSpans) != 1 || len(got.ResourceSpans[0].ScopeSpans) != 1 {
		t.Fatalf("grouping: %v", got)
	}
	rs := got.ResourceSpans[0]
	if a := rs.Resource.Attributes[0]; a.Key != "service.name" || a.Value.GetStringValue() != "gh" {
		t.Errorf("resource %v", rs.Resource)
	}
	ss := rs.ScopeSpans[0]
	if ss.Scope.Name != Name || ss.Scope.Version != "1" || len(ss.Spans) != 2 {
		t.Fatalf("scope %v, %d spans", ss.Scope, len(ss.Spans))
	}
	s := ss.Spans[0]
	if hex.EncodeToString(s.TraceId) != tid.String() || hex.EncodeToString(s.SpanId) != sid.String() ||
		hex.EncodeToString(s.ParentSpanId) != pid.String() || s.TraceState != "vendor=1" || s.Name != "GET www" ||
		s.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("span identity: %v", s)
	}
	if s.StartTimeUnixNano != uint64(start.UnixNano()) || s.EndTimeUnixNano-s.StartTimeUnixNano != uint64(time.Millisecond) {
		t.Errorf("times %d %d", s.StartTimeUnixNano, s.EndTimeUnixNano)
	}
	a := map[string]string{}
	for _, kv := range s.Attributes {
		a[kv.Key] = kv.Value.String()
	}
	if s.Attributes[0].Value.GetStringValue() != "v" || s.Attributes[1].Value.GetIntValue() != -7 ||
		!s.Attributes[2].Value.GetBoolValue() || s.Attributes[3].Value.GetDoubleValue() != 1.5 ||
		len(s.Attributes[4].Value.GetArrayValue().GetValues()) != 2 || s.Attributes[4].Value.GetArrayValue().Values[1].GetStringValue() != "y" {
		t.Errorf("attributes %v", a)
	}
	if len(s.Events) != 1 || s.Events[0].Name != "ev" || s.Events[0].Attributes[0].Value.GetIntValue() != 1 {
		t.Errorf("events %v", s.Events)
	}
	if len(s.Links) != 1 || hex.EncodeToString(s.Links[0].SpanId) != pid.String() {
		t.Errorf("links %v", s.Links)
	}
	if s.Status.Code != tracepb.Status_STATUS_CODE_ERROR || s.Status.Message != "boom" {
		t.Errorf("status %v", s.Status)
	}
	if s.Flags != 0x301 { // sampled, has-is-remote, parent is remote
		t.Errorf("flags %#x", s.Flags)
	}
}

// TestExportRetries: 503 and 429 are retried (Retry-After honoured), 400 is not, and the
// configured headers go with every attempt.
func TestExportRetries(t *testing.T) {
	var calls atomic.Int32
	status := []int{503, 429, 200}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("X-Api-Key") != "k" {
			t.Errorf("attempt %d without the configured header", n)
		}
		w.WriteHeader(status[min(int(n), len(status))-1])
	}))
	defer srv.Close()
	e := newExporter(srv.URL, map[string]string{"X-Api-Key": "k"}, 5*time.Second, nil)
	e.backoff = time.Millisecond
	spans := tracetest.SpanStubs{{Name: "x"}}.Snapshots()
	if err := e.ExportSpans(context.Background(), spans); err != nil || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls, want success on the third", err, calls.Load())
	}
	calls.Store(0)
	status = []int{400}
	if err := e.ExportSpans(context.Background(), spans); err == nil || calls.Load() != 1 {
		t.Fatalf("400: err %v after %d calls, want one call and an error", err, calls.Load())
	}
	calls.Store(0)
	status = []int{503}
	e.timeout = 50 * time.Millisecond
	if err := e.ExportSpans(context.Background(), spans); err == nil || calls.Load() < 2 {
		t.Fatalf("503 forever: err %v after %d calls", err, calls.Load())
	}
}

// TestNewOff: no section, no provider; a nil Provider is safe to use.
func TestNewOff(t *testing.T) {
	p, err := New(nil, slog.New(slog.DiscardHandler))
	if p != nil || err != nil || p.Tracer() != nil || p.Shutdown(context.Background()) != nil {
		t.Fatal("nil section must give a nil, usable Provider")
	}
	p.Close(slog.New(slog.DiscardHandler))
}

// TestNewTLSFiles: a missing ca_file fails start naming the key.
func TestNewTLSFiles(t *testing.T) {
	one := 1.0
	_, err := New(&config.Tracing{Endpoint: "https://otel/v1/traces", TLS: &config.TracingTLS{CAFile: "/nonexistent/ca.pem"}, SampleRatio: &one, Timeout: time.Second}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "tracing.tls: ca_file") {
		t.Fatalf("err %v", err)
	}
}
