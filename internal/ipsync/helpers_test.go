package ipsync

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const testVPC = "vpc-0123456789abcdef0"

// testConfig parses a configuration for the sync "cf" in testVPC; extra is YAML added
// under security_groups (indented by the caller) or at the top level.
func testConfig(t testing.TB, yaml string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

func sgConfigYAML(quota int, extra string) string {
	return fmt.Sprintf(`name: cf
aws: {region: eu-west-1}
security_groups:
  vpc_id: %s
  name_prefix: gh-cf
  rules_per_group: %d
%s`, testVPC, quota, extra)
}

// newSyncer returns a Syncer talking to fake through the real SDK client, with retry
// backoff capped at a millisecond and no waiting between rounds.
func newSyncer(t testing.TB, fake *testenv.EC2, c *Config) (*Syncer, *testenv.SyncBuffer) {
	t.Helper()
	client := ec2.New(ec2.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(fake.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.AddWithMaxBackoffDelay(retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.RateLimiter = ratelimit.None // many throttles in one test process must not exhaust the retry quota
		}), time.Millisecond),
	})
	logs := &testenv.SyncBuffer{}
	return &Syncer{
		Config: c, EC2: client, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryWait: time.Millisecond, PollEvery: time.Millisecond,
	}, logs
}

// cidrs makes n distinct IPv4 /24s starting at base (e.g. "10.1.0.0"), never siblings
// of one another so aggregation keeps them apart.
func cidrs(base string, n int) []netip.Prefix {
	a := netip.MustParseAddr(base).As4()
	var out []netip.Prefix
	for i := range n {
		b := a
		b[1] += byte(i / 64)
		b[2] += byte(2 * (i % 64))
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(b), 24))
	}
	return out
}

func v6cidrs(n int) []netip.Prefix {
	var out []netip.Prefix
	for i := range n {
		out = append(out, netip.MustParsePrefix(fmt.Sprintf("2600:9000:%x::/48", 2*i)))
	}
	return out
}

func snapshot(token int, ps ...[]netip.Prefix) *Snapshot {
	all := slices.Concat(ps...)
	slices.SortFunc(all, ipranges.ComparePrefix)
	return &Snapshot{SyncToken: fmt.Sprint(token), CreateDate: "2026-08-22-15-17-05", MD5: "test", Origin: "test", Prefixes: all}
}

// managed returns the fake's groups tagged for sync name.
func managed(fake *testenv.EC2, name string) []testenv.SecurityGroup {
	var out []testenv.SecurityGroup
	for _, g := range fake.Groups() {
		if g.Tags[ManagedByTag] == name {
			out = append(out, g)
		}
	}
	return out
}

// checkConverged asserts the fake holds exactly the desired rules in the managed groups,
// each within the quota, every managed group attached wherever one is (unless limited),
// and that a new plan is empty.
func checkConverged(t *testing.T, s *Syncer, fake *testenv.EC2, snap *Snapshot) {
	t.Helper()
	c := s.Config
	want := map[string]bool{}
	for _, r := range DesiredRules(snap.Prefixes, c.SecurityGroups.PortRanges()) {
		want[r.String()] = true
	}
	got := map[string]bool{}
	q := c.SecurityGroups.RulesPerGroup
	groups := managed(fake, c.Name)
	for _, g := range groups {
		var n4, n6 int
		for _, r := range g.Ingress {
			for _, cidr := range slices.Concat(r.CIDRs, r.IPv6CIDRs) {
				key := Rule{Protocol: r.Protocol, From: r.FromPort, To: r.ToPort, CIDR: netip.MustParsePrefix(cidr)}.String()
				if got[key] {
					t.Errorf("%s held twice", key)
				}
				got[key] = true
				if strings.Contains(cidr, ":") {
					n6++
				} else {
					n4++
				}
			}
		}
		if n4 > q || n6 > q {
			t.Errorf("%s holds %d IPv4 and %d IPv6 rules, quota %d", g.ID, n4, n6, q)
		}
		if g.VPCID != testVPC || g.Tags["Name"] != g.Name {
			t.Errorf("group %s: vpc %s, Name tag %q", g.ID, g.VPCID, g.Tags["Name"])
		}
	}
	if !maps.Equal(got, want) {
		var missing, extra []string
		for k := range want {
			if !got[k] {
				missing = append(missing, k)
			}
		}
		for k := range got {
			if !want[k] {
				extra = append(extra, k)
			}
		}
		t.Errorf("managed rules differ: %d missing %v, %d extra %v", len(missing), first(missing), len(extra), first(extra))
	}
	p, err := s.Plan(context.Background(), snap)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Errorf("plan after convergence has %d steps: %v", len(p.Steps), describeSteps(p.Steps))
	}
}

func first(s []string) []string {
	slices.Sort(s)
	return s[:min(len(s), 5)]
}

func describeSteps(steps []Step) []string {
	var out []string
	for _, st := range steps {
		out = append(out, describeStep(st))
	}
	return out
}

func kinds(steps []Step) string {
	var out []string
	for _, st := range steps {
		out = append(out, string(st.Kind))
	}
	return strings.Join(out, " ")
}

func mustSync(t *testing.T, s *Syncer, snap *Snapshot) *Outcome {
	t.Helper()
	out, err := s.Sync(context.Background(), snap)
	if err != nil {
		t.Fatalf("sync: %v\nreport: %+v", err, out.Report)
	}
	return out
}
