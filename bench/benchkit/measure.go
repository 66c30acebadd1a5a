package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Run is one measured wrk run against one contender: the raw record the report is made
// from (one JSON line in runs.jsonl).
type Run struct {
	Scenario  string    `json:"scenario"`
	Variant   string    `json:"variant"`
	Contender string    `json:"contender"`
	Round     int       `json:"round"`
	Started   time.Time `json:"started"`

	Connections int     `json:"connections"`
	DurationS   float64 `json:"duration_s"` // as wrk measured it
	Requests    int64   `json:"requests"`
	Bytes       int64   `json:"bytes"` // response bytes wrk read, headers included
	RPS         float64 `json:"rps"`
	MiBps       float64 `json:"mib_per_s"`

	// Latency percentiles of completed requests, in milliseconds.
	LatencyMs Latency `json:"latency_ms"`
	Errors    Errors  `json:"errors"`

	// The server under test: CPU seconds (user+system, all its processes) used during
	// the measured run, that over the wall time, and its peak resident set (VmHWM of the
	// serving process, reset just before the run).
	CPUSeconds float64 `json:"cpu_s"`
	CPUUtil    float64 `json:"cpu_util"`
	CPUPer10k  float64 `json:"cpu_s_per_10k"`
	CPUPerGiB  float64 `json:"cpu_s_per_gib"`
	RSSPeakKiB int64   `json:"rss_peak_kib"`
	// OriginCPUSeconds is MinIO's CPU time during the run, when it was involved.
	OriginCPUSeconds float64 `json:"origin_cpu_s,omitempty"`
	// SettleS is how long the server took to go idle after the warm-up (work queued by
	// the warm-up's connections must not be charged to the measured run).
	SettleS float64 `json:"settle_s"`
}

// Latency holds wrk's latency percentiles.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Errors are wrk's error counters; Status counts responses that were not 2xx or 3xx.
type Errors struct {
	Connect int64 `json:"connect"`
	Read    int64 `json:"read"`
	Write   int64 `json:"write"`
	Status  int64 `json:"status"`
	Timeout int64 `json:"timeout"`
}

// Total is the number of failed requests of any kind.
func (e Errors) Total() int64 { return e.Connect + e.Read + e.Write + e.Status + e.Timeout }

// wrkJSON is what bench/wrk/report.lua prints from wrk's done callback.
type wrkJSON struct {
	Requests   int64            `json:"requests"`
	DurationUS int64            `json:"duration_us"`
	Bytes      int64            `json:"bytes"`
	Errors     Errors           `json:"errors"`
	LatencyUS  map[string]int64 `json:"latency_us"`
	MeanUS     float64          `json:"mean_us"`
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdMeasure warms a server up, resets its peak-RSS mark, runs wrk pinned to its CPU and
// appends one Run to --out.
func cmdMeasure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	var r Run
	fs.StringVar(&r.Scenario, "scenario", "", "scenario id")
	fs.StringVar(&r.Variant, "variant", "", "variant id")
	fs.StringVar(&r.Contender, "contender", "", "contender id")
	fs.IntVar(&r.Round, "round", 0, "round number")
	pids := fs.String("pids", "", "server processes, comma-separated; the first is the one that serves (its VmHWM is the peak RSS)")
	originPID := fs.Int("origin-pid", 0, "MinIO's process, whose CPU time is recorded too (optional)")
	target := fs.String("url", "", "URL to load")
	var headers stringList
	fs.Var(&headers, "header", "request header 'Name: value' (repeatable)")
	script := fs.String("script", "", "wrk Lua script (must print the WRKJSON line)")
	conns := fs.Int("connections", 64, "connections")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up before the measured run (0: none)")
	timeout := fs.Duration("timeout", 30*time.Second, "wrk's per-request timeout")
	cpu := fs.String("wrk-cpu", "1", "CPU list wrk is pinned to")
	out := fs.String("out", "", "runs.jsonl to append to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pids == "" || *target == "" || *script == "" || *out == "" {
		return errors.New("--pids, --url, --script and --out are required")
	}
	procs, err := parsePIDs(*pids)
	if err != nil {
		return err
	}
	wrkArgs := func(d time.Duration) []string {
		a := []string{"-c", *cpu, "wrk", "-t1", "-c" + strconv.Itoa(*conns),
			"-d" + strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))) + "s",
			"--timeout", strconv.Itoa(max(1, int(timeout.Seconds()))) + "s", "-s", *script}
		for _, h := range headers {
			a = append(a, "-H", h)
		}
		return append(a, *target)
	}
	if *warmup > 0 {
		if _, err := runWrk(wrkArgs(*warmup)); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var w *wrkJSON
	var wrkErr error
	if err := measureAround(&r, procs, *originPID, func() { w, wrkErr = runWrk(wrkArgs(*duration)) }); err != nil {
		return err
	}
	if wrkErr != nil {
		return wrkErr
	}
	r.Connections = *conns
	r.DurationS = float64(w.DurationUS) / 1e6
	r.Requests, r.Bytes, r.Errors = w.Requests, w.Bytes, w.Errors
	if r.DurationS > 0 {
		r.RPS = float64(r.Requests) / r.DurationS
		r.MiBps = float64(r.Bytes) / (1 << 20) / r.DurationS
	}
	us := func(k string) float64 { return float64(w.LatencyUS[k]) / 1000 }
	r.LatencyMs = Latency{Mean: w.MeanUS / 1000, P50: us("p50"), P90: us("p90"), P99: us("p99"), Max: us("max")}
	if r.Requests > 0 {
		r.CPUPer10k = r.CPUSeconds / float64(r.Requests) * 10000
	}
	if r.Bytes > 0 {
		r.CPUPerGiB = r.CPUSeconds / (float64(r.Bytes) / (1 << 30))
	}
	return appendRun(*out, r)
}

