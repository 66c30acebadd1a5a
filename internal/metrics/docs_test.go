package metrics

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// fullScrape returns the names a scrape can hold once everything has happened once:
// each family's name and, for histograms, its _bucket, _sum and _count series.
func fullScrape(t *testing.T) (names map[string]bool, families []string) {
	t.Helper()
	m := New()
	r := m.Route("site")
	r.Request("GET", 200, origin.CacheHit, time.Millisecond, time.Millisecond, 1)
	r.Auth([]policy.Step{{Name: "staff", Outcome: policy.NoCredentials}})
	r.Upload(201, 1)
	r.RateLimited()
	m.Origin("files").ObserveCall("Get", 200, time.Millisecond)
	m.Reloaded(errors.New("bad"), time.Now())
	m.SetState(func() Snapshot {
		return Snapshot{Cache: &cache.Stats{}, Sources: []Source{{Route: "office", Authenticator: "lan", Freshness: policy.Freshness{Kind: "ipset"}}}}
	})
	m.SetCertificates(func() []Certificate { return []Certificate{{Name: "example.com", NotAfter: time.Now()}} })
	m.SetFleet(func() Fleet { return Fleet{Connected: true, LastSync: time.Now(), Replicas: 3, Revocations: 1} })
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names = map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		families = append(families, f.GetName())
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names, families
}

var metricName = regexp.MustCompile(`\b(?:gatehouse|go|process)_[a-z0-9_]+`)

// TestDashboard: docs/grafana/gatehouse.json is JSON, and every series its queries use
// exists in a scrape.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile("../../docs/grafana/gatehouse.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana/gatehouse.json: %v", err)
	}
	names, _ := fullScrape(t)
	var queries []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if key == "expr" || key == "query" || key == "definition" {
				queries = append(queries, v)
			}
		}
	}
	walk("", dash)
	if len(queries) < 15 {
		t.Fatalf("only %d queries found", len(queries))
	}
	for _, q := range queries {
		for _, n := range metricName.FindAllString(q, -1) {
			if !names[n] {
				t.Errorf("dashboard query uses %s, which no scrape holds: %s", n, q)
			}
		}
	}
}

// TestMetricsDoc: docs/metrics.md documents every gatehouse_ series a scrape can hold,
// and names none that does not exist.
func TestMetricsDoc(t *testing.T) {
	raw, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	names, families := fullScrape(t)
	documented := map[string]bool{}
	for _, n := range regexp.MustCompile("`(gatehouse_[a-z0-9_]+)`").FindAllStringSubmatch(string(raw), -1) {
		documented[n[1]] = true
	}
	for _, n := range metricName.FindAllString(string(raw), -1) {
		if len(n) > len("gatehouse_") && n[:len("gatehouse_")] == "gatehouse_" && !names[n] {
			t.Errorf("docs/metrics.md names %s, which no scrape holds", n)
		}
	}
	sort.Strings(families)
	for _, f := range families {
		if len(f) > len("gatehouse_") && f[:len("gatehouse_")] == "gatehouse_" && !documented[f] {
			t.Errorf("%s is not documented in docs/metrics.md", f)
		}
	}
}
