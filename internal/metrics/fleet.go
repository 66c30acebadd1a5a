package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Fleet is what a replica knows of its fleet's shared state (docs/fleet.md), read at
// scrape time.
type Fleet struct {
	// Connected: the last command to Redis got an answer.
	Connected bool
	// LastSync is when the replica last knew it had read every event; zero: never.
	LastSync time.Time
	// Replicas is how many replicas beat recently.
	Replicas int
	// Revocations is how many revocations the replica enforces.
	Revocations int
}

var (
	fleetConnectedDesc = prometheus.NewDesc("gatehouse_redis_connected",
		"1 while the last command to Redis got an answer, 0 otherwise.", nil, nil)
	fleetSyncDesc = prometheus.NewDesc("gatehouse_redis_last_sync_timestamp_seconds",
		"When this replica last knew it had read every event of the fleet's stream (the revocation list's age is measured from it); 0: never.", nil, nil)
	fleetReplicasDesc = prometheus.NewDesc("gatehouse_redis_replicas",
		"Replicas that wrote their heartbeat within the last 5 seconds, as of this replica's last beat.", nil, nil)
	fleetRevocationsDesc = prometheus.NewDesc("gatehouse_revocations",
		"Revocations this replica enforces.", nil, nil)
)

// SetFleet reports the fleet's state, read by f at scrape time. Without it (no redis
// section) none of the gatehouse_redis_* series exist.
func (m *Metrics) SetFleet(f func() Fleet) {
	if m == nil {
		return
	}
	m.fleet.Store(&f)
}

// fleetCollector reports the fleet's state at scrape time.
type fleetCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- fleetConnectedDesc
	ch <- fleetSyncDesc
	ch <- fleetReplicasDesc
	ch <- fleetRevocationsDesc
}

// Collect implements prometheus.Collector.
func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.fleet.Load()
	if f == nil {
		return
	}
	s := (*f)()
	connected, sync := 0.0, 0.0
	if s.Connected {
		connected = 1
	}
	if !s.LastSync.IsZero() {
		sync = float64(s.LastSync.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(fleetConnectedDesc, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(fleetSyncDesc, prometheus.GaugeValue, sync)
	ch <- prometheus.MustNewConstMetric(fleetReplicasDesc, prometheus.GaugeValue, float64(s.Replicas))
	ch <- prometheus.MustNewConstMetric(fleetRevocationsDesc, prometheus.GaugeValue, float64(s.Revocations))
}
