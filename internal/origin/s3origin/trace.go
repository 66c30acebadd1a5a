package s3origin

import (
	"net/http"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-dev/gatehouse/internal/tracing"
)

// tracedClient sends each HTTP attempt of the S3 client (retries are attempts of their
// own) as a client span when the request's context carries a span (tracing on), and
// puts that span's traceparent on the request, so that the origin, or a proxy in front
// of it, can join the trace. The header is added after SigV4 signing and is not signed;
// S3 ignores headers it was not asked to check. With no span in the context the request
// goes out untouched, at no cost.
type tracedClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

// Do implements the SDK's HTTPClient.
func (c tracedClient) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return c.next.Do(req)
	}
	// Named as OpenTelemetry's AWS SDK conventions name rpc spans: S3.GetObject, and
	// STS.AssumeRole for the credentials of presigned uploads.
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	if service == "" {
		service = "S3"
	}
	ctx, span := parent.TracerProvider().Tracer(tracing.Name).Start(ctx, service+"."+op,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("rpc.system", "aws-api"),
			attribute.String("rpc.service", service),
			attribute.String("rpc.method", op),
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
		))
	defer span.End()
	// A copy: the SDK's request (and its headers) must stay as signed for a retry.
	out := req.Clone(ctx)
	tracing.Propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	resp, err := c.next.Do(out)
	if err != nil {
		span.SetStatus(codes.Error, "request failed")
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}
