package cli_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// result is what one cli.Main call did.
type result struct {
	code           int
	stdout, stderr string
}

// run calls cli.Main with args and captures its output. Commands that serve must not be
// run this way; see start.
func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	return result{code, stdout.String(), stderr.String()}
}

type syncBuffer = testenv.SyncBuffer

// running is a cli.Main call in progress.
type running struct {
	cancel         context.CancelFunc
	stdout, stderr *syncBuffer
	done           chan int
}

// start runs cli.Main in a goroutine with a cancellable context. The test's cleanup
// cancels it and waits for it, so no server outlives its test.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		r.done <- cli.Main(ctx, args, cli.IO{Stdin: strings.NewReader(""), Stdout: r.stdout, Stderr: r.stderr})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
			t.Errorf("cli.Main %v did not return after its context was cancelled", args)
		}
	})
	return r
}

// wait waits for Main to return and gives its exit status.
func (r *running) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // keep it for the cleanup
		return code
	case <-time.After(timeout):
		t.Fatalf("cli.Main still running after %v\nstdout:\n%s\nstderr:\n%s", timeout, r.stdout, r.stderr)
		return -1
	}
}

// waitFor polls buf until re matches, failing if Main returns first or time runs out.
func (r *running) waitFor(t *testing.T, buf *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m
		}
		select {
		case code := <-r.done:
			r.done <- code
			t.Fatalf("cli.Main returned %d before printing %v\nstdout:\n%s\nstderr:\n%s", code, re, r.stdout, r.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no match for %v in time\nstdout:\n%s\nstderr:\n%s", re, r.stdout, r.stderr)
	return nil
}

// writeFile writes a file into dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// goodConfig is a valid configuration serving the folder root.
func goodConfig(root, listen string) string {
	return fmt.Sprintf(`server:
  listen: %s
origins:
  site:
    dir:
      root: %s
routes:
  - path: /public/*
    origin: site
    public: true
  - path: /private/*
    origin: site
    auth: {}
`, strconv.Quote(listen), strconv.Quote(root))
}

var client = &http.Client{Timeout: 10 * time.Second}

// get fetches url and returns the status and body.
func get(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// ---------------------------------------------------------------------------------------

func TestVersion(t *testing.T) {
	r := run(t, "version")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "gatehouse ") || strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("stdout = %q, want one line starting with \"gatehouse \"", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown subcommand", []string{"bogus"}, `gatehouse: unknown command "bogus" for "gatehouse"`},
		{"unknown flag", []string{"check", "--nope"}, "gatehouse: unknown flag: --nope"},
		{"two arguments to check", []string{"check", "a.yaml", "b.yaml"}, "gatehouse: accepts at most 1 arg(s), received 2"},
		{"check: file and --config disagree", []string{"check", "--config", "a.yaml", "b.yaml"}, "gatehouse: two configuration files: --config a.yaml and b.yaml"},
		{"unknown subcommand of ipranges", []string{"ipranges", "shwo"}, `gatehouse: unknown command "shwo" for "gatehouse ipranges"`},
		{"argument to version", []string{"version", "now"}, `gatehouse: unknown command "now" for "gatehouse version"`},
		{"flag without its value", []string{"check", "--config"}, "gatehouse: flag needs an argument: --config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != cli.ExitUsage {
				t.Fatalf("exit %d, want %d; stdout %q", r.code, cli.ExitUsage, r.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.stderr)
			}
			if !strings.HasSuffix(r.stderr, " --help' for usage.\n") {
				t.Errorf("stderr = %q, want it to end with a hint to --help", r.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"--help"}, {"help"}, {"check", "--help"}} {
		t.Run("args="+strings.Join(args, " "), func(t *testing.T) {
			r := run(t, args...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("exit %d, stdout %q, stderr %q; want usage on stdout and exit 0", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()

	t.Run("good", func(t *testing.T) {
		cfg := writeFile(t, dir, "good.yaml", goodConfig(root, "127.0.0.1:8080"))
		r := run(t, "check", "--config", cfg)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if want := cfg + ": OK (2 routes, 1 origins)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		if r.stderr != "" {
			t.Errorf("stderr = %q, want nothing", r.stderr)
		}
	})

	t.Run("short flag and probe", func(t *testing.T) {
		cfg := writeFile(t, dir, "probe.yaml", goodConfig(root, "127.0.0.1:8080"))
		r := run(t, "check", "-c", cfg, "--probe")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if want := "origin site: ok\n" + cfg + ": OK (2 routes, 1 origins)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
	})

	t.Run("three errors", func(t *testing.T) {
		cfg := writeFile(t, dir, "bad.yaml", `server:
  listen: nowhere
origins:
  site:
    timeout: -1s
    dir:
      root: /does/not/matter
routes:
  - path: /a
    origin: missing
    public: true
`)
		r := run(t, "check", "--config", cfg)
		if r.code != cli.ExitConfig {
			t.Errorf("exit %d, want %d", r.code, cli.ExitConfig)
		}
		if r.stdout != "" {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
		got := strings.ReplaceAll(r.stderr, dir, "$TMPDIR")
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		form := regexp.MustCompile(`^\$TMPDIR/bad\.yaml:\d+: [a-z_.\[\]0-9]+: \S.*$`)
		if len(lines) != 4 {
			t.Fatalf("stderr has %d lines, want 3 errors and a summary:\n%s", len(lines), got)
		}
		for _, l := range lines[:3] {
			if !form.MatchString(l) {
				t.Errorf("line %q is not file:line: path: message", l)
			}
		}
		if lines[3] != "gatehouse: 3 configuration error(s)" {
			t.Errorf("summary = %q", lines[3])
		}
		golden(t, "check-errors.golden", got)
	})

	t.Run("dir origin root does not exist", func(t *testing.T) {
		missing := filepath.Join(root, "no-such-folder")
		cfg := writeFile(t, dir, "noroot.yaml", goodConfig(missing, "127.0.0.1:8080"))
		r := run(t, "check", "--config", cfg)
		if r.code != cli.ExitConfig {
			t.Errorf("exit %d, want %d", r.code, cli.ExitConfig)
		}
		// origins.site is on line 4 of goodConfig.
		if want := cfg + ":4: origins.site: open folder: "; !strings.HasPrefix(r.stderr, want) {
			t.Errorf("stderr = %q, want it to start with %q", r.stderr, want)
		}
		if !strings.HasSuffix(r.stderr, "\ngatehouse: 1 configuration error(s)\n") {
			t.Errorf("stderr = %q, want one configuration error", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
	})

	t.Run("root is a file", func(t *testing.T) {
		file := writeFile(t, dir, "plain.txt", "x")
		cfg := writeFile(t, dir, "fileroot.yaml", goodConfig(file, "127.0.0.1:8080"))
		r := run(t, "check", "--config", cfg)
		if r.code != cli.ExitConfig || !strings.HasPrefix(r.stderr, cfg+":4: origins.site: ") {
			t.Errorf("exit %d, stderr %q; want 78 and an error at origins.site", r.code, r.stderr)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		cfg := filepath.Join(dir, "missing.yaml")
		r := run(t, "check", "--config", cfg)
		if r.code != cli.ExitConfig {
			t.Errorf("exit %d, want %d", r.code, cli.ExitConfig)
		}
		if want := cfg + ": cannot read: no such file or directory\ngatehouse: 1 configuration error(s)\n"; r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
	})

	t.Run("process environment", func(t *testing.T) {
		t.Setenv("GATEHOUSE_CLI_TEST_ROOT", root)
		cfg := writeFile(t, dir, "env.yaml", goodConfig("${GATEHOUSE_CLI_TEST_ROOT}", "127.0.0.1:8080"))
		if r := run(t, "check", "--config", cfg); r.code != 0 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		os.Unsetenv("GATEHOUSE_CLI_TEST_ROOT")
		r := run(t, "check", "--config", cfg)
		if r.code != cli.ExitConfig || !strings.Contains(r.stderr, cfg+":6: origins.site.dir.root: environment variable GATEHOUSE_CLI_TEST_ROOT is not set") {
			t.Errorf("exit %d, stderr %q; want the unset variable named", r.code, r.stderr)
		}
	})
}

func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		config func(listen string) string
		stderr string // with the config path for %s
	}{
		{"invalid", func(listen string) string {
			return goodConfig(t.TempDir(), listen) + "  - path: /x\n    origin: nope\n    public: true\n"
		}, `%s:15: routes[2].origin: no origin named "nope"`},
		{"origin cannot be built", func(listen string) string {
			return goodConfig(filepath.Join(dir, "absent"), listen)
		}, "%s:4: origins.site: open folder:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			listen := freeAddr(t)
			cfg := writeFile(t, dir, "serve.yaml", tc.config(listen))
			r := start(t, "serve", "--config", cfg)
			if code := r.wait(t, 20*time.Second); code != cli.ExitConfig {
				t.Errorf("exit %d, want %d", code, cli.ExitConfig)
			}
			if want := fmt.Sprintf(tc.stderr, cfg); !strings.Contains(r.stderr.String(), want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, want)
			}
			if strings.Contains(r.stderr.String(), "gatehouse listening") {
				t.Errorf("it listened:\n%s", r.stderr)
			}
			// The address is still free: nothing was bound (or it would have been held).
			l, err := net.Listen("tcp", listen)
			if err != nil {
				t.Errorf("server.listen %s is taken: %v", listen, err)
			} else {
				l.Close()
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		r := run(t, "serve", "--config", filepath.Join(dir, "nope.yaml"))
		if r.code != cli.ExitConfig || !strings.Contains(r.stderr, "nope.yaml: cannot read") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("listen address taken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		cfg := writeFile(t, dir, "taken.yaml", goodConfig(t.TempDir(), l.Addr().String()))
		r := start(t, "serve", "--config", cfg)
		if code := r.wait(t, 20*time.Second); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.Contains(r.stderr.String(), "gatehouse: server.listen: listen tcp "+l.Addr().String()) {
			t.Errorf("stderr = %q, want a server.listen error", r.stderr)
		}
	})
}

func TestServe(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "public/a.txt", "served by serve\n")
	cfg := writeFile(t, t.TempDir(), "gatehouse.yaml", goodConfig(root, "127.0.0.1:0"))
	r := start(t, "serve", "--config", cfg)
	addr := r.waitFor(t, r.stderr, regexp.MustCompile(`"msg":"gatehouse listening","addr":"([^"]+)"`))[1]
	base := "http://" + addr
	if code, _, body := get(t, base+"/public/a.txt"); code != 200 || body != "served by serve\n" {
		t.Errorf("GET /public/a.txt = %d %q", code, body)
	}
	if code, _, _ := get(t, base+"/private/a.txt"); code != 403 {
		t.Errorf("GET /private/a.txt = %d, want 403", code)
	}
	// access lines go to stdout, as JSON
	r.waitFor(t, r.stdout, regexp.MustCompile(`"msg":"request".*"path":"/private/a.txt".*"status":403`))
	r.cancel()
	if code := r.wait(t, 40*time.Second); code != 0 {
		t.Errorf("exit %d after cancel, want 0; stderr:\n%s", code, r.stderr)
	}
}

func TestDemo(t *testing.T) {
	r := start(t, "demo", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	banner := regexp.MustCompile(`(?s)serving the example site copied to (\S+)\n.*?` +
		`(http://127\.0\.0\.1:\d+)/ +public home page.*?` +
		`(http://127\.0\.0\.1:\d+)/readyz +readiness`)
	m := r.waitFor(t, r.stderr, banner) // the banner is on stderr: stdout is the access log's
	siteDir, base, admin := m[1], m[2], m[3]
	if base == admin {
		t.Fatalf("public and admin share %s", base)
	}
	for _, want := range []string{base + "/public/hello.txt", base + "/private/report.txt", base + "/nowhere"} {
		if !strings.Contains(r.stderr.String(), want) {
			t.Errorf("banner does not mention %s", want)
		}
	}
	if _, err := os.Stat(filepath.Join(siteDir, "public", "index.html")); err != nil {
		t.Errorf("the site was not copied to %s: %v", siteDir, err)
	}

	t.Run("home page", func(t *testing.T) {
		code, h, body := get(t, base+"/")
		if code != 200 || !strings.Contains(body, "<h1>gatehouse is running</h1>") {
			t.Errorf("GET / = %d %q", code, body)
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q, want text/html", ct)
		}
	})
	t.Run("public file", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join("..", "demo", "site", "public", "hello.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if code, _, body := get(t, base+"/public/hello.txt"); code != 200 || body != string(want) {
			t.Errorf("GET /public/hello.txt = %d %q, want 200 %q", code, body, want)
		}
		if code, _, body := get(t, base+"/public/hello.txt", "Range", "bytes=0-4"); code != 206 || body != string(want[:5]) {
			t.Errorf("ranged GET = %d %q, want 206 %q", code, body, want[:5])
		}
	})
	t.Run("folder index", func(t *testing.T) {
		if code, _, body := get(t, base+"/public/docs/"); code != 200 || !strings.Contains(body, "<html") {
			t.Errorf("GET /public/docs/ = %d %q", code, body)
		}
	})
	t.Run("protected", func(t *testing.T) {
		if code, _, body := get(t, base+"/private/report.txt"); code != 401 || strings.Contains(body, "report") {
			t.Errorf("GET /private/report.txt = %d %q, want 401 without the file", code, body)
		}
		if code, _, body := get(t, base+"/private/report.txt", "Authorization", "Basic ZGVtbzp3cm9uZw=="); code != 401 || strings.Contains(body, "report") {
			t.Errorf("GET /private/report.txt as demo:wrong = %d %q, want 401", code, body)
		}
		if code, _, body := get(t, base+"/private/report.txt", "Authorization", "Basic ZGVtbzpkZW1v"); code != 200 || !strings.Contains(body, "report") {
			t.Errorf("GET /private/report.txt as demo:demo = %d %q, want 200 with the file", code, body)
		}
	})
	t.Run("blocked", func(t *testing.T) {
		if code, _, body := get(t, base+"/blocked/report.txt"); code != 403 || strings.Contains(body, "Nobody") {
			t.Errorf("GET /blocked/report.txt = %d %q, want 403 without the file", code, body)
		}
	})
	t.Run("no route", func(t *testing.T) {
		if code, _, _ := get(t, base+"/nowhere"); code != 404 {
			t.Errorf("GET /nowhere = %d, want 404", code)
		}
	})
	t.Run("admin", func(t *testing.T) {
		if code, _, body := get(t, admin+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("GET /healthz = %d %q", code, body)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, _, body := get(t, admin+"/readyz")
			if code == 200 {
				if !strings.Contains(body, `"ready":true`) || !strings.Contains(body, `"site":{"ok":true`) {
					t.Errorf("/readyz body %q", body)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz still %d %q", code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code, _, _ := get(t, base+"/readyz"); code != 404 {
			t.Errorf("/readyz on the public listener = %d, want 404 (no route)", code)
		}
	})
	t.Run("access log", func(t *testing.T) {
		r.waitFor(t, r.stdout, regexp.MustCompile(`"path":"/nowhere".*"status":404`))
	})

	r.cancel()
	if code := r.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("exit %d after cancel, want 0; stderr:\n%s", code, r.stderr)
	}
	client.CloseIdleConnections()
	if _, err := os.Stat(siteDir); !os.IsNotExist(err) {
		t.Errorf("the demo left %s behind (stat: %v)", siteDir, err)
	}
	if _, err := client.Get(base + "/"); err == nil {
		t.Errorf("%s still answers after shutdown", base)
	}
}

func TestDemoListenTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := start(t, "demo", "--listen", l.Addr().String(), "--admin", "127.0.0.1:0")
	if code := r.wait(t, 20*time.Second); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(r.stderr.String(), "server.listen:") {
		t.Errorf("stderr = %q, want a server.listen error", r.stderr)
	}
}

func TestDemoBadFlags(t *testing.T) {
	r := run(t, "demo", "--listen", "nowhere")
	if r.code != cli.ExitConfig {
		t.Errorf("exit %d, want %d", r.code, cli.ExitConfig)
	}
	if want := "demo.yaml (embedded):4: server.listen: want host:port"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

// Main's args are the whole command line; nil must not mean "read os.Args instead".
func TestMainNilArgs(t *testing.T) {
	saved := os.Args
	os.Args = []string{"gatehouse", "version"}
	defer func() { os.Args = saved }()
	r := run(t) // args == nil
	if strings.HasPrefix(r.stdout, "gatehouse ") && !strings.Contains(r.stdout, "Usage:") {
		t.Fatalf("regression (root.go, Main): with nil args cobra falls back to os.Args[1:] and ran %q", os.Args[1:])
	}
	if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("exit %d, stdout %q; want the usage as for no arguments", r.code, r.stdout)
	}
}

// check promises to build everything but the listeners, so what serve rejects before
// listening, check should reject too.
func TestCheckCatchesWhatServeRejects(t *testing.T) {
	dir := t.TempDir()
	src := goodConfig(t.TempDir(), "127.0.0.1:0") + "log:\n  access: " + strconv.Quote(filepath.Join(dir, "no-such-dir", "access.log")) + "\n"
	cfg := writeFile(t, dir, "access.yaml", src)
	c := run(t, "check", "--config", cfg)
	s := start(t, "serve", "--config", cfg)
	serveCode := s.wait(t, 20*time.Second)
	if serveCode != cli.ExitConfig || !strings.Contains(s.stderr.String(), "log.access") {
		t.Fatalf("serve: exit %d, stderr %q; want 78 naming log.access", serveCode, s.stderr)
	}
	if c.code == 0 {
		t.Fatalf("regression (check.go): check says %q for a log.access file that serve cannot open (serve: %q)",
			strings.TrimSpace(c.stdout), strings.TrimSpace(s.stderr.String()))
	}
	if !strings.Contains(c.stderr, "log.access") {
		t.Errorf("check stderr = %q, want it to name log.access", c.stderr)
	}
}

// check inspects the cache's disk tier without opening it: a running server's cache
// folder (here with an unfinished write and a damaged entry in it) is left as it is, a
// missing folder is not created, and a path that cannot be a folder is an error naming
// the field.
func TestCheckLeavesTheDiskCacheAlone(t *testing.T) {
	dir := t.TempDir()
	withDisk := func(path string) string {
		return goodConfig(t.TempDir(), "127.0.0.1:0") + fmt.Sprintf("cache:\n  memory: {max_size: 1MiB}\n  disk: {path: %s, max_size: 1MiB}\n", strconv.Quote(path))
	}
	cacheDir := filepath.Join(dir, "cache")
	if err := os.Mkdir(cacheDir, 0o700); err != nil {
		t.Fatal(err)
	}
	planted := []string{writeFile(t, cacheDir, "0123.tmp", "half written"), writeFile(t, cacheDir, "damaged", "xx")}
	if r := run(t, "check", "--config", writeFile(t, dir, "a.yaml", withDisk(cacheDir))); r.code != 0 {
		t.Fatalf("check: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := run(t, "explain", "--config", writeFile(t, dir, "b.yaml", withDisk(cacheDir)), "http://x/public/a"); r.code == 1 {
		t.Fatalf("explain: exit 1, stderr %s", r.stderr)
	}
	for _, p := range planted {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("check or explain touched the cache folder: %v", err)
		}
	}
	missing := filepath.Join(dir, "new", "cache")
	if r := run(t, "check", "--config", writeFile(t, dir, "c.yaml", withDisk(missing))); r.code != 0 {
		t.Fatalf("check with a missing folder: exit %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("check created %s", filepath.Dir(missing))
	}
	r := run(t, "check", "--config", writeFile(t, dir, "d.yaml", withDisk(filepath.Join(planted[1], "sub"))))
	if r.code != cli.ExitConfig || !strings.Contains(r.stderr, "cache.disk.path") || !strings.Contains(r.stderr, "not a folder") {
		t.Errorf("check with a file in the path: exit %d, stderr %q", r.code, r.stderr)
	}
}
