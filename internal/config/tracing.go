package config

import (
	"net/url"
	"sort"
	"strings"
	"time"
)

// Tracing exports OpenTelemetry traces over OTLP/HTTP (protobuf). nil (no tracing
// section): no spans are made and nothing is exported. Read at start only: a reload that
// changes it takes effect on restart.
type Tracing struct {
	// Endpoint is the full URL spans are POSTed to, e.g.
	// https://collector.example:4318/v1/traces (the path is used as written).
	Endpoint string `yaml:"endpoint"`
	// Headers are sent with every export (an API key, for example). Give secrets as ${ENV}.
	Headers map[string]string `yaml:"headers"`
	// Insecure must be true for an http:// endpoint: spans and Headers then cross the
	// network in clear. It has no other meaning (certificates are always verified).
	Insecure bool `yaml:"insecure"`
	// TLS trusts a private CA and/or presents a client certificate (https:// only).
	TLS *TracingTLS `yaml:"tls"`
	// Timeout bounds one export, retries included (default 10s, at most 1m).
	Timeout time.Duration `yaml:"timeout"`
	// SampleRatio is the share of new traces recorded, 0 to 1 (default 1). A request
	// whose traceparent a trusted proxy sent follows that parent's sampled flag instead.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name resource attribute (default "gatehouse").
	ServiceName string `yaml:"service_name"`
}

// TracingTLS configures the TLS client used to reach an https:// endpoint.
type TracingTLS struct {
	// CAFile is a PEM bundle trusted instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key (both or neither).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Tracing defaults and bounds.
const (
	DefaultTracingTimeout     = 10 * time.Second
	MaxTracingTimeout         = time.Minute
	DefaultTracingServiceName = "gatehouse"
)

func (t *Tracing) applyDefaults() {
	if t.Timeout == 0 {
		t.Timeout = DefaultTracingTimeout
	}
	if t.SampleRatio == nil {
		one := 1.0
		t.SampleRatio = &one
	}
	if t.ServiceName == "" {
		t.ServiceName = DefaultTracingServiceName
	}
}

func validateTracing(c *collector, p string, t *Tracing) {
	u, err := url.Parse(t.Endpoint)
	switch {
	case t.Endpoint == "":
		c.addf(p+".endpoint", "required: the OTLP/HTTP traces URL, e.g. https://collector:4318/v1/traces")
	case err != nil:
		c.addf(p+".endpoint", "not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		c.addf(p+".endpoint", "want an http:// or https:// URL, got %q", t.Endpoint)
	case u.Host == "":
		c.addf(p+".endpoint", "no host in %q", t.Endpoint)
	case u.User != nil:
		c.addf(p+".endpoint", "must not carry credentials; put them in tracing.headers")
	case u.RawQuery != "" || u.Fragment != "":
		c.addf(p+".endpoint", "must not have a query or fragment")
	case u.Scheme == "http" && !t.Insecure:
		c.addf(p+".endpoint", "an http:// endpoint sends spans and headers in clear: set tracing.insecure: true to allow it, or use https://")
	case u.Scheme == "https" && t.Insecure:
		c.addf(p+".insecure", "only for an http:// endpoint (https:// certificates are always verified)")
	}
	if t.TLS != nil {
		if err == nil && u.Scheme == "http" {
			c.addf(p+".tls", "only for an https:// endpoint")
		}
		if (t.TLS.CertFile == "") != (t.TLS.KeyFile == "") {
			c.addf(p+".tls", "cert_file and key_file go together")
		}
		if t.TLS.CAFile == "" && t.TLS.CertFile == "" {
			c.addf(p+".tls", "set ca_file, or cert_file and key_file (or leave tls out)")
		}
	}
	names := make([]string, 0, len(t.Headers))
	for k := range t.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		hp := p + ".headers." + k
		switch v := t.Headers[k]; {
		case !isToken(k):
			c.addf(hp, "not a valid header name")
		case v == "":
			c.addf(hp, "empty value (an unset ${ENV}?)")
		case strings.ContainsAny(v, "\r\n\x00"):
			c.addf(hp, "value must be one line")
		}
	}
	if t.Timeout <= 0 || t.Timeout > MaxTracingTimeout {
		c.addf(p+".timeout", "must be between 1ms and %s, got %s", MaxTracingTimeout, t.Timeout)
	}
	if r := *t.SampleRatio; !(r >= 0 && r <= 1) {
		c.addf(p+".sample_ratio", "must be between 0 and 1, got %v", r)
	}
	if strings.TrimSpace(t.ServiceName) != t.ServiceName || strings.ContainsAny(t.ServiceName, "\r\n\x00") {
		c.addf(p+".service_name", "must be one line without surrounding spaces, got %q", t.ServiceName)
	}
}