// parsePIDs reads --pids: comma-separated process IDs, the serving one first.
func parsePIDs(s string) ([]int, error) {
	var procs []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("--pids: %w", err)
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// measureAround runs fn, the measured work, after the server (procs, the serving one
// first) has gone idle and its peak-RSS mark has been reset, and records in r when it
// started, its wall time (DurationS), the server's CPU seconds and share of the wall
// time, its peak RSS and, with originPID, MinIO's CPU seconds.
func measureAround(r *Run, procs []int, originPID int, fn func()) error {
	settle, err := waitIdle(procs, 60*time.Second)
	if err != nil {
		return err
	}
	r.SettleS = settle.Seconds()
	for i, p := range procs {
		// "5" resets the peak resident set (VmHWM) to the current one, so the peak is
		// this run's (proc(5), /proc/pid/clear_refs).
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p), []byte("5"), 0); err != nil && (i == 0 || !errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("reset peak RSS of %d: %w", p, err)
		}
	}
	tick := clockTicks()
	before, err := cpuTicks(procs)
	if err != nil {
		return err
	}
	var originBefore map[int]int64
	if originPID != 0 {
		if originBefore, err = cpuTicks([]int{originPID}); err != nil {
			return err
		}
	}
	r.Started = time.Now().UTC()
	t0 := time.Now()
	fn()
	wall := time.Since(t0).Seconds()
	after, err := cpuTicks(procs)
	if err != nil {
		return err
	}
	if originPID != 0 {
		originAfter, err := cpuTicks([]int{originPID})
		if err != nil {
			return err
		}
		r.OriginCPUSeconds = float64(ticksUsed(originBefore, originAfter)) / tick
	}
	if r.RSSPeakKiB, err = vmHWM(procs[0]); err != nil {
		return err
	}
	r.DurationS = wall
	r.CPUSeconds = float64(ticksUsed(before, after)) / tick
	r.CPUUtil = r.CPUSeconds / wall
	return nil
}

// appendRun appends r to the runs file out as one JSON line and prints it on stderr.
func appendRun(out string, r Run) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "    %-10s %-10s %-18s round %d: %9.0f req/s %8.1f MiB/s  p50 %7.2f ms  p99 %7.2f ms  cpu %5.1f%%  %6.3f cpu-s/10k  rss %6.1f MiB  errors %d\n",
		r.Scenario, r.Variant, r.Contender, r.Round, r.RPS, r.MiBps, r.LatencyMs.P50, r.LatencyMs.P99,
		100*r.CPUUtil, r.CPUPer10k, float64(r.RSSPeakKiB)/1024, r.Errors.Total())
	return f.Close()
}

// runWrk runs taskset+wrk with args and returns what the Lua script reported.
func runWrk(args []string) (*wrkJSON, error) {
	cmd := exec.Command("taskset", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wrk: %w\n%s%s", err, stdout.String(), stderr.String())
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "WRKJSON "); ok {
			var w wrkJSON
			if err := json.Unmarshal([]byte(rest), &w); err != nil {
				return nil, fmt.Errorf("wrk report %q: %w", rest, err)
			}
			return &w, nil
		}
	}
	return nil, fmt.Errorf("wrk printed no WRKJSON line:\n%s%s", stdout.String(), stderr.String())
}

// cpuTicks reads utime+stime (fields 14 and 15 of /proc/PID/stat) of each of pids, in
// clock ticks. The first (serving) process must exist; a helper that has exited (nginx's
// one-shot cache loader) is left out.
func cpuTicks(pids []int) (map[int]int64, error) {
	out := map[int]int64{}
	for i, p := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			if i > 0 && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		// The command name (field 2) may hold spaces and parentheses: split after the
		// last ')'. The rest starts at field 3, so utime is its 12th word.
		j := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[j+1:]))
		if len(f) < 13 {
			return nil, fmt.Errorf("/proc/%d/stat: too few fields", p)
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		s, err2 := strconv.ParseInt(f[12], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("/proc/%d/stat: %w", p, err)
		}
		out[p] = u + s
	}
	return out, nil
}

// waitIdle waits until pids use no more than one clock tick of CPU in 300 ms: a server
// that runs requests of closed connections to the end (nginx's crypt(3) for Basic auth)
// may still be busy after wrk has gone. It gives up after limit and says how long it
// waited.
func waitIdle(pids []int, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	prev, err := cpuTicks(pids)
	if err != nil {
		return 0, err
	}
	for time.Since(start) < limit {
		time.Sleep(300 * time.Millisecond)
		cur, err := cpuTicks(pids)
		if err != nil {
			return 0, err
		}
		if ticksUsed(prev, cur) <= 1 {
			break
		}
		prev = cur
	}
	return time.Since(start), nil
}

// ticksUsed is the CPU time used between two readings, over the processes present in
// both.
func ticksUsed(before, after map[int]int64) int64 {
	var n int64
	for p, a := range after {
		if b, ok := before[p]; ok {
			n += a - b
		}
	}
	return n
}

// vmHWM is the peak resident set of pid in KiB.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}
