package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// traceConfig serves a folder on /f/* (cached when cached) and trusts proxies.
func traceConfig(t *testing.T, proxies string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	return `
server: {trusted_proxies: ` + proxies + `}
origins:
  files: {dir: {root: "` + dir + `"}}
cache: {memory: {max_size: 8MiB}}
routes:
  - {name: cached, path: /c/*, origin: files, strip_prefix: /c, public: true, cache: {policy: optimized}}
  - {name: plain, path: /f/*, origin: files, strip_prefix: /f, public: true}
`
}

// TestRequestIDFromTrustedProxy: X-Request-Id is kept from a trusted proxy when it is
// 1-128 bytes of [A-Za-z0-9._:-], and replaced otherwise or from anyone else.
func TestRequestIDFromTrustedProxy(t *testing.T) {
	trusted := startGateway(t, traceConfig(t, `["127.0.0.1/32", "::1/128"]`), nil)
	untrusted := startGateway(t, traceConfig(t, `["10.0.0.0/8"]`), nil)
	long := strings.Repeat("a", 128)
	cases := []struct {
		name, id string
		keep     bool
	}{
		{"uuid", "3f2b8c1e-6a4d-4f0e-9b7a-1c2d3e4f5a6b", true},
		{"aws style", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent:x_y.z", false}, // '=' and ';'
		{"cloudflare ray", "8c1f2a3b4c5d6e7f-AMS", true},
		{"128 bytes", long, true},
		{"129 bytes", long + "a", false},
		{"space", "abc def", false},
		{"log injection", `x" request_id="forged`, false},
		{"CR", "abc\rdef", false}, // net/http refuses raw CR/LF in values; sent as is
		{"non-ASCII", "abc\u00e9", false},
		{"html", "<script>", false},
		{"percent", "abc%0d%0a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, g := range []*gw{trusted, untrusted} {
				req, _ := http.NewRequest("GET", g.URL+"/f/a.txt", nil)
				req.Header["X-Request-Id"] = []string{tc.id}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					if tc.name == "CR" {
						return // the client refused to send it: nothing to check
					}
					t.Fatal(err)
				}
				resp.Body.Close()
				got := resp.Header.Get("X-Request-Id")
				want := tc.keep && g == trusted
				if (got == tc.id) != want {
					t.Errorf("trusted=%v: X-Request-Id %q answered %q, want kept=%v", g == trusted, tc.id, got, want)
				}
				if len(got) != 16 && got != tc.id {
					t.Errorf("replacement %q is not a new 16-character ID", got)
				}
				if line := lastAccess(t, g); line["request_id"] != got {
					t.Errorf("access log request_id %v, response %q", line["request_id"], got)
				}
			}
		})
	}
	t.Run("two values", func(t *testing.T) {
		req, _ := http.NewRequest("GET", trusted.URL+"/f/a.txt", nil)
		req.Header["X-Request-Id"] = []string{"one", "two"}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-Id"); got == "one" || got == "two" {
			t.Errorf("one of two X-Request-Id values kept: %q", got)
		}
	})
}

func lastAccess(t *testing.T, g *gw) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(g.access.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("access line %q: %v", lines[len(lines)-1], err)
	}
	return m
}

// tracedGateway serves cfgText with a tracer recording into an in-memory exporter.
func tracedGateway(t *testing.T, cfgText string) (*httptest.Server, *tracetest.InMemoryExporter, *syncBuffer) {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(cfgText), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	access := &syncBuffer{}
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.NewJSONHandler(access, nil)))
	h.SetTracer(tp.Tracer("test"))
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); st.Close(); tp.Shutdown(context.Background()) })
	return srv, exp, access
}

const (
	parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpan  = "00f067aa0ba902b7"
	traceparent = "00-" + parentTrace + "-" + parentSpan + "-01"
)

