package s3origin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestLeanTracing: with a span in the caller's context, each lean attempt is an
// S3.GetObject or S3.HeadObject client span, child of the caller's, whose traceparent
// the origin receives, as on the SDK's path; without one, no traceparent is sent.
func TestLeanTracing(t *testing.T) {
	var mu sync.Mutex
	var saw []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		saw = append(saw, r.Header.Get("Traceparent"))
		mu.Unlock()
		w.Header().Set("ETag", `"e"`)
		w.Write([]byte("hi"))
	}))
	t.Cleanup(srv.Close)
	b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: srv.URL, PathStyle: true,
		MaxAttempts: 1, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 5*time.Second)
	if err != nil || b.lean == nil {
		t.Fatalf("lean path %v, err %v", b.lean != nil, err)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "fetch")
	obj, err := b.Get(ctx, "k", origin.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	if _, err := b.Head(ctx, "k", origin.HeadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Head(context.Background(), "k", origin.HeadOptions{}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := exp.GetSpans()
	var names []string
	for i, s := range spans[:len(spans)-1] {
		names = append(names, s.Name)
		if s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the caller's span", s.Name)
		}
		want := fmt.Sprintf("00-%s-%s-01", s.SpanContext.TraceID(), s.SpanContext.SpanID())
		if saw[i] != want {
			t.Errorf("%s: the origin saw traceparent %q, want %q", s.Name, saw[i], want)
		}
	}
	if fmt.Sprint(names) != "[S3.GetObject S3.HeadObject]" {
		t.Errorf("spans %v", names)
	}
	if len(saw) != 3 || saw[2] != "" {
		t.Errorf("traceparents %q: the untraced call sent one", saw)
	}
}
