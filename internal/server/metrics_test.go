package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// aliceHash is bcrypt (cost 4) of "wonderland".
const aliceHash = "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."

// scrape fetches /metrics and returns its body and samples by series, as printed
// (labels in name order).
func scrape(t *testing.T, admin string) (string, map[string]float64) {
	t.Helper()
	code, body := get(t, admin+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		samples[line[:i]] = v
	}
	return body, samples
}

// TestMetricsEndToEnd drives real traffic through a served gatehouse (over TLS, with a
// cache, a basic-auth route, an ip route whose list comes from a file, uploads to a
// folder, a reload) and checks what /metrics says about it, then has promtool check the
// exposition. The promtool step skips without GATEHOUSE_PROMTOOL, unless
// GATEHOUSE_REQUIRE_MINIO is set (scripts/test sets both).
func TestMetricsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello, metrics"), 0o644)
	os.Mkdir(filepath.Join(dir, "inbox"), 0o755)
	cidrs := filepath.Join(t.TempDir(), "office.txt")
	os.WriteFile(cidrs, []byte("127.0.0.0/8\n"), 0o644)
	certFile, keyFile := selfSigned(t)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	cfg := fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s, tls: {cert_file: %q, key_file: %q}}
admin: {listen: "127.0.0.1:0", token: metrics-test-token}
cache: {memory: {max_size: 64MiB}, slice_size: 1MiB}
origins:
  files: {dir: {root: %q}}
