// Package tracing sets up OpenTelemetry trace export for gatehouse: an OTLP/HTTP
// (protobuf) exporter, a batching tracer provider with a parent-based ratio sampler, and
// the W3C Trace Context propagator (traceparent, tracestate). Where spans go is read
// from the tracing section of the configuration only (the exporter, otlp.go, reads no
// OTEL_* variables), and no global tracer provider is installed: the gateway is handed the
// Provider's Tracer, and code below it (the S3 client) finds the provider through the
// span in its context.
package tracing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/version"
)

// Name is the instrumentation scope of gatehouse's spans.
const Name = "github.com/gatehouse-dev/gatehouse"

// Propagator reads and writes W3C traceparent and tracestate headers. It is the only
// format gatehouse accepts or sends.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Provider exports the spans of one process. A nil *Provider is tracing turned off: its
// Tracer is nil and Shutdown does nothing.
type Provider struct {
	tp *sdktrace.TracerProvider
}

// New builds the exporter and provider for cfg; nil cfg gives a nil Provider. Nothing
// is sent until the first span ends: an unreachable collector shows in the log (a
// warning per failed export), never in requests.
func New(cfg *config.Tracing, log *slog.Logger) (*Provider, error) {
	if cfg == nil {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		// Read here, so that a missing file fails start like server.tls does.
		var err error
		if tc, err = tlsConfig(cfg.TLS); err != nil {
			return nil, fmt.Errorf("tracing.tls: %w", err)
		}
	}
	if cfg.Insecure {
		tc = nil
	}
	headers := make(map[string]string, len(cfg.Headers))
	for k, v := range cfg.Headers {
		headers[k] = v
	}
	exp := newExporter(cfg.Endpoint, headers, cfg.Timeout, tc)
	setErrorHandler(log)
	res := resource.NewSchemaless(
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.version", serviceVersion()),
	)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(*cfg.SampleRatio))),
	)
	return &Provider{tp: tp}, nil
}

// tlsConfig loads the CA bundle and client certificate of t.
func tlsConfig(t *config.TracingTLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: no PEM certificate in %s", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file, key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// serviceVersion is the version stamped at link time, else the module's, else "dev".
func serviceVersion() string {
	if version.Version != "" {
		return version.Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

var errorHandlerOnce sync.Once

// setErrorHandler sends the SDK's errors (failed exports, dropped spans) to gatehouse's
// log instead of the standard logger. The SDK has one handler per process; the first
// provider's log keeps it.
func setErrorHandler(log *slog.Logger) {
	errorHandlerOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: export failed", "error", err.Error())
		}))
	})
}

// Tracer returns the tracer gatehouse's spans are made with; nil when p is nil.
func (p *Provider) Tracer() trace.Tracer {
	if p == nil {
		return nil
	}
	return p.tp.Tracer(Name)
}

// Shutdown exports the spans still buffered and stops the exporter; ctx bounds the wait.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if err := p.tp.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("tracing: flushing spans: %w", err)
	}
	return nil
}

// Close flushes and stops p at shutdown, waiting at most ShutdownFlush, and logs a
// failure (spans not sent are lost; serving is over either way).
func (p *Provider) Close(log *slog.Logger) {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownFlush)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		log.Warn("tracing: spans not exported at shutdown", "error", err.Error())
	}
}

// ShutdownFlush bounds the export of the last spans when gatehouse stops.
const ShutdownFlush = 5 * time.Second
