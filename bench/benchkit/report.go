package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Stat is the median and the spread of one figure over the rounds.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// newStat summarises xs, leaving out NaNs (figures that do not apply); with none left
// it is the zero Stat, N == 0, which tables show as "n/a".
func newStat(xs []float64) Stat {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return Stat{}
	}
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// metric is one reported figure.
type metric struct {
	id     string
	header string
	get    func(Run) float64
	format func(float64) string
}

func fmtInt(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtSig(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmtInt(v)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case math.Abs(v) >= 0.01:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

func fmtPct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(100*v, 'f', 0, 64) + "%"
}

var (
	mRPS     = metric{"rps", "req/s", func(r Run) float64 { return r.RPS }, fmtInt}
	mMiBps   = metric{"mibps", "MiB/s", func(r Run) float64 { return r.MiBps }, fmtInt}
	mP50     = metric{"p50", "p50 ms", func(r Run) float64 { return ifDone(r, r.LatencyMs.P50) }, fmtSig}
	mP99     = metric{"p99", "p99 ms", func(r Run) float64 { return ifDone(r, r.LatencyMs.P99) }, fmtSig}
	mCPU10k  = metric{"cpu10k", "CPU s / 10k req", func(r Run) float64 { return ifDone(r, r.CPUPer10k) }, fmtSig}
	mCPUGiB  = metric{"cpugib", "CPU s / GiB", func(r Run) float64 { return r.CPUPerGiB }, fmtSig}
	mCPUUtil = metric{"cpuutil", "server CPU", func(r Run) float64 { return r.CPUUtil }, fmtPct}
	mRSS     = metric{"rss", "peak RSS MiB", func(r Run) float64 { return float64(r.RSSPeakKiB) / 1024 }, fmtSig}
	// MinIO's CPU time per request (per GiB for bulk runs) while it served the contender.
	mOrigin10k = metric{"origin10k", "MinIO CPU s / 10k req", func(r Run) float64 {
		if r.Requests == 0 || r.OriginCPUSeconds == 0 {
			return math.NaN()
		}
		return r.OriginCPUSeconds / float64(r.Requests) * 10000
	}, fmtSig}
	mOriginGiB = metric{"origingib", "MinIO CPU s / GiB", func(r Run) float64 {
		if r.Bytes == 0 || r.OriginCPUSeconds == 0 {
			return math.NaN()
		}
		return r.OriginCPUSeconds / (float64(r.Bytes) / (1 << 30))
	}, fmtSig}
)

// ifDone is v, or NaN (does not apply) when no request of r completed: a run of the
// 1 GiB object can end before its first response does.
func ifDone(r Run, v float64) float64 {
	if r.Requests == 0 {
		return math.NaN()
	}
	return v
}

// metricsFor lists the figures of a scenario, throughput first.
func metricsFor(bulk bool) []metric {
	if bulk {
		return []metric{mMiBps, mP50, mP99, mCPUGiB, mCPUUtil, mRSS}
	}
	return []metric{mRPS, mP50, mP99, mCPU10k, mCPUUtil, mRSS}
}

// Summary is one contender in one scenario variant, over all rounds.
type Summary struct {
	Scenario  string          `json:"scenario"`
	Variant   string          `json:"variant"`
	Contender string          `json:"contender"`
	Rounds    int             `json:"rounds"`
	Metrics   map[string]Stat `json:"metrics"`
	Errors    int64           `json:"errors"`
	// GatehouseOver holds, for each gatehouse contender of the variant ("gatehouse",
	// "gatehouse-cache"), its figure divided by this contender's, computed per round
	// (both from the same round), then summarised. Only on the other contenders.
	GatehouseOver map[string]map[string]Stat `json:"gatehouse_over,omitempty"`
	// OfCeiling is this contender's median over the ceiling scenario's median.
	OfCeiling map[string]float64 `json:"of_ceiling,omitempty"`
}

// Report is bench/results/latest.json.
type Report struct {
	Meta     map[string]string `json:"meta"`
	Summary  []Summary         `json:"summary"`
	Micro    []Micro           `json:"micro,omitempty"`
	Profiles []Profile         `json:"profiles,omitempty"`
	// Fleet is the fleet scenario's check cost and invalidation propagation (issue 16).
	Fleet *FleetReport `json:"fleet,omitempty"`
	Runs  []Run        `json:"runs"`
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	runsFile := fs.String("runs", "", "runs.jsonl")
	metaFile := fs.String("meta", "", "meta.txt (key=value lines)")
	microFile := fs.String("micro", "", "go test -bench output (optional)")
	profDir := fs.String("profiles", "", "folder of profile summaries (optional)")
	tmplFile := fs.String("template", "", "Markdown template")
	jsonOut := fs.String("json", "", "JSON output")
	mdOut := fs.String("md", "", "Markdown output")
	fleetJSON := fs.String("fleet", "", "the fleet scenario's invalidation timings, fleet.json (optional)")
	fleetMeta := fs.String("fleet-meta", "", "the fleet scenario's key=value notes, fleet-meta.txt (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runsFile == "" || *tmplFile == "" || *jsonOut == "" || *mdOut == "" {
		return errors.New("--runs, --template, --json and --md are required")
	}
	rep := &Report{Meta: map[string]string{}}
	var err error
	if rep.Runs, err = readRuns(*runsFile); err != nil {
		return err
	}
	if *metaFile != "" {
		if rep.Meta, err = readMeta(*metaFile); err != nil {
			return err
		}
	}
	if *microFile != "" {
		if b, err := os.ReadFile(*microFile); err == nil {
			rep.Micro = parseGoBench(b)
		}
	}
	if *profDir != "" {
		rep.Profiles = readProfiles(*profDir)
	}
	rep.Summary = summarize(rep.Runs)
	if rep.Fleet, err = fleetReport(rep.Runs, *fleetJSON, *fleetMeta); err != nil {
		return err
	}
	jb, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*jsonOut, append(jb, '\n'), 0o644); err != nil {
		return err
	}
	md, err := render(rep, *tmplFile)
	if err != nil {
		return err
	}
	return os.WriteFile(*mdOut, md, 0o644)
}

