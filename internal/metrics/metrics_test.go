package metrics

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// value returns the value of the series name{labels} (labels as "k=v" pairs), and
// whether it exists. Histograms give their sample count.
func value(t *testing.T, m *Metrics, name string, labels ...string) (float64, bool) {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, lp := range s.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if len(got) != len(labels) {
				continue
			}
			for _, kv := range labels {
				k, v, _ := strings.Cut(kv, "=")
				if g, ok := got[k]; !ok || g != v {
					continue series
				}
			}
			return sampleValue(f.GetType(), s), true
		}
	}
	return 0, false
}

func sampleValue(typ dto.MetricType, s *dto.Metric) float64 {
	switch typ {
	case dto.MetricType_COUNTER:
		return s.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return s.GetGauge().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(s.GetHistogram().GetSampleCount())
	}
	return s.GetUntyped().GetValue()
}

func want(t *testing.T, m *Metrics, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(t, m, name, labels...)
	if !ok || got != v {
		t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, v)
	}
}

func TestRouteRequest(t *testing.T) {
	m := New()
	r := m.Route("site")
	r.Request("GET", 200, origin.CacheHit, 3*time.Millisecond, time.Millisecond, 100)
	r.Request("GET", 200, origin.CacheHit, 20*time.Millisecond, 0, 50)
	r.Request("BREW", 418, origin.CacheNone, time.Millisecond, time.Millisecond, 0)
	r.Request("HEAD", 0, origin.CacheMiss, time.Millisecond, 0, 0) // nothing written: 200
	m.Route(NoRoute).Request("GET", 404, origin.CacheNone, time.Millisecond, time.Millisecond, 9)

	want(t, m, 2, "gatehouse_http_requests_total", "route=site", "method=GET", "status_class=2xx", "cache=Hit")
	want(t, m, 1, "gatehouse_http_requests_total", "route=site", "method=other", "status_class=4xx", "cache=-")
	want(t, m, 1, "gatehouse_http_requests_total", "route=site", "method=HEAD", "status_class=2xx", "cache=Miss")
	want(t, m, 1, "gatehouse_http_requests_total", "route=-", "method=GET", "status_class=4xx", "cache=-")
	want(t, m, 150, "gatehouse_http_response_bytes_total", "route=site")
	want(t, m, 2, "gatehouse_http_request_duration_seconds", "route=site", "method=GET", "status_class=2xx")
	want(t, m, 2, "gatehouse_http_time_to_first_byte_seconds", "route=site", "method=GET", "status_class=2xx")
	if _, ok := value(t, m, "gatehouse_http_requests_total", "route=site", "method=PUT", "status_class=2xx", "cache=-"); ok {
		t.Error("a combination never seen is exported")
	}

	// A second recorder of the same name (a reload's State) counts into the same series.
	m.Route("site").Request("GET", 200, origin.CacheHit, time.Millisecond, 0, 0)
	want(t, m, 3, "gatehouse_http_requests_total", "route=site", "method=GET", "status_class=2xx", "cache=Hit")
}

// TestDurationBuckets: the histograms use OTel's http.server.request.duration bounds, and
// the time to first byte is never longer than the request.
func TestDurationBuckets(t *testing.T) {
	m := New()
	m.Route("r").Request("GET", 200, origin.CacheNone, 30*time.Millisecond, time.Hour, 0)
	fams, _ := m.Registry().Gather()
	for _, f := range fams {
		if f.GetName() != "gatehouse_http_time_to_first_byte_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		var bounds []float64
		for _, b := range h.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if len(bounds) != 14 || bounds[0] != 0.005 || bounds[13] != 10 {
			t.Errorf("buckets %v", bounds)
		}
		if h.GetSampleSum() != 0.03 {
			t.Errorf("ttfb sum %v, want the request's 0.03", h.GetSampleSum())
		}
		return
	}
	t.Fatal("no ttfb histogram")
}

