package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// originObserver records the calls of one origin (by its configured name). Its children
// are kept by operation and status; an origin call costs far more than the map lookup.
type originObserver struct {
	m    *Metrics
	name string

	mu       sync.RWMutex
	calls    map[originKey]prometheus.Counter
	duration map[string]prometheus.Observer
}

type originKey struct {
	op     string
	status int
}

// Origin returns the observer of the origin named name, the same one for every State
// that has an origin of that name, so its counters go on across reloads. Nil when m is.
func (m *Metrics) Origin(name string) origin.Observer {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.origins[name]
	if !ok {
		o = &originObserver{m: m, name: name, calls: map[originKey]prometheus.Counter{}, duration: map[string]prometheus.Observer{}}
		m.origins[name] = o
	}
	return o
}

// ObserveCall implements origin.Observer. The status label is the HTTP status,
// "canceled" when the caller gave up first (origin.StatusCanceled), or "error" when the
// origin did not answer.
func (o *originObserver) ObserveCall(op string, status int, d time.Duration) {
	k := originKey{op, status}
	o.mu.RLock()
	c, okc := o.calls[k]
	h, okh := o.duration[op]
	o.mu.RUnlock()
	if !okc || !okh {
		o.mu.Lock()
		if c, okc = o.calls[k]; !okc {
			label := "error"
			if status > 0 {
				label = strconv.Itoa(status)
			} else if status == origin.StatusCanceled {
				label = "canceled"
			}
			c = o.m.originCalls.WithLabelValues(o.name, op, label)
			o.calls[k] = c
		}
		if h, okh = o.duration[op]; !okh {
			h = o.m.originDur.WithLabelValues(o.name, op)
			o.duration[op] = h
		}
		o.mu.Unlock()
	}
	c.Inc()
	h.Observe(d.Seconds())
}
