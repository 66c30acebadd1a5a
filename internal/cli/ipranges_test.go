package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

// smallRanges is an ip-ranges.json with two mergeable CLOUDFRONT ranges, one on its own,
// an IPv6 one and an EC2 one.
const smallRanges = `{"syncToken":"1787411825","createDate":"2026-08-22-15-17-05",
 "prefixes":[
  {"ip_prefix":"13.32.0.0/16","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"},
  {"ip_prefix":"13.33.0.0/16","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"},
  {"ip_prefix":"3.29.0.0/24","region":"me-central-1","service":"CLOUDFRONT","network_border_group":"me-central-1"},
  {"ip_prefix":"3.2.34.0/26","region":"af-south-1","service":"EC2","network_border_group":"af-south-1"}],
 "ipv6_prefixes":[
  {"ipv6_prefix":"2600:9000::/28","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"}]}`

func TestIPRangesShow(t *testing.T) {
	src := writeFile(t, t.TempDir(), "ip-ranges.json", smallRanges)
	header := "# " + src + " syncToken 1787411825 createDate 2026-08-22-15-17-05 md5 "
	for _, tc := range []struct {
		name string
		args []string
		want string // after the header line(s)
	}{
		{"text, aggregated, IPv4 by default", nil, "3.29.0.0/24\n13.32.0.0/15\n"},
		{"text with IPv6, not aggregated", []string{"--ipv6", "--aggregate=false"}, "3.29.0.0/24\n13.32.0.0/16\n13.33.0.0/16\n2600:9000::/28\n"},
		{"region", []string{"--region", "GLOBAL"}, "13.32.0.0/15\n"},
		{"nginx", []string{"--format", "nginx"}, "# include this where the origin is served, followed by: deny all;\nallow 3.29.0.0/24;\nallow 13.32.0.0/15;\n"},
		{"nftables", []string{"--format", "nftables", "--ipv6"}, `# include this inside a table, then match with e.g.: ip saddr @cloudfront_ipv4 tcp dport 443 accept
set cloudfront_ipv4 {
	type ipv4_addr
	flags interval
	elements = {
		3.29.0.0/24,
		13.32.0.0/15
	}
}
set cloudfront_ipv6 {
	type ipv6_addr
	flags interval
	elements = {
		2600:9000::/28
	}
}
`},
		{"nftables, no IPv6 elements", []string{"--format", "nftables", "--service", "ec2", "--set-name", "ec2"}, `# include this inside a table, then match with e.g.: ip saddr @ec2_ipv4 tcp dport 443 accept
set ec2_ipv4 {
	type ipv4_addr
	flags interval
	elements = {
		3.2.34.0/26
	}
}
set ec2_ipv6 {
	type ipv6_addr
	flags interval
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"ipranges", "show", "--source", src}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			first, rest, _ := strings.Cut(r.stdout, "\n")
			if !strings.HasPrefix(first, header) || rest != tc.want {
				t.Errorf("output:\n%s\nwant header %q then:\n%s", r.stdout, header, tc.want)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		r := run(t, "ipranges", "show", "--source", src, "--json", "--ipv6")
		var doc struct {
			SyncToken, CreateDate, MD5 string
			IPv4, IPv6                 []string
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v:\n%s", r.code, err, r.stdout)
		}
		if doc.SyncToken != "1787411825" || len(doc.MD5) != 32 || strings.Join(doc.IPv4, " ") != "3.29.0.0/24 13.32.0.0/15" || len(doc.IPv6) != 1 {
			t.Errorf("%+v", doc)
		}
	})
	t.Run("the real file", func(t *testing.T) {
		r := run(t, "ipranges", "show", "--source", testenv.SharedTestdata(t, "aws", "ip-ranges.json"), "--format", "nginx")
		if n := strings.Count(r.stdout, "\nallow "); n != 180 || r.code != 0 {
			t.Errorf("exit %d, %d allow lines, want 180", r.code, n)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"--format", "xml"}, `unknown format "xml"`},
		{"nothing matches", []string{"--service", "NOPE"}, "refusing to sync an empty list"},
		{"missing file", []string{"--source", "/nonexistent/ip-ranges.json"}, "no such file"},
		{"bad set name", []string{"--format", "nftables", "--set-name", "1x"}, "set name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"ipranges", "show", "--source", src}, tc.args...)
			if r := run(t, args...); r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want 1 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// isolateAWS keeps the SDK away from the developer's AWS files, environment and the
// instance metadata service.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func syncConfig(t *testing.T, fake *testenv.EC2, src, extra string) string {
	dir := t.TempDir()
	return writeFile(t, dir, "ipranges-sync.yaml", fmt.Sprintf(`name: cf
source: {file: %s}
aws:
  region: eu-west-1
  endpoint: %s
  access_key_id: AKIDTEST
  secret_access_key: secret
security_groups:
  vpc_id: vpc-0123456789abcdef0
  network_interfaces: [eni-0aaaaaaaaaaaaaaa1]
%s`, src, fake.URL, extra))
}

// TestIPRangesPlanSync runs plan and sync through cli.Main against the fake EC2: plan
// exits 2 while changes are pending and 0 once synced, 1 for what it cannot do.
func TestIPRangesPlanSync(t *testing.T) {
	isolateAWS(t)
	fake := testenv.NewEC2(t)
	fake.PutGroup(testenv.SecurityGroup{ID: "sg-0user00000000001", Name: "web", VPCID: "vpc-0123456789abcdef0"})
	fake.PutInterface(testenv.NetworkInterface{ID: "eni-0aaaaaaaaaaaaaaa1", VPCID: "vpc-0123456789abcdef0", GroupIDs: []string{"sg-0user00000000001"}})
	src := writeFile(t, t.TempDir(), "ip-ranges.json", smallRanges)
	cfg := syncConfig(t, fake, src, "")

	r := run(t, "ipranges", "plan", "--config", cfg, "--verbose")
	if r.code != 2 || !strings.Contains(r.stderr, "3 change(s) pending") {
		t.Fatalf("plan: exit %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"sync cf: " + src + " syncToken 1787411825 (2026-08-22-15-17-05), 2 IPv4 and 1 IPv6 CIDRs",
		"2 IPv4 and 1 IPv6 rules, at most 60 per group and family: 1 group(s) at least; 0 managed now, 1 after",
		"  1. create security group gatehouse-cf-1 tagged Name=gatehouse-cf-1, gatehouse:managed-by=cf",
		"  2. authorize 3 rule(s) in new:gatehouse-cf-1 (gatehouse-cf-1)",
		"       + tcp 443 13.32.0.0/15",
		"       + tcp 443 2600:9000::/28",
		"  3. attach new:gatehouse-cf-1 to eni-0aaaaaaaaaaaaaaa1 (groups after: sg-0user00000000001 new:gatehouse-cf-1)",
		"3 write call(s) planned",
	} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
	if fake.WriteCalls() != 0 {
		t.Fatalf("plan made %d write calls", fake.WriteCalls())
	}
	if r := run(t, "ipranges", "sync", "--config", cfg, "--dry-run"); r.code != 0 || fake.WriteCalls() != 0 {
		t.Fatalf("dry run: exit %d, %d writes", r.code, fake.WriteCalls())
	}

	r = run(t, "ipranges", "sync", "--config", cfg)
	if r.code != 0 || !regexp.MustCompile(`applied: attach sg-[0-9a-f]{17} to eni-0aaaaaaaaaaaaaaa1\n`).MatchString(r.stdout) {
		t.Fatalf("sync: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "level=INFO msg=\"created security group\"") {
		t.Errorf("sync logs:\n%s", r.stderr)
	}

	r = run(t, "ipranges", "plan", "--config", cfg, "--json")
	var p struct {
		Steps []any
		Name  string
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); r.code != 0 || err != nil || len(p.Steps) != 0 || p.Name != "cf" {
		t.Fatalf("plan after sync: exit %d, %v, %s", r.code, err, r.stdout)
	}
	if r := run(t, "ipranges", "sync", "--config", cfg); r.code != 0 || r.stdout != "nothing to do\n" {
		t.Errorf("second sync: exit %d, %q", r.code, r.stdout)
	}

	// The interface is full: the managed group cannot be attached.
	fake.PutGroup(testenv.SecurityGroup{ID: "sg-0user00000000002", Name: "admin", VPCID: "vpc-0123456789abcdef0"})
	fake.PutInterface(testenv.NetworkInterface{ID: "eni-0aaaaaaaaaaaaaaa1", VPCID: "vpc-0123456789abcdef0", GroupIDs: []string{"sg-0user00000000001", "sg-0user00000000002"}})
	tight := syncConfig(t, fake, src, "  groups_per_interface: 2\n  rules_per_group: 2\n")
	r = run(t, "ipranges", "plan", "--config", tight)
	if r.code != 1 || !strings.Contains(r.stdout, "cannot: eni-0aaaaaaaaaaaaaaa1 has 2 security groups") || !strings.Contains(r.stderr, "cannot be made") {
		t.Errorf("plan at the limit: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "ipranges", "sync", "--config", tight)
	if r.code != 1 || !strings.Contains(r.stdout, "cannot: eni-0aaaaaaaaaaaaaaa1") {
		t.Errorf("sync at the limit: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	// A failure half-way is reported with what was and was not applied.
	more := writeFile(t, t.TempDir(), "ip-ranges.json", strings.Replace(smallRanges, `"3.29.0.0/24"`, `"3.30.0.0/24"`, 1))
	fake.FailNext(1, "RevokeSecurityGroupIngress", testenv.EC2Error{Status: 403, Code: "UnauthorizedOperation", Message: "not authorized"})
	r = run(t, "ipranges", "sync", "--config", syncConfig(t, fake, more, ""))
	if r.code != 1 || !strings.Contains(r.stdout, "applied: authorize 1 rule(s)") || !strings.Contains(r.stdout, "FAILED: revoke 1 rule(s)") ||
		!strings.Contains(r.stderr, "run sync again to complete") {
		t.Errorf("failed sync: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestIPRangesConfigErrors(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "bad.yaml", "name: cf\naws: {region: eu-west-1}\nsecurity_groups:\n  vpc_id: vpc-1\n  rules_per_grup: 5\n")
	r := run(t, "ipranges", "plan", "--config", cfg)
	if r.code != cli.ExitConfig || !strings.Contains(r.stderr, "bad.yaml:5: security_groups.rules_per_grup: unknown key") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestIPRangesServe starts the SNS endpoint, waits for the initial sync, and checks the
// health endpoint and that the SNS path refuses what is not a signed message.
func TestIPRangesServe(t *testing.T) {
	isolateAWS(t)
	fake := testenv.NewEC2(t)
	src := writeFile(t, t.TempDir(), "ip-ranges.json", smallRanges)
	cfg := syncConfig(t, fake, src, "sns: {listen: \"127.0.0.1:0\", poll: 1h}\n")
	r := start(t, "ipranges", "serve", "--config", cfg)
	m := r.waitFor(t, r.stderr, regexp.MustCompile(`ipranges serve listening on (http://[0-9.:]+)/sns`))
	r.waitFor(t, r.stderr, regexp.MustCompile(`msg="sync done" trigger=start synctoken=1787411825`))
	if code, _, body := get(t, m[1]+"/healthz"); code != 200 || !strings.Contains(body, `"applied_sync_token":1787411825`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, _, _ := get(t, m[1]+"/sns"); code != 405 {
		t.Errorf("GET /sns: %d", code)
	}
	if len(fake.Groups()) != 1 {
		t.Errorf("%d groups after the initial sync", len(fake.Groups()))
	}
	r.cancel()
	if code := r.wait(t, 20e9); code != 0 {
		t.Errorf("exit %d: %s", code, r.stderr)
	}
}