func readRuns(path string) ([]Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var runs []Run
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Run
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func readMeta(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

type key struct{ scenario, variant, contender string }

// isGatehouse reports whether a contender is gatehouse (with or without its cache).
func isGatehouse(contender string) bool {
	return contender == "gatehouse" || strings.HasPrefix(contender, "gatehouse-")
}

// summarize groups runs by scenario, variant and contender, in report order.
func summarize(runs []Run) []Summary {
	groups := map[key][]Run{}
	var keys []key
	for _, r := range runs {
		k := key{r.Scenario, r.Variant, r.Contender}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	sortKeys(keys)
	var ceiling map[string]float64
	if c := findKey(keys, "ceiling"); c != nil {
		ceiling = map[string]float64{}
		for _, m := range append(metricsFor(false), mMiBps, mCPUGiB) {
			if st := newStat(values(groups[*c], m)); st.N > 0 {
				ceiling[m.id] = st.Median
			}
		}
	}
	var out []Summary
	for _, k := range keys {
		sc, _ := scenarioByID(k.scenario)
		rs := groups[k]
		s := Summary{Scenario: k.scenario, Variant: k.variant, Contender: k.contender, Rounds: len(rs), Metrics: map[string]Stat{}}
		ms := metricsFor(sc.Bulk)
		if sc.Bulk {
			ms = append(ms, mRPS, mCPU10k, mOriginGiB)
		} else {
			ms = append(ms, mOrigin10k)
		}
		for _, m := range ms {
			s.Metrics[m.id] = newStat(values(rs, m))
		}
		for _, r := range rs {
			s.Errors += r.Errors.Total()
		}
		for _, gk := range keys {
			if isGatehouse(k.contender) || !isGatehouse(gk.contender) || gk.scenario != k.scenario || gk.variant != k.variant {
				continue
			}
			if s.GatehouseOver == nil {
				s.GatehouseOver = map[string]map[string]Stat{}
			}
			over := map[string]Stat{}
			for _, m := range ms {
				over[m.id] = newStat(roundRatios(groups[gk], rs, m))
			}
			s.GatehouseOver[gk.contender] = over
		}
		if ceiling != nil && k.scenario != "ceiling" {
			// A bulk transfer is compared by bytes (MiB/s, CPU per GiB): its latency is the
			// time to move 1 GiB, not comparable with a 4 KiB request's.
			ids := []string{"rps", "p50", "p99", "cpu10k"}
			if sc.Bulk {
				ids = []string{"mibps", "cpugib"}
			}
			s.OfCeiling = map[string]float64{}
			for _, id := range ids {
				if c, st := ceiling[id], s.Metrics[id]; c > 0 && st.N > 0 {
					s.OfCeiling[id] = st.Median / c
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func findKey(keys []key, scenario string) *key {
	for i := range keys {
		if keys[i].scenario == scenario {
			return &keys[i]
		}
	}
	return nil
}

func values(rs []Run, m metric) []float64 {
	xs := make([]float64, 0, len(rs))
	for _, r := range rs {
		xs = append(xs, m.get(r))
	}
	return xs
}

// roundRatios divides a's figure by b's, round by round; rounds missing on either side
// are skipped, and so are divisions by zero.
func roundRatios(a, b []Run, m metric) []float64 {
	byRound := map[int]float64{}
	for _, r := range b {
		byRound[r.Round] = m.get(r)
	}
	var xs []float64
	for _, r := range a {
		if d, ok := byRound[r.Round]; ok && d != 0 {
			xs = append(xs, m.get(r)/d)
		}
	}
	return xs
}

func sortKeys(keys []key) {
	rank := func(list []string, v string) int {
		if i := slices.Index(list, v); i >= 0 {
			return i
		}
		return len(list)
	}
	scen := make([]string, len(scenarios))
	for i, s := range scenarios {
		scen[i] = s.ID
	}
	cont := []string{"gatehouse", "gatehouse-chunked", "nginx-return", "nginx-proxy", "gatehouse-cache", "gatehouse-fleet", "nginx-cache", "nginx-securelink", "nginx-securelink-cache", "nginx-slice", "nginx-basic", "oauth2-proxy", "nginx-geo", "minio-direct"}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if x, y := rank(scen, a.scenario), rank(scen, b.scenario); x != y {
			return x < y
		}
		if x, y := rank(variantOrder, a.variant), rank(variantOrder, b.variant); x != y {
			return x < y
		}
		if a.variant != b.variant {
			return a.variant < b.variant
		}
		if x, y := rank(cont, a.contender), rank(cont, b.contender); x != y {
			return x < y
		}
		return a.contender < b.contender
	})
}

// warnings lists what makes figures doubtful: failed requests, single rounds.
func warnings(rep *Report) string {
	var b strings.Builder
	for _, s := range rep.Summary {
		if s.Errors > 0 {
			fmt.Fprintf(&b, "- %s / %s / %s: %d failed requests (wrk errors: connect, read, write, non-2xx/3xx status, timeout) over %d rounds.\n",
				s.Scenario, s.Variant, s.Contender, s.Errors, s.Rounds)
		}
		sc, _ := scenarioByID(s.Scenario)
		tp := metricsFor(sc.Bulk)[0]
		if st := s.Metrics[tp.id]; st.N > 1 && st.Median > 0 && (st.Max-st.Min)/st.Median > 0.25 {
			fmt.Fprintf(&b, "- %s / %s / %s: %s spread over %.0f%% of the median (%s–%s): the machine was busy.\n",
				s.Scenario, s.Variant, s.Contender, tp.header, 100*(st.Max-st.Min)/st.Median, tp.format(st.Min), tp.format(st.Max))
		}
		if s.Rounds < 3 {
			fmt.Fprintf(&b, "- %s / %s / %s: only %d round(s); the issue asks for at least 3.\n", s.Scenario, s.Variant, s.Contender, s.Rounds)
		}
	}
	if b.Len() == 0 {
		return "None: every request of every measured run succeeded, every figure has at least 3 rounds.\n"
	}
	return b.String()
}
