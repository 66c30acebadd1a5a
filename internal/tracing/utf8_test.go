package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestRegression_InvalidUTF8InStringField: a string holding invalid UTF-8 (a path cut
// through a character, bytes a client sent) is sent with U+FFFD in place of the bad
// bytes; before, it was copied as is and a strict decoder refused the whole batch.
func TestRegression_InvalidUTF8InStringField(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ok é", "ok é"},
		{"cut \xc3", "cut \uFFFD"},
		{"\xff\xfemid\x80", "\uFFFDmid\uFFFD"},
	} {
		var s tracepb.Span
		if err := proto.Unmarshal(appendString(nil, 5, tc.in), &s); err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if s.Name != tc.want {
			t.Errorf("%q sent as %q, want %q", tc.in, s.Name, tc.want)
		}
	}
	// Every string field of a span: name, attribute keys and values, events.
	bad := "/f/a\xc3"
	stub := tracetest.SpanStub{
		Name:       bad,
		StartTime:  time.Unix(1700000000, 0),
		EndTime:    time.Unix(1700000001, 0),
		Attributes: []attribute.KeyValue{attribute.String("url.path", bad), attribute.String(bad, "v"), attribute.StringSlice("ss", []string{bad})},
	}
	var got *coltracepb.ExportTraceServiceRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = decode(t, r) }))
	defer srv.Close()
	if err := newExporter(srv.URL, nil, 5*time.Second, nil).ExportSpans(context.Background(), tracetest.SpanStubs{stub}.Snapshots()); err != nil {
		t.Fatal(err)
	}
	s := got.ResourceSpans[0].ScopeSpans[0].Spans[0]
	if s.Name != "/f/a\uFFFD" || s.Attributes[0].Value.GetStringValue() != "/f/a\uFFFD" || s.Attributes[1].Key != "/f/a\uFFFD" ||
		s.Attributes[2].Value.GetArrayValue().Values[0].GetStringValue() != "/f/a\uFFFD" {
		t.Errorf("span %v", s)
	}
}
