package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// Snapshot is what a scrape reads from the State serving at that moment.
type Snapshot struct {
	// Cache is the cache Store's counters; nil when no cache is configured.
	Cache *cache.Stats
	// Sources are the background-loaded sources of the State's authenticators.
	Sources []Source
}

// Source is the freshness of one authenticator's source.
type Source struct {
	Route, Authenticator string
	policy.Freshness
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	cacheRequestsDesc = desc("cache_requests_total", "Objects the edge cache was asked for, by result (hit, refresh_hit, miss).", "result")
	cacheLookupsDesc  = desc("cache_lookups_total", "Entries (metadata or body slices) looked up in the cache, by tier (memory, disk) and result (hit, miss).", "tier", "result")
	cacheBytesDesc    = desc("cache_bytes_total", "Body bytes the cache handled, by source: served from stored slices (cache) or fetched from origins (origin).", "source")
	cacheEvictDesc    = desc("cache_evictions_total", "Cache entries dropped to make room, both tiers.")
	cacheCollapseDesc = desc("cache_collapsed_requests_total", "Requests that waited for another request's origin fetch instead of making their own.")
	cacheRetryDesc    = desc("cache_collapse_retries_total", "Requests that fetched again after a fetch they had joined failed.")
	cacheInvalDesc    = desc("cache_invalidated_entries_total", "Cache entries removed by invalidation.")
	cacheStaleDesc    = desc("cache_stale_serves_total", "Stale copies served because the origin failed or its breaker was open (stale-if-error).")
	cacheBreakerDesc  = desc("cache_breaker_stale_serves_total", "Stale copies served without asking the origin because its breaker was open (also in cache_stale_serves_total).")

	srcLastDesc    = desc("auth_source_last_success_timestamp_seconds", "When an authenticator's source (ipset: address lists, jwks: key set) last loaded, Unix time; 0 until it has.", "route", "authenticator", "kind")
	srcEntriesDesc = desc("auth_source_entries", "Entries loaded now: address prefixes (ipset) or keys (jwks).", "route", "authenticator", "kind")
	srcErrorsDesc  = desc("auth_source_refresh_errors_total", "Failed loads of an authenticator's source since it was built.", "route", "authenticator", "kind")
)

// stateCollector reads the serving State's own series at scrape time.
type stateCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cacheRequestsDesc, cacheLookupsDesc, cacheBytesDesc, cacheEvictDesc,
		cacheCollapseDesc, cacheRetryDesc, cacheInvalDesc, cacheStaleDesc, cacheBreakerDesc,
		srcLastDesc, srcEntriesDesc, srcErrorsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.state.Load()
	if f == nil {
		return
	}
	snap := (*f)()
	if s := snap.Cache; s != nil {
		counter := func(d *prometheus.Desc, v int64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
		}
		counter(cacheRequestsDesc, s.Hits.Load(), "hit")
		counter(cacheRequestsDesc, s.RefreshHits.Load(), "refresh_hit")
		counter(cacheRequestsDesc, s.Misses.Load(), "miss")
		counter(cacheLookupsDesc, s.MemoryHits.Load(), "memory", "hit")
		counter(cacheLookupsDesc, s.MemoryMisses.Load(), "memory", "miss")
		counter(cacheLookupsDesc, s.DiskHits.Load(), "disk", "hit")
		counter(cacheLookupsDesc, s.DiskMisses.Load(), "disk", "miss")
		counter(cacheBytesDesc, s.HitBytes.Load(), "cache")
		counter(cacheBytesDesc, s.OriginBytes.Load(), "origin")
		counter(cacheEvictDesc, s.Evictions.Load())
		counter(cacheCollapseDesc, s.Collapses.Load())
		counter(cacheRetryDesc, s.Retries.Load())
		counter(cacheInvalDesc, s.Invalidated.Load())
		counter(cacheStaleDesc, s.StaleServes.Load())
		counter(cacheBreakerDesc, s.BreakerServes.Load())
	}
	seen := map[[2]string]bool{}
	for _, s := range snap.Sources {
		// A second authenticator of the same name on a route would repeat a series,
		// which fails the whole scrape: the first one reports.
		k := [2]string{s.Route, s.Authenticator}
		if seen[k] {
			continue
		}
		seen[k] = true
		last := 0.0
		if !s.LastSuccess.IsZero() {
			last = float64(s.LastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(srcLastDesc, prometheus.GaugeValue, last, s.Route, s.Authenticator, s.Kind)
		ch <- prometheus.MustNewConstMetric(srcEntriesDesc, prometheus.GaugeValue, float64(s.Entries), s.Route, s.Authenticator, s.Kind)
		ch <- prometheus.MustNewConstMetric(srcErrorsDesc, prometheus.CounterValue, float64(s.RefreshErrors), s.Route, s.Authenticator, s.Kind)
	}
}

// Certificate is one TLS certificate the server presents.
type Certificate struct {
	// Name identifies it: its first DNS name, else its subject's common name, else
	// where it came from.
	Name     string
	NotAfter time.Time
}

var certExpiryDesc = desc("tls_certificate_expiry_timestamp_seconds", "When a TLS certificate the server presents expires (its NotAfter), Unix time.", "name")

// SetCertificates makes each scrape report the certificates certs returns. The server
// sets it (its file certificate today; managed ones as they change); later calls
// replace earlier ones.
func (m *Metrics) SetCertificates(certs func() []Certificate) {
	if m == nil {
		return
	}
	m.certs.Store(&certs)
}

// certCollector reports the certificates' expiry at scrape time.
type certCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c *certCollector) Describe(ch chan<- *prometheus.Desc) { ch <- certExpiryDesc }

// Collect implements prometheus.Collector. Two certificates of one name report the
// earlier expiry (a duplicate series would fail the scrape).
func (c *certCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.certs.Load()
	if f == nil {
		return
	}
	seen := map[string]time.Time{}
	var order []string
	for _, ct := range (*f)() {
		if prev, ok := seen[ct.Name]; ok && !ct.NotAfter.Before(prev) {
			continue
		} else if !ok {
			order = append(order, ct.Name)
		}
		seen[ct.Name] = ct.NotAfter
	}
	for _, name := range order {
		ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(seen[name].Unix()), name)
	}
}
