package server

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// otlpReceiver is an OTLP/HTTP traces endpoint: it decodes each export with the official
// protobuf types and keeps the spans.
type otlpReceiver struct {
	mu       sync.Mutex
	spans    []*tracepb.Span
	resource map[string]string
	auth     []string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "wrong path or type", 400)
		return
	}
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.auth = append(o.auth, r.Header.Get("Authorization"))
	for _, rs := range req.ResourceSpans {
		o.resource = map[string]string{}
		for _, kv := range rs.Resource.GetAttributes() {
			o.resource[kv.Key] = kv.Value.GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Write(out)
}

func attrs(s *tracepb.Span) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes {
		v := kv.Value.GetStringValue()
		if v == "" {
			v = fmt.Sprint(kv.Value.GetIntValue())
		}
		m[kv.Key] = v
	}
	return m
}

// TestTracingEndToEnd serves a real gatehouse (Run) in front of MinIO, behind a small
// recording proxy, and exports to an OTLP receiver in the test. A request from a trusted
// proxy with a traceparent joins that trace; one from another address with the same
// header starts its own. Each trace holds the server span, the decision, the origin call
// or cache lookup, and the S3 client spans, linked parent to child; MinIO was sent the
// traceparent of the S3 span; the access line has the trace ID; spans still buffered at
// shutdown are exported.
func TestTracingEndToEnd(t *testing.T) {
	m := startMinIO(t)
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()

	var mu sync.Mutex
	var originSaw []string // traceparent of each request MinIO received
	minioURL, _ := url.Parse(m.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(minioURL)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		originSaw = append(originSaw, r.Header.Get("Traceparent"))
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	cfgText := fmt.Sprintf(`
server: {listen: "127.0.0.1:0", trusted_proxies: ["127.0.0.1/32"], shutdown_timeout: 5s}
origins:
  s3: {s3: {bucket: %s, endpoint: %q, path_style: true, access_key_id: %s, secret_access_key: %s, max_attempts: 1}}
cache: {memory: {max_size: 8MiB}}
routes:
  - {name: direct, path: /d/*, origin: s3, strip_prefix: /d, public: true}
  - {name: edge, path: /c/*, origin: s3, strip_prefix: /c, public: true, cache: {policy: optimized}}
tracing:
  endpoint: %s/v1/traces
  insecure: true
  headers: {Authorization: "Bearer t0ken"}
  service_name: gatehouse-test
`, framingBucket, front.URL, m.AccessKey, m.SecretKey, collector.URL)
	if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	access := &logBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Log: slog.New(slog.DiscardHandler),
			Access:    slog.New(slog.NewJSONHandler(access, nil)),
			Listening: func(pub, _ string) { ready <- pub }})
	}()
	var pub string
	select {
	case pub = <-ready:
	case err := <-done:
		t.Fatal(err)
	}

	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	send := func(from, p string) (traceID, requestID string) {
		t.Helper()
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("GET", "http://"+pub+p, nil)
		req.Header.Set("Traceparent", "00-"+parentTrace+"-"+parentSpan+"-01")
		req.Header.Set("X-Request-Id", "edge-"+from)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "A" {
			t.Fatalf("GET %s from %s: %d %q", p, from, resp.StatusCode, b)
		}
		lines := strings.Split(strings.TrimSpace(access.String()), "\n")
		var line map[string]any
		json.Unmarshal([]byte(lines[len(lines)-1]), &line)
		if line["request_id"] != resp.Header.Get("X-Request-Id") {
			t.Errorf("access request_id %v, response %q", line["request_id"], resp.Header.Get("X-Request-Id"))
		}
		id, _ := line["trace_id"].(string)
		return id, resp.Header.Get("X-Request-Id")
	}
	trustedTrace, trustedID := send("127.0.0.1", "/d/a.txt")
	untrustedTrace, untrustedID := send("127.0.0.2", "/d/a.txt")
	cachedTrace, _ := send("127.0.0.2", "/c/a.txt")
	if trustedTrace != parentTrace {
		t.Errorf("trusted proxy's trace %s, logged %q", parentTrace, trustedTrace)
	}
	if untrustedTrace == parentTrace || len(untrustedTrace) != 32 {
		t.Errorf("untrusted client's traceparent was used (trace %q)", untrustedTrace)
	}
	if trustedID != "edge-127.0.0.1" || untrustedID == "edge-127.0.0.2" {
		t.Errorf("X-Request-Id: trusted %q, untrusted %q", trustedID, untrustedID)
	}

	cancel() // Run flushes the spans still in the batcher before it returns
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	if recv.resource["service.name"] != "gatehouse-test" || recv.auth[0] != "Bearer t0ken" {
		t.Errorf("resource %v, Authorization %q", recv.resource, recv.auth)
	}
	byTrace := map[string][]*tracepb.Span{}
	for _, s := range recv.spans {
		id := hex.EncodeToString(s.TraceId)
		byTrace[id] = append(byTrace[id], s)
	}
	check := func(traceID, serverName, fetchSpan string, wantParent string) {
		t.Helper()
		spans := byTrace[traceID]
		byID := map[string]*tracepb.Span{}
		var server, decide, fetch *tracepb.Span
		var s3 []*tracepb.Span
		for _, s := range spans {
			byID[hex.EncodeToString(s.SpanId)] = s
			switch {
			case s.Kind == tracepb.Span_SPAN_KIND_SERVER:
				server = s
			case s.Name == "policy.decide":
				decide = s
			case s.Name == fetchSpan:
				fetch = s
			case s.Kind == tracepb.Span_SPAN_KIND_CLIENT:
				s3 = append(s3, s)
			}
		}
		if server == nil || decide == nil || fetch == nil || len(s3) == 0 {
			t.Fatalf("trace %s: spans %v; want server, policy.decide, %s and S3 client spans", traceID, names(spans), fetchSpan)
		}
		if server.Name != serverName || hex.EncodeToString(server.ParentSpanId) != wantParent {
			t.Errorf("server span %q parent %x, want %q parent %q", server.Name, server.ParentSpanId, serverName, wantParent)
		}
		a := attrs(server)
		if a["http.route"] == "" || a["http.response.status_code"] != "200" || a["http.request.method"] != "GET" {
			t.Errorf("server span attributes %v", a)
		}
		for _, c := range []*tracepb.Span{decide, fetch} {
			if string(c.ParentSpanId) != string(server.SpanId) {
				t.Errorf("%s is not a child of the server span", c.Name)
			}
		}
		for _, c := range s3 {
			if string(c.ParentSpanId) != string(fetch.SpanId) {
				t.Errorf("%s (%x) is not a child of %s", c.Name, c.SpanId, fetchSpan)
			}
			if !strings.HasPrefix(c.Name, "S3.") || c.EndTimeUnixNano < c.StartTimeUnixNano {
				t.Errorf("S3 span %q %d..%d", c.Name, c.StartTimeUnixNano, c.EndTimeUnixNano)
			}
			seen := false
			want := fmt.Sprintf("00-%s-%x-01", traceID, c.SpanId)
			mu.Lock()
			for _, tp := range originSaw {
				seen = seen || tp == want
			}
			mu.Unlock()
			if !seen {
				t.Errorf("the origin never saw traceparent %s (saw %q)", want, originSaw)
			}
		}
		for _, s := range spans {
			for k, v := range attrs(s) {
				if strings.Contains(v, "a.txt") && k != "url.path" {
					t.Errorf("span %s attribute %s = %q names the key", s.Name, k, v)
				}
			}
		}
	}
	check(trustedTrace, "GET direct", "origin.get", parentSpan)
	check(untrustedTrace, "GET direct", "origin.get", "")
	check(cachedTrace, "GET edge", "cache.lookup", "")
}

