package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// render fills the template. Besides the data (.Meta, .Tables), the template can quote
// any figure: {{fig "public" "4k" "gatehouse" "rps"}} (median), {{span ...}} (median
// and spread), {{ratio "public" "4k" "nginx-proxy" "rps"}} (gatehouse over that peer),
// {{ceil "public" "4k" "gatehouse" "rps"}} (fraction of the ceiling), {{capacity ...}}
// (requests per CPU-second), {{ahead S V PEER}} and {{cheaper S V PEER}} (words for
// gatehouse's throughput and CPU against a peer), {{incl PROFILE SYMBOL}} and
// {{comp PROFILE COMPONENT}} (profile shares), {{meta KEY}}, and {{ratioVal ...}} /
// {{figVal ...}} as numbers for comparisons; for the fleet scenario, {{fleetCost M}} and
// {{fleetCostVal M}} (gatehouse-fleet over gatehouse-cache, same round), {{fleetInv W}}
// (the invalidation round trip in ms: median, min, max, or n), {{hasFleetInv}},
// {{fleetReplicas}}, {{fleetRevocations}} and {{fleetRevocationNote}}. Metric ids: rps, mibps, p50, p99, cpu10k,
// cpugib, cpuutil, rss, origin10k, origingib.
func render(rep *Report, tmplFile string) ([]byte, error) {
	find := func(s, v, c string) *Summary {
		for i := range rep.Summary {
			x := &rep.Summary[i]
			if x.Scenario == s && x.Variant == v && x.Contender == c {
				return x
			}
		}
		return nil
	}
	metricByID := map[string]metric{}
	for _, m := range []metric{mRPS, mMiBps, mP50, mP99, mCPU10k, mCPUGiB, mCPUUtil, mRSS, mOrigin10k, mOriginGiB} {
		metricByID[m.id] = m
	}
	figVal := func(s, v, c, m string) float64 {
		if x := find(s, v, c); x != nil {
			if st, ok := x.Metrics[m]; ok && st.N > 0 {
				return st.Median
			}
		}
		return math.NaN()
	}
	ratioOfVal := func(s, v, gh, c, m string) float64 {
		if x := find(s, v, c); x != nil {
			if st, ok := x.GatehouseOver[gh][m]; ok && st.N > 0 {
				return st.Median
			}
		}
		return math.NaN()
	}
	ratioVal := func(s, v, c, m string) float64 { return ratioOfVal(s, v, "gatehouse", c, m) }
	aheadOf := func(s, v, gh, c string) string {
		sc, _ := scenarioByID(s)
		m := "rps"
		if sc.Bulk {
			m = "mibps"
		}
		return verdict(ratioOfVal(s, v, gh, c, m), "ahead of", "behind", "level with")
	}
	funcs := template.FuncMap{
		"figVal":   figVal,
		"ratioVal": ratioVal,
		"fig": func(s, v, c, m string) string {
			return metricByID[m].format(figVal(s, v, c, m))
		},
		"span": func(s, v, c, m string) string {
			x := find(s, v, c)
			if x == nil {
				return "n/a"
			}
			return spanString(x.Metrics[m], metricByID[m].format)
		},
		"ratio": func(s, v, c, m string) string { return fmtRatio(ratioVal(s, v, c, m)) },
		// ratioOf is ratio for another gatehouse contender (gatehouse-cache).
		"ratioOf": func(s, v, gh, c, m string) string { return fmtRatio(ratioOfVal(s, v, gh, c, m)) },
		// ratioSpan is ratio with its spread over the rounds: median (lowest–highest).
		"ratioSpan": func(s, v, c, m string) string {
			if x := find(s, v, c); x != nil {
				return ratioSpan(x.GatehouseOver["gatehouse"][m])
			}
			return "n/a"
		},
		"has": func(s, v, c string) bool { return find(s, v, c) != nil },
		"ceil": func(s, v, c, m string) string {
			if x := find(s, v, c); x != nil {
				if f, ok := x.OfCeiling[m]; ok {
					return fmtPct(f)
				}
			}
			return "n/a"
		},
		// capacity is requests per CPU-second of the server: what one core would serve
		// if the server, not the origin or the client, were the limit.
		"capacity": func(s, v, c string) string { return fmtInt(10000 / figVal(s, v, c, "cpu10k")) },
		// ahead says how gatehouse's throughput compares with peer c's, same-round ratio.
		"ahead": func(s, v, c string) string { return aheadOf(s, v, "gatehouse", c) },
		// aheadOf is ahead for another gatehouse contender (gatehouse-cache).
		"aheadOf": aheadOf,
		// cheaper says how gatehouse's CPU per request (per GiB) compares with c's.
		"cheaper": func(s, v, c string) string {
			sc, _ := scenarioByID(s)
			m := "cpu10k"
			if sc.Bulk {
				m = "cpugib"
			}
			return verdict(ratioVal(s, v, c, m), "more", "less", "about the same")
		},
		// incl is the inclusive share of a code path (by its symbol suffix, as listed in
		// inclusivePaths) in profile name, as a percentage.
		"incl": func(name, suffix string) string {
			for _, p := range rep.Profiles {
				if p.Name != name || p.Inclusive == nil {
					continue
				}
				for _, ip := range inclusivePaths {
					if ip.suffix == suffix {
						if v, ok := p.Inclusive[ip.label]; ok {
							if v < 1 {
								return strconv.FormatFloat(v, 'f', 1, 64) + "%"
							}
							return strconv.FormatFloat(v, 'f', 0, 64) + "%"
						}
						return "under 0.2%"
					}
				}
			}
			return "n/a"
		},
		// comp is the self time of one component in profile name, as a percentage.
		"comp": func(name, component string) string {
			for _, p := range rep.Profiles {
				if p.Name == name && p.Components != nil {
					return strconv.FormatFloat(p.Components[component], 'f', 0, 64) + "%"
				}
			}
			return "n/a"
		},
		"fleetCost": func(m string) string {
			if rep.Fleet == nil {
				return "n/a"
			}
			return ratioSpan(rep.Fleet.CheckCost[m])
		},
		"fleetCostVal": func(m string) float64 {
			if rep.Fleet == nil || rep.Fleet.CheckCost[m].N == 0 {
				return math.NaN()
			}
			return rep.Fleet.CheckCost[m].Median
		},
		// fleetGoal words the goal for the check cost, a rps ratio of at least
		// goal: "met" when every round's ratio reaches it, "not met" when none does,
		// else that the rounds straddle it.
		"fleetGoal": func(goal float64) string {
			if rep.Fleet == nil || rep.Fleet.CheckCost["rps"].N == 0 {
				return "not measured"
			}
			st := rep.Fleet.CheckCost["rps"]
			switch {
			case st.Min >= goal:
				return "met in every round"
			case st.Max < goal:
				return "not met in any round"
			}
			return fmt.Sprintf("not settled by this run: its rounds' ratios straddle %s (%s–%s)", fmtRatio(goal), fmtRatio(st.Min), fmtRatio(st.Max))
		},
		"hasFleetInv": func() bool { return rep.Fleet != nil && rep.Fleet.Invalidation != nil },
		"fleetInv": func(what string) string {
			if rep.Fleet == nil || rep.Fleet.Invalidation == nil {
				return "n/a"
			}
			st := rep.Fleet.Invalidation.Ms
			switch what {
			case "median":
				return fmtSig(st.Median)
			case "min":
				return fmtSig(st.Min)
			case "max":
				return fmtSig(st.Max)
			case "n":
				return strconv.Itoa(st.N)
			}
			return "n/a"
		},
		"fleetReplicas": func() int {
			if rep.Fleet == nil || rep.Fleet.Invalidation == nil {
				return 0
			}
			return rep.Fleet.Invalidation.Replicas
		},
		"fleetRevocations": func() int {
			if rep.Fleet == nil {
				return 0
			}
			return rep.Fleet.Revocations
		},
		"fleetRevocationNote": func() string {
			if rep.Fleet == nil {
				return ""
			}
			return rep.Fleet.RevocationNote
		},
		"pct": fmtPct,
		"sig": fmtSig,
		"meta": func(k string) string {
			if v, ok := rep.Meta[k]; ok {
				return v
			}
			return "unknown"
		},
	}
	src, err := os.ReadFile(tmplFile)
	if err != nil {
		return nil, err
	}
	t, err := template.New(filepath.Base(tmplFile)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, err
	}
	data := map[string]any{
		"Meta": rep.Meta,
		"Tables": map[string]string{
			"Main":     mainTable(rep),
			"Ratios":   ratioTable(rep),
			"Ceiling":  ceilingTable(rep),
			"Micro":    microTable(rep.Micro),
			"Profiles": profileTables(rep.Profiles),
			"Warnings": warnings(rep),
		},
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// verdict words a ratio: above 1.1 is hi, below 0.9 lo, else same ("n/a" for none).
func verdict(r float64, hi, lo, same string) string {
	switch {
	case math.IsNaN(r):
		return "n/a"
	case r > 1.1:
		return hi
	case r < 0.9:
		return lo
	}
	return same
}

func spanString(st Stat, f func(float64) string) string {
	if st.N == 0 {
		return "n/a"
	}
	lo, hi := f(st.Min), f(st.Max)
	if st.N == 1 || lo == hi {
		return f(st.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(st.Median), lo, hi)
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if v >= 10 {
		return strconv.FormatFloat(v, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

func ratioSpan(st Stat) string {
	if st.N == 0 {
		return "n/a"
	}
	lo, hi := fmtRatio(st.Min), fmtRatio(st.Max)
	if st.N == 1 || lo == hi {
		return fmtRatio(st.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtRatio(st.Median), lo, hi)
}

func mainTable(rep *Report) string {
	var b strings.Builder
	b.WriteString("| # | scenario | object | contender | req/s or MiB/s | p50 ms | p99 ms | CPU s / 10k req (/ GiB) | server CPU | peak RSS MiB | MinIO CPU s / 10k req (/ GiB) | errors |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range rep.Summary {
		sc, _ := scenarioByID(s.Scenario)
		ms := metricsFor(sc.Bulk)
		cells := []string{strconv.Itoa(sc.N), s.Scenario, label(variantLabels, s.Variant), label(contenderLabels, s.Contender)}
		for i, m := range ms {
			c := spanString(s.Metrics[m.id], m.format)
			if i == 0 && sc.Bulk {
				c += " MiB/s"
			}
			cells = append(cells, c)
		}
		origin := mOrigin10k
		if sc.Bulk {
			origin = mOriginGiB
		}
		if st := s.Metrics[origin.id]; st.N > 0 {
			cells = append(cells, spanString(st, origin.format))
		} else {
			cells = append(cells, "–")
		}
		cells = append(cells, strconv.FormatInt(s.Errors, 10))
		if isGatehouse(s.Contender) {
			for i := 3; i < len(cells)-1; i++ {
				cells[i] = "**" + cells[i] + "**"
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

func ratioTable(rep *Report) string {
	var b strings.Builder
	b.WriteString("| # | object | ratio | req/s or MiB/s | p50 | p99 | CPU per request (per GiB) | peak RSS |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, s := range rep.Summary {
		sc, _ := scenarioByID(s.Scenario)
		ms := metricsFor(sc.Bulk)
		ghs := make([]string, 0, len(s.GatehouseOver))
		for gh := range s.GatehouseOver {
			ghs = append(ghs, gh)
		}
		slices.Sort(ghs)
		for _, gh := range ghs {
			name := label(contenderLabels, gh) + " ÷ " + label(contenderLabels, s.Contender)
			if gh == "gatehouse" && s.Contender == sc.Peer {
				name += " (peer)"
			}
			cells := []string{strconv.Itoa(sc.N), label(variantLabels, s.Variant), name}
			for _, m := range ms {
				if m.id == "cpuutil" {
					continue
				}
				cells = append(cells, ratioSpan(s.GatehouseOver[gh][m.id]))
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
	}
	return b.String()
}

func ceilingTable(rep *Report) string {
	var b strings.Builder
	b.WriteString("| # | object | contender | throughput | p50 | p99 | CPU per request (per GiB) |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|\n")
	for _, s := range rep.Summary {
		if s.OfCeiling == nil {
			continue
		}
		sc, _ := scenarioByID(s.Scenario)
		tp, cpu := "rps", "cpu10k"
		if sc.Bulk {
			tp, cpu = "mibps", "cpugib"
		}
		f := func(id string) string {
			v, ok := s.OfCeiling[id]
			if !ok {
				return "n/a"
			}
			if id == tp {
				return fmtPct(v)
			}
			return fmtRatio(v)
		}
		cells := []string{strconv.Itoa(sc.N), label(variantLabels, s.Variant), label(contenderLabels, s.Contender), f(tp), f("p50"), f("p99"), f(cpu)}
		if isGatehouse(s.Contender) {
			for i := 2; i < len(cells); i++ {
				cells[i] = "**" + cells[i] + "**"
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}
