package main

import (
	"math"
	"testing"
)

func TestNewStat(t *testing.T) {
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{7}, 7, 7, 7},
	} {
		s := newStat(tc.in)
		if s.Median != tc.med || s.Min != tc.min || s.Max != tc.max || s.N != len(tc.in) {
			t.Errorf("newStat(%v) = %+v, want median %v min %v max %v", tc.in, s, tc.med, tc.min, tc.max)
		}
	}
	if s := newStat([]float64{math.NaN()}); s.N != 0 {
		t.Errorf("newStat(NaN) = %+v, want N 0", s)
	}
	if s := newStat([]float64{math.NaN(), 5}); s.N != 1 || s.Median != 5 {
		t.Errorf("newStat(NaN, 5) = %+v, want the 5 alone", s)
	}
}

// Ratios pair runs of the same round, never the medians of both sides.
func TestRoundRatios(t *testing.T) {
	gh := []Run{{Round: 1, RPS: 100}, {Round: 2, RPS: 300}, {Round: 3, RPS: 50}}
	peer := []Run{{Round: 2, RPS: 150}, {Round: 1, RPS: 200}, {Round: 4, RPS: 1}}
	got := newStat(roundRatios(gh, peer, mRPS))
	if got.N != 2 || got.Min != 0.5 || got.Max != 2 || got.Median != 1.25 {
		t.Errorf("ratios = %+v, want n=2 min 0.5 max 2 median 1.25", got)
	}
}

func TestSummarize(t *testing.T) {
	runs := []Run{
		{Scenario: "public", Variant: "4k", Contender: "nginx-proxy", Round: 1, RPS: 200},
		{Scenario: "ceiling", Variant: "4k", Contender: "nginx-return", Round: 1, RPS: 1000},
		{Scenario: "public", Variant: "4k", Contender: "gatehouse", Round: 1, RPS: 100, Errors: Errors{Status: 2}},
	}
	s := summarize(runs)
	if len(s) != 3 || s[0].Scenario != "ceiling" || s[1].Contender != "gatehouse" || s[2].Contender != "nginx-proxy" {
		t.Fatalf("order: %+v", s)
	}
	if s[1].Errors != 2 {
		t.Errorf("errors = %d, want 2", s[1].Errors)
	}
	if s[1].GatehouseOver != nil {
		t.Errorf("gatehouse has a ratio to itself")
	}
	if r := s[2].GatehouseOver["gatehouse"]["rps"].Median; r != 0.5 {
		t.Errorf("gatehouse/nginx = %v, want 0.5", r)
	}
	if f := s[1].OfCeiling["rps"]; f != 0.1 {
		t.Errorf("of ceiling = %v, want 0.1", f)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/gatehouse-dev/gatehouse/internal/route
BenchmarkTableMatch/first 	12345678	        85.2 ns/op	       0 B/op	       0 allocs/op
    bench_test.go:60: 100000 prefixes
BenchmarkX-2 	1000	 1234 ns/op	 2.000 rsa-verifies/page
PASS
`
	got := parseGoBench([]byte(out))
	if len(got) != 2 {
		t.Fatalf("got %d results: %+v", len(got), got)
	}
	if got[0].Package != "internal/route" || got[0].Name != "BenchmarkTableMatch/first" || got[0].NsPerOp != 85.2 || got[0].AllocsPerOp != 0 {
		t.Errorf("first = %+v", got[0])
	}
	if got[1].NsPerOp != 1234 || len(got[0].Extra) != 0 || len(got[1].Extra) != 1 || got[1].Extra[0].Unit != "rsa-verifies/page" {
		t.Errorf("second = %+v", got[1])
	}
}

func TestParseProfiles(t *testing.T) {
	perf := `# Samples: 10K of event 'cpu-clock'
#
    12.50%  [k] copy_user_generic
     3.25%  [.] runtime.mallocgc

`
	p := parsePerf([]byte(perf+"     3.00%  libcrypt.so.1.1.0  [.] 0x0000000000011d86\n"), 10)
	if len(p) != 3 || p[2].DSO != "libcrypt.so.1.1.0" || p[2].Symbol != "[.] 0x0000000000011d86" {
		t.Errorf("perf with dso = %+v", p)
	}
	if c := components(p[2:]); c["C libraries"] != 3 {
		t.Errorf("components = %v", c)
	}
	p = p[:2]
	if len(p) != 2 || p[0].Percent != 12.5 || p[0].Symbol != "[k] copy_user_generic" {
		t.Errorf("perf = %+v", p)
	}
	pprof := `Showing nodes accounting for 1s, 100% of 1s total
      flat  flat%   sum%        cum   cum%
     0.30s 30.00% 30.00%      0.50s 50.00%  runtime.mallocgc
     0.10s 10.00% 40.00%      0.90s 90.00%  github.com/x/y.(*T).ServeHTTP
`
	q := parsePprofTop([]byte(pprof), 10)
	if len(q) != 2 || q[0].Percent != 30 || q[1].Cum != 90 || q[1].Symbol != "github.com/x/y.(*T).ServeHTTP" {
		t.Errorf("pprof = %+v", q)
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[float64]string{1234567: "1,234,567", 999: "999", 1000: "1,000", -1234: "-1,234"} {
		if got := fmtInt(in); got != want {
			t.Errorf("fmtInt(%v) = %q, want %q", in, got, want)
		}
	}
	if got := fmtRatio(0.854); got != "0.85×" {
		t.Errorf("fmtRatio = %q", got)
	}
}

func TestComponents(t *testing.T) {
	for sym, want := range map[string]string{
		"[k] tcp_sendmsg":      "kernel",
		"[.] runtime.mallocgc": "Go runtime",
		"[.] github.com/aws/smithy-go/middleware.(*Stack).HandleMiddleware": "AWS SDK",
		"[.] crypto/sha256.block":                                          "crypto",
		"[.] net/http.(*conn).serve":                                       "net, net/http",
		"[.] log/slog.(*handleState).appendString":                         "slog, json, fmt",
		"[.] github.com/gatehouse-dev/gatehouse/internal/gateway.copyBody": "server's own code",
		"[.] ngx_http_proxy_handler":                                       "server's own code",
		"[.] 0x0000000000412345":                                           "other",
	} {
		if got := componentOf(sym); got != want {
			t.Errorf("componentOf(%q) = %q, want %q", sym, got, want)
		}
	}
	children := parsePerf([]byte("    47.51%     0.06%  [.] github.com/gatehouse-dev/gatehouse/internal/gateway.(*Handler).ServeHTTP     -      -    \n"), 0)
	if len(children) != 1 || children[0].Percent != 47.51 {
		t.Fatalf("children = %+v", children)
	}
	if got := inclusive(children)["gatehouse handler (`gateway.(*Handler).ServeHTTP`)"]; got != 47.51 {
		t.Errorf("inclusive = %v", got)
	}
}