routes:
  - {name: site, path: /site/*, origin: files, strip_prefix: /site, public: true, cache: {policy: optimized}}
  - name: private
    path: /private/*
    origin: files
    strip_prefix: /private
    auth: {methods: [{name: staff, basic: {users: {alice: %q}}}]}
  - name: office
    path: /office/*
    origin: files
    strip_prefix: /office
    auth: {methods: [{name: lan, ip: {files: [%q]}}]}
  - name: inbox
    path: /inbox/*
    origin: files
    strip_prefix: /inbox
    add_prefix: inbox/
    methods: [GET, PUT]
    auth: {methods: [{name: staff, basic: {users: {alice: %q}}}]}
    upload: {max_size: 1KiB}
`, certFile, keyFile, dir, aliceHash, cidrs, aliceHash)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, path)
	pub := strings.Replace(r.pub, "http://", "https://", 1)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	do := func(method, path, user string, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, pub+path, strings.NewReader(body))
		if body == "" {
			req.Body = nil
		}
		if user != "" {
			req.SetBasicAuth(user, "wonderland")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	wait(t, r.probed) // the ip list has loaded

	for i, want := range []struct {
		method, path, user, body string
		status                   int
	}{
		{"GET", "/site/a.txt", "", "", 200},         // miss
		{"GET", "/site/a.txt", "", "", 200},         // hit
		{"GET", "/private/a.txt", "", "", 401},      // denied: no credentials
		{"GET", "/private/a.txt", "alice", "", 200}, // allowed
		{"GET", "/office/a.txt", "", "", 200},       // from 127.0.0.1
		{"PUT", "/inbox/new.txt", "alice", "twelve bytes", 201},
		{"PUT", "/inbox/big.txt", "alice", strings.Repeat("x", 2000), 413},
		{"GET", "/nowhere", "", "", 404},
	} {
		if got := do(want.method, want.path, want.user, want.body); got != want.status {
			t.Fatalf("request %d: %s %s: %d, want %d", i, want.method, want.path, got, want.status)
		}
	}

	// A reload keeps the counters (one Metrics per process) and is counted.
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := wait(t, r.reloaded); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := do("GET", "/site/a.txt", "", ""); got != 200 {
		t.Fatalf("after reload: %d", got)
	}

	body, s := scrape(t, r.admin)
	for series, want := range map[string]float64{
		`gatehouse_http_requests_total{cache="Miss",method="GET",route="site",status_class="2xx"}`:       1,
		`gatehouse_http_requests_total{cache="Hit",method="GET",route="site",status_class="2xx"}`:        2,
		`gatehouse_http_requests_total{cache="-",method="GET",route="private",status_class="4xx"}`:       1,
		`gatehouse_http_requests_total{cache="-",method="GET",route="private",status_class="2xx"}`:       1,
		`gatehouse_http_requests_total{cache="-",method="PUT",route="inbox",status_class="2xx"}`:         1,
		`gatehouse_http_requests_total{cache="-",method="PUT",route="inbox",status_class="4xx"}`:         1,
		`gatehouse_http_requests_total{cache="-",method="GET",route="-",status_class="4xx"}`:             1,
		`gatehouse_http_request_duration_seconds_count{method="GET",route="site",status_class="2xx"}`:    3,
		`gatehouse_http_time_to_first_byte_seconds_count{method="GET",route="site",status_class="2xx"}`:  3,
		`gatehouse_http_response_bytes_total{route="site"}`:                                              3 * 14,
		`gatehouse_http_requests_in_flight`:                                                              0,
		`gatehouse_auth_decisions_total{authenticator="staff",outcome="no_credentials",route="private"}`: 1,
		`gatehouse_auth_decisions_total{authenticator="staff",outcome="identity",route="private"}`:       1,
		`gatehouse_auth_decisions_total{authenticator="staff",outcome="identity",route="inbox"}`:         2,
		`gatehouse_auth_decisions_total{authenticator="lan",outcome="identity",route="office"}`:          1,
		`gatehouse_uploads_total{result="stored",route="inbox"}`:                                         1,
		`gatehouse_uploads_total{result="refused",route="inbox"}`:                                        1,
		`gatehouse_upload_received_bytes_total{route="inbox"}`:                                           12,
		`gatehouse_origin_requests_total{operation="Put",origin="files",status="200"}`:                   1,
		`gatehouse_cache_requests_total{result="miss"}`:                                                  1,
		`gatehouse_cache_requests_total{result="hit"}`:                                                   2,
		`gatehouse_auth_source_entries{authenticator="lan",kind="ipset",route="office"}`:                 1,
		`gatehouse_auth_source_refresh_errors_total{authenticator="lan",kind="ipset",route="office"}`:    0,
		`gatehouse_config_reloads_total{result="success"}`:                                               1,
		`gatehouse_config_reloads_total{result="failure"}`:                                               0,
		`gatehouse_config_last_reload_successful`:                                                        1,
	} {
		if got, ok := s[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	// Origin reads: the miss's Get, the private and office GETs (uncached routes), at
	// least; the hits never reach the folder.
	if got := s[`gatehouse_origin_requests_total{operation="Get",origin="files",status="200"}`]; got < 3 || got > 4 {
		t.Errorf("origin Gets: %v, want 3 (the cache's one fetch, private, office)", got)
	}
	if got := s[`gatehouse_auth_source_last_success_timestamp_seconds{authenticator="lan",kind="ipset",route="office"}`]; got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("ip list last loaded at %v", got)
	}
	if got := s[`gatehouse_tls_certificate_expiry_timestamp_seconds{name="127.0.0.1"}`]; got < float64(time.Now().Unix()) || got > float64(time.Now().Add(2*time.Hour).Unix()) {
		t.Errorf("certificate expiry %v, want within the hour ahead", got)
	}
	for _, name := range []string{"gatehouse_build_info{", "go_goroutines ", "process_cpu_seconds_total "} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("no %s series", strings.TrimSpace(name))
		}
	}
	if strings.Contains(body, "/site/a.txt") || strings.Contains(body, "alice") {
		t.Error("a request path or user name is a label value")
	}

	// pprof: behind the admin token.
	if code, _ := get(t, r.admin+"/debug/pprof/"); code != 401 {
		t.Errorf("pprof without the token: %d, want 401", code)
	}
	req, _ := http.NewRequest("GET", r.admin+"/debug/pprof/goroutine?debug=1", nil)
	req.Header.Set("Authorization", "Bearer metrics-test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(prof, []byte("goroutine profile")) {
		t.Errorf("pprof with the token: %d %.100s", resp.StatusCode, prof)
	}

	t.Run("promtool", func(t *testing.T) { promtoolCheck(t, body) })
}

// promtoolCheck runs `promtool check metrics` (Debian's prometheus package) on an
// exposition: its format and Prometheus's naming conventions.
func promtoolCheck(t *testing.T, exposition string) {
	bin := os.Getenv("GATEHOUSE_PROMTOOL")
	if bin == "" {
		if os.Getenv("GATEHOUSE_REQUIRE_MINIO") != "" {
			t.Fatal("GATEHOUSE_PROMTOOL is not set (scripts/test installs promtool and sets it)")
		}
		t.Skip("GATEHOUSE_PROMTOOL not set")
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPprofNeedsToken: without admin.token the profiles are not served at all.
func TestPprofNeedsToken(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644)
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	writeConfig(t, path, dir, "")
	r := start(t, path)
	if code, _ := get(t, r.admin+"/debug/pprof/"); code != 404 {
		t.Errorf("pprof without admin.token: %d, want 404", code)
	}
	if code, _ := get(t, r.admin+"/debug/pprof/cmdline"); code != 404 {
		t.Errorf("pprof cmdline without admin.token: %d, want 404", code)
	}
	if code, body := get(t, r.admin+"/metrics"); code != 200 || !strings.Contains(body, "gatehouse_build_info") {
		t.Errorf("/metrics: %d", code)
	}
}
