package cli_test

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/version"
)

// TestVersionFlag: `gatehouse --version` and -v print what `gatehouse version` prints.
func TestVersionFlag(t *testing.T) {
	want := version.String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		if r := run(t, args...); r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", args, r.code, r.stdout, r.stderr, want)
		}
	}
}

// TestCheckFileArgument: `check FILE` is `check --config FILE`; both at once must name
// the same file.
func TestCheckFileArgument(t *testing.T) {
	root := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "g.yaml", goodConfig(root, "127.0.0.1:8080"))
	want := cfg + ": OK (2 routes, 1 origins)\n"
	for _, args := range [][]string{{"check", cfg}, {"check", "--config", cfg}, {"check", "--config", cfg, cfg}} {
		if r := run(t, args...); r.code != 0 || r.stdout != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	bad := writeFile(t, t.TempDir(), "bad.yaml", "nonsense: 1\n")
	if r := run(t, "check", bad); r.code != cli.ExitConfig || !strings.Contains(r.stderr, bad+":1: nonsense: unknown key") {
		t.Errorf("check bad.yaml: exit %d, stderr %q; want %d and the unknown key", r.code, r.stderr, cli.ExitConfig)
	}
}

// TestExitStatuses: one command of each kind of outcome, with the status exit.go
// documents.
func TestExitStatuses(t *testing.T) {
	root := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "g.yaml", goodConfig(root, "127.0.0.1:8080"))
	t.Setenv("GH_EMPTY_TOKEN", "")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"check", cfg}, cli.ExitOK},
		{[]string{"explain", "--config", cfg, "/public/a.txt"}, cli.ExitOK},
		{[]string{"explain", "--config", cfg, "/private/a.txt"}, cli.ExitNo},
		{[]string{"explain", "--config", cfg, "no-slash"}, cli.ExitUsage},
		{[]string{"invalidate", "--token-env", "GH_EMPTY_TOKEN", "/x"}, cli.ExitUsage},
		{[]string{"invalidate", "/x"}, cli.ExitUsage}, // no such flag as a path is fine; GATEHOUSE_ADMIN_TOKEN unset below
		{[]string{"serve", "--config", cfg, "--listen", "nowhere"}, cli.ExitUsage},
		{[]string{"serve", "--config", cfg, "--listen", "127.0.0.1:7000", "--admin", "127.0.0.1:7000"}, cli.ExitUsage},
		{[]string{"check", filepath.Join(root, "absent.yaml")}, cli.ExitConfig},
		{[]string{"ipranges", "show", "--ipv4=false"}, cli.ExitUsage},
	} {
		t.Run(strings.Join(tc.args[:1], " "), func(t *testing.T) {
			t.Setenv("GATEHOUSE_ADMIN_TOKEN", "")
			if r := run(t, tc.args...); r.code != tc.code {
				t.Errorf("%v: exit %d, want %d; stderr %q", tc.args, r.code, tc.code, r.stderr)
			}
		})
	}
}

// TestRegression_ServeListenPortRange: `serve --listen :99999` passed the flag check and
// failed when binding, exit 1, while a --listen that cannot be right is a usage error
// (64, which the systemd unit does not restart on). The port is checked with the flags
// now, for --admin too.
func TestRegression_ServeListenPortRange(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "g.yaml", goodConfig(t.TempDir(), "127.0.0.1:8080"))
	for _, args := range [][]string{
		{"--listen", ":99999"},
		{"--listen", "127.0.0.1:65536"},
		{"--listen", "127.0.0.1:-1"},
		{"--admin", "127.0.0.1:99999"},
		{"--admin", "127.0.0.1:no-such-service"},
	} {
		r := run(t, append([]string{"serve", "--config", cfg}, args...)...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, args[0]+": port") || !strings.Contains(r.stderr, "--help") {
			t.Errorf("serve %v: exit %d, stderr %q; want %d naming %s", args, r.code, r.stderr, cli.ExitUsage, args[0])
		}
	}
}

