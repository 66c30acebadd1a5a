package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Micro is one `go test -bench` result.
type Micro struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	// Extra holds the benchmark's own metrics (b.ReportMetric), by unit, in output order.
	Extra []MicroMetric `json:"extra,omitempty"`
}

// MicroMetric is one custom benchmark metric.
type MicroMetric struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// ProfileLine is one row of a profile's top list.
type ProfileLine struct {
	Percent float64 `json:"percent"`
	Cum     float64 `json:"cum_percent,omitempty"`
	DSO     string  `json:"dso,omitempty"` // the binary or library (perf self profiles)
	Symbol  string  `json:"symbol"`
}

// Profile is the summary of one profile: for perf, the self time of the top symbols, the
// self time summed by component and the inclusive time of selected code paths; for
// pprof, its top list.
type Profile struct {
	Name       string             `json:"name"`
	Kind       string             `json:"kind"` // "perf" (the running server) or "pprof"
	Top        []ProfileLine      `json:"top"`
	Components map[string]float64 `json:"components,omitempty"`
	Inclusive  map[string]float64 `json:"inclusive,omitempty"`
}

// parseGoBench reads `go test -bench -benchmem` output.
func parseGoBench(b []byte) []Micro {
	var out []Micro
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		m := Micro{Package: strings.TrimPrefix(pkg, "github.com/gatehouse-dev/gatehouse/"), Name: f[0]}
		ok := false
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			switch f[i+1] {
			case "ns/op":
				m.NsPerOp, ok = v, true
			case "B/op":
				m.BytesPerOp = v
			case "allocs/op":
				m.AllocsPerOp = v
			case "MB/s":
			default:
				m.Extra = append(m.Extra, MicroMetric{v, f[i+1]})
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// readProfiles reads the profile summaries bench/run wrote: NAME.perf.txt (perf report,
// self time of every symbol) with NAME.children.txt (inclusive time), and NAME.pprof.txt
// (go tool pprof -top).
func readProfiles(dir string) []Profile {
	var out []Profile
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		base := filepath.Base(f)
		switch {
		case strings.HasSuffix(base, ".perf.txt"):
			name := strings.TrimSuffix(base, ".perf.txt")
			self := parsePerf(b, 0)
			p := Profile{Name: name, Kind: "perf", Top: self[:min(len(self), 15)], Components: components(self)}
			if c, err := os.ReadFile(filepath.Join(dir, name+".children.txt")); err == nil {
				p.Inclusive = inclusive(parsePerf(c, 0))
			}
			out = append(out, p)
		case strings.HasSuffix(base, ".pprof.txt"):
			out = append(out, Profile{Name: strings.TrimSuffix(base, ".pprof.txt"), Kind: "pprof", Top: parsePprofTop(b, 20)})
		}
	}
	return out
}

// parsePerf reads the rows of `perf report --stdio -F overhead,sym` (or
// children,self,sym: the first percentage is kept), n at most (0: all).
func parsePerf(b []byte, n int) []ProfileLine {
	var out []ProfileLine
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		pct, rest, ok := strings.Cut(t, "%")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil {
			continue
		}
		f := strings.Fields(rest)
		if len(f) > 0 && strings.HasSuffix(f[0], "%") { // the self column of a children report
			f = f[1:]
		}
		for len(f) > 2 && f[len(f)-1] == "-" { // empty IPC columns
			f = f[:len(f)-1]
		}
		// With --sort dso,symbol the binary or library comes before "[.]" or "[k]".
		dso := ""
		for i, w := range f {
			if len(w) == 3 && w[0] == '[' && w[2] == ']' {
				dso, f = strings.Join(f[:i], " "), f[i:]
				break
			}
		}
		out = append(out, ProfileLine{Percent: v, DSO: dso, Symbol: strings.Join(f, " ")})
		if len(out) == n {
			break
		}
	}
	return out
}

// componentOrder lists the components self time is summed into.
var componentOrder = []string{"kernel", "Go runtime", "AWS SDK", "crypto", "net, net/http", "slog, json, fmt", "server's own code", "C libraries", "other"}

