package config

import (
	"testing"
	"time"
)

const tracingBase = `
origins:
  s: {dir: {root: /srv}}
routes:
  - {path: "*", origin: s, public: true}
`

func TestParseTracing(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		if cfg := mustParse(t, tracingBase, nil); cfg.Tracing != nil {
			t.Errorf("Tracing = %+v, want nil", cfg.Tracing)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		cfg := mustParse(t, tracingBase+"tracing: {endpoint: \"https://otel.example:4318/v1/traces\"}\n", nil)
		tr := cfg.Tracing
		if tr.Timeout != DefaultTracingTimeout || *tr.SampleRatio != 1 || tr.ServiceName != "gatehouse" || tr.Insecure || tr.TLS != nil {
			t.Errorf("defaults: %+v", tr)
		}
	})
	t.Run("everything", func(t *testing.T) {
		src := tracingBase + `tracing:
  endpoint: https://otel.example/custom/path
  headers:
    Authorization: "Bearer ${OTEL_TOKEN}"
    x-tenant: acme
  tls: {ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem}
  timeout: 3s
  sample_ratio: 0
  service_name: edge-eu
`
		cfg := mustParse(t, src, map[string]string{"OTEL_TOKEN": "s3cret"})
		tr := cfg.Tracing
		if tr.Headers["Authorization"] != "Bearer s3cret" || tr.Headers["x-tenant"] != "acme" {
			t.Errorf("headers: %v", tr.Headers)
		}
		if tr.Timeout != 3*time.Second || *tr.SampleRatio != 0 || tr.ServiceName != "edge-eu" || tr.TLS.CAFile != "/etc/ca.pem" {
			t.Errorf("values: %+v %+v", tr, tr.TLS)
		}
	})
	t.Run("insecure http", func(t *testing.T) {
		cfg := mustParse(t, tracingBase+"tracing: {endpoint: \"http://127.0.0.1:4318/v1/traces\", insecure: true, sample_ratio: 0.25}\n", nil)
		if !cfg.Tracing.Insecure || *cfg.Tracing.SampleRatio != 0.25 {
			t.Errorf("%+v", cfg.Tracing)
		}
	})
}

func TestTracingErrors(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "no endpoint", src: tracingBase + "tracing:\n  timeout: 1s\n",
			want: []wantErr{{"tracing.endpoint", "tracing:", "required"}}},
		{name: "bad scheme", src: tracingBase + "tracing:\n  endpoint: grpc://otel:4317\n",
			want: []wantErr{{"tracing.endpoint", "endpoint: grpc", "http:// or https://"}}},
		{name: "no host", src: tracingBase + "tracing:\n  endpoint: \"https:///v1/traces\"\n",
			want: []wantErr{{"tracing.endpoint", "endpoint:", "no host"}}},
		{name: "credentials in URL", src: tracingBase + "tracing:\n  endpoint: https://u:p@otel/v1/traces\n",
			want: []wantErr{{"tracing.endpoint", "endpoint:", "credentials"}}},
		{name: "query", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces?key=1\n",
			want: []wantErr{{"tracing.endpoint", "endpoint:", "query"}}},
		{name: "http without insecure", src: tracingBase + "tracing:\n  endpoint: http://otel:4318/v1/traces\n",
			want: []wantErr{{"tracing.endpoint", "endpoint:", "insecure: true"}}},
		{name: "insecure with https", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  insecure: true\n",
			want: []wantErr{{"tracing.insecure", "insecure: true", "only for an http://"}}},
		{name: "tls with http", src: tracingBase + "tracing:\n  endpoint: http://otel/v1/traces\n  insecure: true\n  tls: {ca_file: /ca.pem}\n",
			want: []wantErr{{"tracing.tls", "tls:", "only for an https://"}}},
		{name: "half a key pair", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  tls: {cert_file: /c.pem}\n",
			want: []wantErr{{"tracing.tls", "tls:", "go together"}}},
		{name: "empty tls", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  tls: {}\n",
			want: []wantErr{{"tracing.tls", "tls:", "set ca_file"}}},
		{name: "bad header", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  headers:\n    \"bad name\": x\n    empty: \"${UNSET:-}\"\n",
			want: []wantErr{{"tracing.headers.bad name", "bad name", "header name"}, {"tracing.headers.empty", "empty:", "empty value"}}},
		{name: "timeout", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  timeout: 2m\n",
			want: []wantErr{{"tracing.timeout", "timeout: 2m", "between"}}},
		{name: "negative timeout", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  timeout: -1s\n",
			want: []wantErr{{"tracing.timeout", "timeout: -1s", "between"}}},
		{name: "ratio", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  sample_ratio: 1.5\n",
			want: []wantErr{{"tracing.sample_ratio", "sample_ratio", "between 0 and 1"}}},
		{name: "service name", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  service_name: \" edge \"\n",
			want: []wantErr{{"tracing.service_name", "service_name", "one line"}}},
		{name: "unknown key", src: tracingBase + "tracing:\n  endpoint: https://otel/v1/traces\n  sampler: always\n",
			want: []wantErr{{"tracing.sampler", "sampler:", ""}}},
	})
}