func names(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// TestTracingExportFailureDoesNotBlock: an unreachable collector costs requests nothing
// and shutdown at most the flush bound.
func TestTracingExportFailureDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	path := filepath.Join(dir, "gatehouse.yaml")
	writeConfig(t, path, dir, fmt.Sprintf("tracing: {endpoint: \"http://%s/v1/traces\", insecure: true, timeout: 1s}\n", dead))
	r := start(t, path)
	t0 := time.Now()
	if code, body := get(t, r.pub+"/a.txt"); code != 200 || body != "A" {
		t.Fatalf("%d %q", code, body)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("request took %s with the collector down", d)
	}
}

// TestTracingRestartOnly: a reload that changes the tracing section is reported as
// taking effect on restart (the exporter is built once, in Run).
func TestTracingRestartOnly(t *testing.T) {
	one, half := 1.0, 0.5
	a := &config.Config{Tracing: &config.Tracing{Endpoint: "https://otel/v1/traces", SampleRatio: &one}}
	same := &config.Config{Tracing: &config.Tracing{Endpoint: "https://otel/v1/traces", SampleRatio: &one}}
	if restartOnly(a, same) {
		t.Error("equal tracing sections reported as changed")
	}
	for _, b := range []*config.Config{{}, {Tracing: &config.Tracing{Endpoint: "https://otel/v1/traces", SampleRatio: &half}}} {
		if !restartOnly(a, b) {
			t.Errorf("tracing %+v -> %+v not reported as restart-only", a.Tracing, b.Tracing)
		}
	}
}