// TestRequestNoAllocs: once a combination has been seen, recording allocates nothing.
func TestRequestNoAllocs(t *testing.T) {
	m := New()
	r := m.Route("site")
	steps := []policy.Step{{Name: "staff", Outcome: policy.Identified}}
	rec := func() {
		r.Request("GET", 200, origin.CacheHit, time.Millisecond, time.Microsecond, 10)
		r.Auth(steps)
		m.Begin()
		m.End()
	}
	rec()
	if n := testing.AllocsPerRun(100, rec); n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}

func TestAuth(t *testing.T) {
	m := New()
	r := m.Route("private")
	r.Auth([]policy.Step{{Name: "office", Outcome: policy.NotAllowed}, {Name: "staff", Outcome: policy.NoCredentials}})
	r.Auth([]policy.Step{{Name: "office", Outcome: policy.NotAllowed}, {Name: "staff", Outcome: policy.Identified}})
	r.Auth([]policy.Step{{Name: "staff", Outcome: policy.Outcome(99)}}) // unknown: an outage
	want(t, m, 2, "gatehouse_auth_decisions_total", "route=private", "authenticator=office", "outcome=not_allowed")
	want(t, m, 1, "gatehouse_auth_decisions_total", "route=private", "authenticator=staff", "outcome=no_credentials")
	want(t, m, 1, "gatehouse_auth_decisions_total", "route=private", "authenticator=staff", "outcome=identity")
	want(t, m, 1, "gatehouse_auth_decisions_total", "route=private", "authenticator=staff", "outcome=outage")
	if got := outcomes; got != [...]string{"identity", "no_credentials", "bad_credentials", "not_allowed", "rate_limited", "outage"} {
		t.Errorf("outcome labels %q", got)
	}
}

func TestUpload(t *testing.T) {
	m := New()
	r := m.Route("inbox")
	r.Upload(201, 10)
	r.Upload(200, 5)
	r.Upload(413, 3)
	r.Upload(502, 0)
	want(t, m, 2, "gatehouse_uploads_total", "route=inbox", "result=stored")
	want(t, m, 1, "gatehouse_uploads_total", "route=inbox", "result=refused")
	want(t, m, 1, "gatehouse_uploads_total", "route=inbox", "result=failed")
	want(t, m, 18, "gatehouse_upload_received_bytes_total", "route=inbox")
}

func TestOrigin(t *testing.T) {
	m := New()
	o := m.Origin("assets")
	o.ObserveCall("GetObject", 200, 10*time.Millisecond)
	o.ObserveCall("GetObject", 200, 10*time.Millisecond)
	o.ObserveCall("GetObject", 0, time.Second)
	if m.Origin("assets") != o {
		t.Error("a second State's origin of the same name gets another observer")
	}
	want(t, m, 2, "gatehouse_origin_requests_total", "origin=assets", "operation=GetObject", "status=200")
	want(t, m, 1, "gatehouse_origin_requests_total", "origin=assets", "operation=GetObject", "status=error")
	want(t, m, 3, "gatehouse_origin_request_duration_seconds", "origin=assets", "operation=GetObject")
	if got := origin.StatusOf(&origin.NotModifiedError{}); got != http.StatusNotModified {
		t.Errorf("StatusOf(not modified) = %d", got)
	}
	if got := origin.StatusOf(errors.New("disk on fire")); got != 500 {
		t.Errorf("StatusOf(other) = %d", got)
	}
}