// componentOf says which component a perf symbol ("[k] x" or "[.] x") belongs to.
func componentOf(sym string) string {
	kind, name, _ := strings.Cut(sym, " ")
	if kind == "[k]" {
		return "kernel"
	}
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("runtime.", "internal/runtime", "runtime/", "aeshashbody", "memeqbody", "gcWriteBarrier",
		"indexbytebody", "cmpbody", "countbytebody", "sync.", "sync/", "internal/sync", "__vdso", "internal/bytealg"):
		return "Go runtime"
	case has("github.com/aws/"):
		return "AWS SDK"
	case has("crypto/", "vendor/golang.org/x/crypto", "golang.org/x/crypto", "github.com/go-jose/", "math/big"):
		return "crypto"
	case has("net/", "net.", "bufio.", "internal/poll", "syscall.", "vendor/golang.org/x/net", "mime"):
		return "net, net/http"
	case has("log/slog", "encoding/", "fmt.", "strconv.", "internal/strconv", "time.", "unicode"):
		return "slog, json, fmt"
	case has("github.com/gatehouse-dev/gatehouse/", "github.com/gaissmai/bart", "ngx_", "github.com/oauth2-proxy/",
		"github.com/coreos/go-oidc", "github.com/justinas/alice", "github.com/gorilla/mux"):
		return "server's own code"
	}
	return "other"
}

func components(self []ProfileLine) map[string]float64 {
	m := map[string]float64{}
	for _, l := range self {
		c := componentOf(l.Symbol)
		if c == "other" && strings.HasPrefix(l.DSO, "lib") && strings.Contains(l.DSO, ".so") {
			c = "C libraries" // libcrypt's bcrypt for nginx auth_basic, libc
		}
		m[c] += l.Percent
	}
	return m
}

// inclusivePaths are code paths whose inclusive time (callees included) the report shows,
// by the end of their symbol.
var inclusivePaths = []struct{ label, suffix string }{
	{"HTTP server connections (`net/http.(*conn).serve`)", "net/http.(*conn).serve"},
	{"gatehouse handler (`gateway.(*Handler).ServeHTTP`)", "gateway.(*Handler).ServeHTTP"},
	{"policy decision (authenticators)", "policy.(*Policy).Decide"},
	{"oauth2-proxy: token verification (`oidc.(*IDTokenVerifier).Verify`)", "oidc.(*IDTokenVerifier).Verify"},
	{"  of which RSA (`rsa.VerifyPKCS1v15`)", "crypto/rsa.VerifyPKCS1v15"},
	{"oauth2-proxy: reverse proxy (`httputil.(*ReverseProxy).ServeHTTP`)", "net/http/httputil.(*ReverseProxy).ServeHTTP"},
	{"origin GET through the AWS SDK (`s3origin.(*Bucket).Get`)", "s3origin.(*Bucket).Get"},
	{"  of which SigV4 signing", "signer/v4.Signer.SignHTTP"},
	{"  of which endpoint resolution", "s3.(*resolver).ResolveEndpoint"},
	{"  of which the net/http client round trip", "net/http.(*Transport).roundTrip"},
	{"origin connections, reading (`persistConn.readLoop`)", "net/http.(*persistConn).readLoop"},
	{"origin connections, writing (`persistConn.writeLoop`)", "net/http.(*persistConn).writeLoop"},
	{"cache lookup (`cache.(*Origin).Get`)", "cache.(*Origin).Get"},
	{"body copy (`gateway.copyBody`)", "gateway.copyBody"},
	{"  of which `write` system calls", "syscall.write"},
	{"memory copies (`runtime.memmove`)", "runtime.memmove"},
	{"access log line (`logAccess`)", "gateway.(*Handler).logAccess"},
	{"fleet: revocation check of a signed request (`revoke.(*Set).CheckSigned`)", "revoke.(*Set).CheckSigned"},
	{"fleet: route rate limit (`gateway.(*RateLimit).beforePolicy`)", "gateway.(*RateLimit).beforePolicy"},
	{"upload: request body read (`gateway.(*limitedBody).Read`)", "gateway.(*limitedBody).Read"},
	{"upload: part uploads to the origin (`s3origin.(*Bucket).uploadPart`)", "s3origin.(*Bucket).uploadPart"},
	{"  of which the SDK's SigV4 payload hash (`ComputePayloadSHA256`)", "signer/v4.(*ComputePayloadSHA256).HandleFinalize"},
	{"upload: MD5 (`crypto/md5.block`, each part's Content-MD5)", "crypto/md5.block.abi0"},
	{"allocation (`runtime.mallocgc`)", "runtime.mallocgc"},
	{"GC, background marking", "runtime.gcBgMarkWorker"},
	{"GC, assists charged to allocating goroutines", "runtime.gcAssistAlloc"},
}