// TestServeListenFlags: --listen and --admin replace server.listen and admin.listen,
// so a file whose ports are taken still serves.
func TestServeListenFlags(t *testing.T) {
	var taken [2]net.Listener
	for i := range taken {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		taken[i] = l
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "public/a.txt", "over the flag\n")
	cfg := writeFile(t, t.TempDir(), "g.yaml", goodConfig(root, taken[0].Addr().String())+"admin:\n  listen: "+taken[1].Addr().String()+"\n")
	pub, admin := freeAddr(t), freeAddr(t)
	r := start(t, "serve", "--config", cfg, "--listen", pub, "--admin", admin)
	r.waitFor(t, r.stderr, regexp.MustCompile(`"msg":"gatehouse listening","addr":"`+regexp.QuoteMeta(pub)+`".*"admin":"`+regexp.QuoteMeta(admin)+`"`))
	if code, _, body := get(t, "http://"+pub+"/public/a.txt"); code != 200 || body != "over the flag\n" {
		t.Errorf("GET /public/a.txt = %d %q", code, body)
	}
	if code, _, _ := get(t, "http://"+admin+"/healthz"); code != 200 {
		t.Errorf("GET admin /healthz = %d", code)
	}
	r.cancel()
	if code := r.wait(t, 40*time.Second); code != 0 {
		t.Errorf("exit %d after cancel; stderr:\n%s", code, r.stderr)
	}
}

// TestExplainRelativeURL: a path alone is a request to server.listen's host and port,
// localhost when it listens on every address, https with TLS; -H Host names the host.
func TestExplainRelativeURL(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		listen string
		args   []string
		url    string
	}{
		{"127.0.0.1:8080", []string{"/public/a.txt?x=1"}, "http://127.0.0.1:8080/public/a.txt?x=1"},
		{":8080", []string{"/public/a.txt"}, "http://localhost:8080/public/a.txt"},
		{"0.0.0.0:80", []string{"/public/a.txt"}, "http://localhost/public/a.txt"},
		{"[::]:8443", []string{"HEAD", "/public/a.txt"}, "http://localhost:8443/public/a.txt"},
		{"files.internal:8080", []string{"/public/a.txt"}, "http://files.internal:8080/public/a.txt"},
		{":8080", []string{"/public/a.txt", "-H", "Host: files.example.com"}, "http://files.example.com/public/a.txt"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			cfg := writeFile(t, t.TempDir(), "g.yaml", goodConfig(root, tc.listen))
			r := run(t, append([]string{"explain", "--config", cfg, "--json"}, tc.args...)...)
			var rep struct {
				URL     string `json:"url"`
				Allowed bool   `json:"allowed"`
				Key     string `json:"key"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("exit %d, stderr %q: %v", r.code, r.stderr, err)
			}
			if r.code != 0 || rep.URL != tc.url || !rep.Allowed || rep.Key != "public/a.txt" {
				t.Errorf("exit %d, report %+v; want %s allowed", r.code, rep, tc.url)
			}
		})
	}
	if r := run(t, "explain", "--config", writeFile(t, t.TempDir(), "g.yaml", goodConfig(root, ":8080")), "//evil.example/public/a.txt"); r.code != cli.ExitUsage {
		t.Errorf("a scheme-relative URL: exit %d, want %d", r.code, cli.ExitUsage)
	}
}

// TestIPRangesShowUnknownService: a --service the file does not have is an error that
// lists the services it has.
func TestIPRangesShowUnknownService(t *testing.T) {
	src := writeFile(t, t.TempDir(), "ip-ranges.json", smallRanges)
	r := run(t, "ipranges", "show", "--source", src, "--service", "CLOUDFRONTT")
	if r.code != cli.ExitFailure || r.stdout != "" || !strings.Contains(r.stderr, "no range matches services [CLOUDFRONTT]") ||
		!strings.Contains(r.stderr, "the file's services: CLOUDFRONT EC2") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestDemoStdoutIsTheAccessLog: the demo's banner is on stderr, so that stdout holds
// only access-log lines (JSON), as serve's does.
func TestDemoStdoutIsTheAccessLog(t *testing.T) {
	r := start(t, "demo", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	m := r.waitFor(t, r.stderr, regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/ +public home page`))
	get(t, m[1]+"/public/hello.txt")
	r.waitFor(t, r.stdout, regexp.MustCompile(`"path":"/public/hello.txt"`))
	for _, line := range strings.Split(strings.TrimSpace(r.stdout.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil || doc["msg"] != "request" {
			t.Errorf("stdout line %q is not an access-log line", line)
		}
	}
}
