package metrics

import "testing"

// TestRateLimited: each refusal counts once under its route; a nil recorder is a no-op.
func TestRateLimited(t *testing.T) {
	m := New()
	r := m.Route("api")
	r.RateLimited()
	r.RateLimited()
	m.Route("other").RateLimited()
	(*Route)(nil).RateLimited()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "gatehouse_rate_limited_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
		}
	}
	if got["api"] != 2 || got["other"] != 1 || len(got) != 2 {
		t.Fatalf("gatehouse_rate_limited_total = %v, want api 2, other 1", got)
	}
}