func inclusive(children []ProfileLine) map[string]float64 {
	m := map[string]float64{}
	for _, p := range inclusivePaths {
		for _, l := range children {
			_, name, _ := strings.Cut(l.Symbol, " ")
			if name == p.suffix || strings.HasSuffix(name, "/"+p.suffix) {
				m[p.label] = l.Percent
				break
			}
		}
	}
	return m
}

// parsePprofTop takes the first n rows of `go tool pprof -top`.
func parsePprofTop(b []byte, n int) []ProfileLine {
	var out []ProfileLine
	started := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "flat" {
			started = true
			continue
		}
		if !started || len(f) < 6 {
			continue
		}
		flat, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cum, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, ProfileLine{Percent: flat, Cum: cum, Symbol: strings.Join(f[5:], " ")})
		if len(out) == n {
			break
		}
	}
	return out
}

func microTable(ms []Micro) string {
	if len(ms) == 0 {
		return "_not run (MICRO=0, or the build failed: see the run's log)._\n"
	}
	var b strings.Builder
	b.WriteString("| package | benchmark | ns/op | B/op | allocs/op | its own metrics |\n|---|---|---:|---:|---:|---|\n")
	for _, m := range ms {
		var extra []string
		for _, x := range m.Extra {
			extra = append(extra, fmtSig(x.Value)+" "+x.Unit)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", m.Package, m.Name, fmtSig(m.NsPerOp), fmtInt(m.BytesPerOp),
			fmtInt(m.AllocsPerOp), strings.Join(extra, ", "))
	}
	return b.String()
}

func profileTables(ps []Profile) string {
	if len(ps) == 0 {
		return "_no profiles (PROFILE=0, or perf is missing)._\n"
	}
	var perf, pprof []Profile
	for _, p := range ps {
		if p.Kind == "perf" {
			perf = append(perf, p)
		} else {
			pprof = append(pprof, p)
		}
	}
	var b strings.Builder
	if len(perf) > 0 {
		b.WriteString("Self time by component, % of the profiled process's samples:\n\n| profile | " +
			strings.Join(componentOrder, " | ") + " |\n|---|" + strings.Repeat("---:|", len(componentOrder)) + "\n")
		for _, p := range perf {
			b.WriteString("| " + p.Name)
			for _, c := range componentOrder {
				fmt.Fprintf(&b, " | %.0f", p.Components[c])
			}
			b.WriteString(" |\n")
		}
		b.WriteString("\nInclusive time (the function and everything it calls), % of samples:\n\n| code path |")
		for _, p := range perf {
			b.WriteString(" " + p.Name + " |")
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(perf)) + "\n")
		for _, ip := range inclusivePaths {
			b.WriteString("| " + strings.ReplaceAll(ip.label, "  ", "&nbsp;&nbsp;") + " |")
			for _, p := range perf {
				if v, ok := p.Inclusive[ip.label]; ok {
					fmt.Fprintf(&b, " %.1f |", v)
				} else {
					b.WriteString(" <0.2 |")
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n<details><summary>Top symbols by self time, per profile</summary>\n\n")
		for _, p := range perf {
			fmt.Fprintf(&b, "**%s**\n\n| self | binary | symbol |\n|---:|---|---|\n", p.Name)
			for _, l := range p.Top {
				fmt.Fprintf(&b, "| %.1f%% | %s | `%s` |\n", l.Percent, l.DSO, l.Symbol)
			}
			b.WriteString("\n")
		}
		b.WriteString("</details>\n\n")
	}
	for _, p := range pprof {
		fmt.Fprintf(&b, "**%s** (`go tool pprof -top` of BenchmarkServeSmallObject):\n\n| flat | cum | function |\n|---:|---:|---|\n", p.Name)
		for _, l := range p.Top {
			fmt.Fprintf(&b, "| %.1f%% | %.1f%% | `%s` |\n", l.Percent, l.Cum, l.Symbol)
		}
		b.WriteString("\n")
	}
	return b.String()
}
