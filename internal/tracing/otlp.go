package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// exporter sends spans as OTLP/HTTP protobuf (an ExportTraceServiceRequest, gzipped).
//
// It is written here rather than taken from otlptracehttp because that module links
// gRPC and protobuf's reflection into the binary (25 MB -> 79 MB: reflection keeps every
// exported method of every linked type); the wire format is small and stable, and the
// tests decode what this sends with the official OTLP protobuf types.
type exporter struct {
	url     string
	headers map[string]string
	timeout time.Duration
	client  *http.Client
	backoff time.Duration // the first wait before a retry; doubles up to 8s
}

var _ sdktrace.SpanExporter = (*exporter)(nil)

func newExporter(endpoint string, headers map[string]string, timeout time.Duration, tc *tls.Config) *exporter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 2
	return &exporter{url: endpoint, headers: headers, timeout: timeout, client: &http.Client{Transport: tr}, backoff: 500 * time.Millisecond}
}

// retryable statuses, as the OTLP/HTTP specification lists them.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// ExportSpans sends spans, retrying what the collector says is retryable until the
// export's timeout.
func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(encodeRequest(spans))
	zw.Close()
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	wait := e.backoff
	for {
		retry, err := e.post(ctx, zipped.Bytes())
		if err == nil || retry < 0 {
			return err
		}
		if retry == 0 {
			retry = wait
			wait = min(2*wait, 8*time.Second)
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// post sends one request. retry < 0: do not retry; 0: retry after a backoff; > 0: the
// collector's Retry-After.
func (e *exporter) post(ctx context.Context, body []byte) (retry time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "gatehouse")
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sending spans: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	err = fmt.Errorf("collector answered %s: %q", resp.Status, msg)
	if !retryable(resp.StatusCode) {
		return -1, err
	}
	if s, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil && s > 0 {
		return time.Duration(s) * time.Second, err
	}
	return 0, err
}

// Shutdown closes idle connections; the provider has already flushed.
func (e *exporter) Shutdown(ctx context.Context) error {
	e.client.CloseIdleConnections()
	return nil
}

// ---------------------------------------------------------------------------------------
// OTLP protobuf encoding (opentelemetry-proto: collector/trace/v1, trace/v1, common/v1,
// resource/v1). Field numbers are those of the .proto files.

// encodeRequest encodes ExportTraceServiceRequest{resource_spans: 1}: one ResourceSpans
// per resource, one ScopeSpans per instrumentation scope within it, in the order met.
func encodeRequest(spans []sdktrace.ReadOnlySpan) []byte {
	type scoped struct {
		scope instrumentation.Scope
		spans []byte
	}
	type group struct {
		resource []byte
		scopes   []*scoped
	}
	var groups []*group
	byResource := map[string]*group{}
	for _, s := range spans {
		var res []byte
		if r := s.Resource(); r != nil {
			for _, kv := range r.Attributes() {
				res = appendMsg(res, 1, appendKeyValue(nil, kv))
			}
		}
		g := byResource[string(res)]
		if g == nil {
			g = &group{resource: res}
			byResource[string(res)] = g
			groups = append(groups, g)
		}
		var sc *scoped
		for _, x := range g.scopes {
			if x.scope.Name == s.InstrumentationScope().Name && x.scope.Version == s.InstrumentationScope().Version {
				sc = x
			}
		}
		if sc == nil {
			sc = &scoped{scope: s.InstrumentationScope()}
			g.scopes = append(g.scopes, sc)
		}
		sc.spans = appendMsg(sc.spans, 2, encodeSpan(s))
	}
	var out []byte
	for _, g := range groups {
		rs := appendMsg(nil, 1, g.resource)
		for _, sc := range g.scopes {
			scope := appendString(nil, 1, sc.scope.Name)
			scope = appendString(scope, 2, sc.scope.Version)
			ss := appendMsg(nil, 1, scope)
			ss = append(ss, sc.spans...)
			rs = appendMsg(rs, 2, ss)
		}
		out = appendMsg(out, 1, rs)
	}
	return out
}

// encodeSpan encodes trace.v1.Span.
func encodeSpan(s sdktrace.ReadOnlySpan) []byte {
	sc, parent := s.SpanContext(), s.Parent()
	tid, sid := sc.TraceID(), sc.SpanID()
	b := appendBytes(nil, 1, tid[:])
	b = appendBytes(b, 2, sid[:])
	b = appendString(b, 3, sc.TraceState().String())
	if parent.IsValid() {
		pid := parent.SpanID()
		b = appendBytes(b, 4, pid[:])
	}
	b = appendString(b, 5, s.Name())
	b = appendVarint(b, 6, uint64(s.SpanKind())) // the same numbers as OTLP's SpanKind
	b = appendFixed64(b, 7, unixNano(s.StartTime()))
	b = appendFixed64(b, 8, unixNano(s.EndTime()))
	for _, kv := range s.Attributes() {
		b = appendMsg(b, 9, appendKeyValue(nil, kv))
	}
	b = appendVarint(b, 10, uint64(s.DroppedAttributes()))
	for _, ev := range s.Events() {
		e := appendFixed64(nil, 1, unixNano(ev.Time))
		e = appendString(e, 2, ev.Name)
		for _, kv := range ev.Attributes {
			e = appendMsg(e, 3, appendKeyValue(nil, kv))
		}
		b = appendMsg(b, 11, e)
	}
	b = appendVarint(b, 12, uint64(s.DroppedEvents()))
	for _, l := range s.Links() {
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		m := appendBytes(nil, 1, ltid[:])
		m = appendBytes(m, 2, lsid[:])
		m = appendString(m, 3, l.SpanContext.TraceState().String())
		for _, kv := range l.Attributes {
			m = appendMsg(m, 4, appendKeyValue(nil, kv))
		}
		b = appendMsg(b, 13, m)
	}
	b = appendVarint(b, 14, uint64(s.DroppedLinks()))
	st := s.Status()
	var code uint64 // OTLP: 0 unset, 1 ok, 2 error (otel/codes numbers them otherwise)
	switch st.Code {
	case codes.Ok:
		code = 1
	case codes.Error:
		code = 2
	}
	b = appendMsg(b, 15, appendVarint(appendString(nil, 2, st.Description), 3, code))
	flags := uint32(sc.TraceFlags()) | 0x100 // SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
	if parent.IsRemote() {
		flags |= 0x200 // SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
	}
	b = protowire.AppendTag(b, 16, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, flags)
}

// appendKeyValue encodes common.v1.KeyValue{key: 1, value: 2}.
func appendKeyValue(b []byte, kv attribute.KeyValue) []byte {
	b = appendString(b, 1, string(kv.Key))
	return appendMsg(b, 2, anyValue(kv.Value))
}

// anyValue encodes common.v1.AnyValue (string 1, bool 2, int 3, double 4, array 5,
// kvlist 6, bytes 7; nothing for an empty value).
func anyValue(v attribute.Value) []byte {
	var b []byte
	switch v.Type() {
	case attribute.BOOL:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, validUTF8(v.AsString()))
	case attribute.STRINGSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE, attribute.BOOLSLICE, attribute.SLICE:
		var arr []byte
		for _, s := range sliceValues(v) {
			arr = appendMsg(arr, 1, anyValue(s))
		}
		b = appendMsg(b, 5, arr)
	case attribute.MAP:
		var kvs []byte
		for _, kv := range v.AsMap() {
			kvs = appendMsg(kvs, 1, appendKeyValue(nil, kv))
		}
		b = appendMsg(b, 6, kvs)
	case attribute.BYTESLICE:
		b = appendMsg(b, 7, v.AsByteSlice())
	}
	return b
}

func sliceValues(v attribute.Value) []attribute.Value {
	var out []attribute.Value
	switch v.Type() {
	case attribute.STRINGSLICE:
		for _, x := range v.AsStringSlice() {
			out = append(out, attribute.StringValue(x))
		}
	case attribute.INT64SLICE:
		for _, x := range v.AsInt64Slice() {
			out = append(out, attribute.Int64Value(x))
		}
	case attribute.FLOAT64SLICE:
		for _, x := range v.AsFloat64Slice() {
			out = append(out, attribute.Float64Value(x))
		}
	case attribute.BOOLSLICE:
		for _, x := range v.AsBoolSlice() {
			out = append(out, attribute.BoolValue(x))
		}
	case attribute.SLICE:
		out = v.AsSlice()
	}
	return out
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

// The append helpers leave out fields holding their zero value, as proto3 does.

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return appendMsg(b, num, v)
}

func appendString(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, validUTF8(v))
}

// validUTF8 returns v with each run of invalid bytes replaced by U+FFFD. Protobuf string
// fields must be valid UTF-8, and a strict decoder refuses the whole batch when one is
// not; attribute values can hold what a client sent.
func validUTF8(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendFixed64(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}