// TestTraceParentTrust: the traceparent of a trusted proxy is the server span's parent;
// anyone else's starts a new trace. The decision and the cache lookup are children of the
// server span, and the access line carries the trace ID. (In-process exporter; the
// OTLP export, the S3 client spans and the origin's traceparent are tested in
// internal/server against MinIO.)
func TestTraceParentTrust(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		proxies := `["10.0.0.0/8"]`
		if trusted {
			proxies = `["127.0.0.1/32", "::1/128"]`
		}
		srv, exp, access := tracedGateway(t, traceConfig(t, proxies))
		req, _ := http.NewRequest("GET", srv.URL+"/c/a.txt?token=secret", nil)
		req.Header.Set("Traceparent", traceparent)
		req.Header.Set("Tracestate", "vendor=1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		spans := exp.GetSpans()
		var server *tracetest.SpanStub
		for i := range spans {
			if spans[i].SpanKind == trace.SpanKindServer {
				server = &spans[i]
			}
		}
		if server == nil {
			t.Fatalf("trusted=%v: no server span in %d spans", trusted, len(spans))
		}
		gotParent := server.Parent.TraceID().String() == parentTrace && server.Parent.SpanID().String() == parentSpan
		if gotParent != trusted || (server.SpanContext.TraceID().String() == parentTrace) != trusted {
			t.Errorf("trusted=%v: server span trace %s parent %s", trusted, server.SpanContext.TraceID(), server.Parent.SpanID())
		}
		if trusted && server.SpanContext.TraceState().Get("vendor") != "1" {
			t.Errorf("tracestate of a trusted proxy lost: %q", server.SpanContext.TraceState().String())
		}
		if server.Name != "GET cached" {
			t.Errorf("server span name %q", server.Name)
		}
		names := map[string]bool{}
		for _, s := range spans {
			names[s.Name] = true
			if s.Name != server.Name && s.Parent.SpanID() != server.SpanContext.SpanID() {
				t.Errorf("span %s is not a child of the server span", s.Name)
			}
			for _, kv := range s.Attributes {
				if strings.Contains(kv.Value.String(), "secret") || strings.Contains(kv.Value.String(), "a.txt") && kv.Key != "url.path" {
					t.Errorf("span %s attribute %s = %q leaks the query or key", s.Name, kv.Key, kv.Value.String())
				}
			}
		}
		if !names["policy.decide"] || !names["cache.lookup"] {
			t.Errorf("spans %v, want policy.decide and cache.lookup", names)
		}
		var line map[string]any
		json.Unmarshal([]byte(strings.TrimSpace(access.String())), &line)
		if line["trace_id"] != server.SpanContext.TraceID().String() {
			t.Errorf("access trace_id %v, span %s", line["trace_id"], server.SpanContext.TraceID())
		}
	}
}

// TestUntracedAccessLineHasNoTraceID: without a tracer the access line is as before.
func TestUntracedAccessLineHasNoTraceID(t *testing.T) {
	g := startGateway(t, traceConfig(t, `["127.0.0.1/32", "::1/128"]`), nil)
	resp, _ := g.do(t, "GET", "/f/a.txt", "Traceparent: "+traceparent)
	wantStatus(t, resp, 200)
	if _, ok := lastAccess(t, g)["trace_id"]; ok {
		t.Error("trace_id logged with tracing off")
	}
}

// BenchmarkTracing: the cost of tracing a cached GET over HTTP, off and on (spans
// batched to an exporter that drops them).
func BenchmarkTracing(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
			cfg, err := config.Parse("test.yaml", []byte(`
origins:
  files: {dir: {root: "`+dir+`"}}
cache: {memory: {max_size: 8MiB}}
routes:
  - {name: cached, path: /c/*, origin: files, strip_prefix: /c, public: true, cache: {policy: optimized}}
`), func(string) (string, bool) { return "", false })
			if err != nil {
				b.Fatal(err)
			}
			st, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), nil)
			if on {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				defer tp.Shutdown(context.Background())
				h.SetTracer(tp.Tracer("bench"))
			}
			req := httptest.NewRequest("GET", "/c/a.txt", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
