package gateway_test

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/tracing"
)

// TestRegression_TruncatedPathSplitsCharacter: a path longer than 512 bytes whose 512th
// byte is inside a character is cut before that character, in the access log and in the
// url.path span attribute. Before, the cut left half a character: the OTLP batch then
// held invalid UTF-8 and a strict decoder (the collector's, here the official protobuf
// types) refused every span in it.
func TestRegression_TruncatedPathSplitsCharacter(t *testing.T) {
	var mu sync.Mutex
	var batches [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("export not gzipped: %v", err)
			return
		}
		b, _ := io.ReadAll(zr)
		mu.Lock()
		batches = append(batches, b)
		mu.Unlock()
	}))
	defer collector.Close()
	one := 1.0
	tp, err := tracing.New(&config.Tracing{Endpoint: collector.URL + "/v1/traces", Insecure: true, SampleRatio: &one,
		Timeout: 5 * time.Second, ServiceName: "gatehouse"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("test.yaml", []byte(traceConfig(t, `[]`)), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	access := &syncBuffer{}
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.NewJSONHandler(access, nil)))
	h.SetTracer(tp.Tracer())
	srv := httptest.NewServer(h)
	defer srv.Close()

	long := "/f/" + strings.Repeat("a", 508) // 511 bytes; "é" is bytes 512 and 513
	resp, err := http.Get(srv.URL + long + "é")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	if err := tp.Shutdown(context.Background()); err != nil { // exports what is buffered
		t.Fatal(err)
	}
	want := long + "..."
	if got := lastAccess(t, &gw{access: access})["path"]; got != want {
		t.Errorf("access log path %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	var paths []string
	for _, b := range batches {
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			t.Fatalf("exported batch refused by a strict decoder: %v", err)
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					for _, kv := range s.Attributes {
						if kv.Key == "url.path" {
							paths = append(paths, kv.Value.GetStringValue())
						}
					}
				}
			}
		}
	}
	if len(paths) != 1 || paths[0] != want {
		t.Errorf("url.path attributes %q, want one %q", paths, want)
	}
}