// TestState: the cache's and sources' series are read from the snapshot at scrape time,
// so they follow whichever State is serving.
func TestState(t *testing.T) {
	m := New()
	if _, ok := value(t, m, "gatehouse_cache_requests_total", "result=hit"); ok {
		t.Error("cache series before any State")
	}
	var one, two cache.Stats
	one.Hits.Store(5)
	one.MemoryMisses.Store(2)
	one.DiskMisses.Store(1)
	one.StaleServes.Store(3)
	one.BreakerServes.Store(1)
	two.Hits.Store(7)
	cur := &one
	last := time.Unix(1700000000, 0)
	m.SetState(func() Snapshot {
		return Snapshot{Cache: cur, Sources: []Source{
			{Route: "office", Authenticator: "vpn", Freshness: policy.Freshness{Kind: "ipset", LastSuccess: last, Entries: 4, RefreshErrors: 2}},
			{Route: "api", Authenticator: "tokens", Freshness: policy.Freshness{Kind: "jwks"}},
			{Route: "office", Authenticator: "vpn", Freshness: policy.Freshness{Kind: "ipset", Entries: 99}}, // same name: ignored
		}}
	})
	want(t, m, 5, "gatehouse_cache_requests_total", "result=hit")
	want(t, m, 2, "gatehouse_cache_lookups_total", "tier=memory", "result=miss")
	want(t, m, 1, "gatehouse_cache_lookups_total", "tier=disk", "result=miss")
	want(t, m, 3, "gatehouse_cache_stale_serves_total")
	want(t, m, 1, "gatehouse_cache_breaker_stale_serves_total")
	want(t, m, 1700000000, "gatehouse_auth_source_last_success_timestamp_seconds", "route=office", "authenticator=vpn", "kind=ipset")
	want(t, m, 4, "gatehouse_auth_source_entries", "route=office", "authenticator=vpn", "kind=ipset")
	want(t, m, 2, "gatehouse_auth_source_refresh_errors_total", "route=office", "authenticator=vpn", "kind=ipset")
	want(t, m, 0, "gatehouse_auth_source_last_success_timestamp_seconds", "route=api", "authenticator=tokens", "kind=jwks")
	cur = &two // a reload
	want(t, m, 7, "gatehouse_cache_requests_total", "result=hit")
	cur = nil // a configuration without a cache
	if _, ok := value(t, m, "gatehouse_cache_requests_total", "result=hit"); ok {
		t.Error("cache series without a cache")
	}
}

func TestReloadAndBuildInfo(t *testing.T) {
	m := New()
	want(t, m, 1, "gatehouse_config_last_reload_successful")
	want(t, m, 0, "gatehouse_config_reloads_total", "result=failure")
	m.Reloaded(errors.New("bad file"), time.Now())
	want(t, m, 0, "gatehouse_config_last_reload_successful")
	want(t, m, 1, "gatehouse_config_reloads_total", "result=failure")
	at := time.Unix(1800000000, 0)
	m.Reloaded(nil, at)
	want(t, m, 1, "gatehouse_config_last_reload_successful")
	want(t, m, 1, "gatehouse_config_reloads_total", "result=success")
	want(t, m, 1800000000, "gatehouse_config_last_reload_success_timestamp_seconds")

	fams, _ := m.Registry().Gather()
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	for _, n := range []string{"gatehouse_build_info", "go_goroutines", "process_start_time_seconds"} {
		if !names[n] && (n != "process_start_time_seconds" || runtime.GOOS == "linux") {
			t.Errorf("%s missing", n)
		}
	}
}

func TestCertificates(t *testing.T) {
	m := New()
	soon, later := time.Unix(1900000000, 0), time.Unix(2000000000, 0)
	m.SetCertificates(func() []Certificate {
		return []Certificate{{Name: "a.example", NotAfter: later}, {Name: "b.example", NotAfter: later}, {Name: "a.example", NotAfter: soon}}
	})
	want(t, m, 1900000000, "gatehouse_tls_certificate_expiry_timestamp_seconds", "name=a.example")
	want(t, m, 2000000000, "gatehouse_tls_certificate_expiry_timestamp_seconds", "name=b.example")
}

// TestHandler: the exposition parses, and a nil *Metrics's recorders record nothing.
func TestHandler(t *testing.T) {
	m := New()
	m.Route("site").Request("GET", 200, origin.CacheNone, time.Millisecond, 0, 1)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`gatehouse_http_requests_total{cache="-",method="GET",route="site",status_class="2xx"} 1`)) {
		t.Fatalf("%d\n%s", rec.Code, rec.Body)
	}
	var none *Metrics
	none.Route("x").Request("GET", 200, origin.CacheNone, 0, 0, 0)
	none.Route("x").Auth([]policy.Step{{Name: "a"}})
	none.Route("x").Upload(200, 1)
	none.Reloaded(nil, time.Now())
	none.SetCertificates(nil)
	if none.Origin("o") != nil {
		t.Error("nil Metrics made an observer")
	}
}
