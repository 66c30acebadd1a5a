package ipsync

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestPackRealFile packs the published CLOUDFRONT ranges. Each group holds at most
// quota rules of a family, so no packing can use fewer than ceil(rules/quota) groups for
// the larger family; the plan must use exactly that many, and the fake (which enforces
// the quota) must accept every call.
func TestPackRealFile(t *testing.T) {
	data, err := os.ReadFile(testenv.SharedTestdata(t, "aws", "ip-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		yaml           string
		quota          int
		v4, v6, groups int
	}{
		{"211 IPv4 as published, tcp 443", "source: {aggregate: false, ipv6: false}\n", 60, 211, 0, 4},
		{"aggregated first: 180 IPv4", "source: {ipv6: false}\n", 60, 180, 0, 3},
		{"IPv6 counted separately", "source: {aggregate: false}\n", 60, 211, 32, 4},
		{"two ports", "source: {aggregate: false, ipv6: false}\nsecurity_groups: {vpc_id: " + testVPC + ", ingress: [{ports: 80}, {ports: 443}]}\n", 60, 422, 0, 8},
		{"raised quota", "source: {aggregate: false}\n", 200, 211, 32, 2},
		{"GLOBAL only", "source: {aggregate: false, ipv6: false, regions: [GLOBAL]}\n", 60, 118, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := fmt.Sprintf("name: cf\naws: {region: us-east-1}\n%s", tc.yaml)
			if !slices.Contains([]string{"two ports"}, tc.name) {
				yaml += "security_groups: {vpc_id: " + testVPC + "}\n"
			}
			c := testConfig(t, yaml)
			c.SecurityGroups.RulesPerGroup = tc.quota
			snap, err := Select(data, "ip-ranges.json", c.Source)
			if err != nil {
				t.Fatal(err)
			}
			if snap.MD5 != "63431d35877fa5386ded1a7df9cfa971" || snap.SyncToken != "1787411825" {
				t.Errorf("md5 %s, syncToken %s", snap.MD5, snap.SyncToken)
			}
			p := MakePlan(c, snap, &State{SecurityGroups: &SGState{}})
			sum := p.SecurityGroups
			if sum.IPv4Rules != tc.v4 || sum.IPv6Rules != tc.v6 {
				t.Fatalf("%d IPv4 and %d IPv6 rules, want %d and %d", sum.IPv4Rules, sum.IPv6Rules, tc.v4, tc.v6)
			}
			lower := max(ceilDiv(tc.v4, tc.quota), ceilDiv(tc.v6, tc.quota))
			if lower != tc.groups || sum.MinGroups != lower || sum.After != lower {
				t.Errorf("lower bound %d, MinGroups %d, groups planned %d; want %d", lower, sum.MinGroups, sum.After, tc.groups)
			}
			var creates, authorizes, rules int
			for _, st := range p.Steps {
				switch st.Kind {
				case StepCreateGroup:
					creates++
				case StepAuthorize:
					authorizes++
					rules += len(st.Rules)
					if n := countFamily(st.Rules, 0); n > tc.quota {
						t.Errorf("%s gets %d IPv4 rules", st.GroupName, n)
					}
				default:
					t.Errorf("unexpected step %s", describeStep(st))
				}
			}
			if creates != tc.groups || authorizes != tc.groups || rules != tc.v4+tc.v6 {
				t.Errorf("%d creates, %d authorizes (one per group), %d rules; want %d, %d, %d", creates, authorizes, rules, tc.groups, tc.groups, tc.v4+tc.v6)
			}

			fake := testenv.NewEC2(t)
			fake.SetQuotas(testenv.EC2Quotas{RulesPerGroup: tc.quota})
			s, _ := newSyncer(t, fake, c)
			mustSync(t, s, snap)
			checkConverged(t, s, fake, snap)
			if n := len(managed(fake, "cf")); n != tc.groups {
				t.Errorf("%d groups in EC2", n)
			}
		})
	}
}

func rules(ps ...string) []Rule {
	var out []Rule
	for _, p := range ps {
		out = append(out, Rule{Protocol: "tcp", From: 443, To: 443, CIDR: netip.MustParsePrefix(p)})
	}
	return out
}

func rulesOf(ps []netip.Prefix) []Rule {
	var out []Rule
	for _, p := range ps {
		out = append(out, Rule{Protocol: "tcp", From: 443, To: 443, CIDR: p})
	}
	return out
}

// TestPlanSG checks the packing decisions on small, hand-made states.
func TestPlanSG(t *testing.T) {
	c := sgConfig{name: "cf", g: &SecurityGroups{VPCID: testVPC, NamePrefix: "gh"}, quota: 4, perIface: 5}
	a := cidrs("10.1.0.0", 12)
	for _, tc := range []struct {
		name    string
		desired []Rule
		groups  []Group
		want    []string // describeStep of each step
	}{
		{"room in the emptiest group first: one call",
			rulesOf(a[:6]),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rulesOf(a[:3])}, {ID: "sg-2", Name: "gh-2", Rules: rulesOf(a[3:4])}},
			[]string{"authorize 2 rule(s) in sg-2 (gh-2)"}},
		{"full groups swap ranges without a new group: revoke, then authorize into the room",
			rulesOf(slices.Concat(a[1:4], a[4:8], a[10:11])),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rulesOf(a[:4])}, {ID: "sg-2", Name: "gh-2", Rules: rulesOf(a[4:8])}},
			[]string{"revoke 1 rule(s) from sg-1 (gh-1)", "authorize 1 rule(s) in sg-1 (gh-1)"}},
		{"a range re-published as its parent is allowed before the halves go",
			rules("10.1.0.0/23", "10.1.4.0/24", "10.1.6.0/24", "10.1.8.0/24"),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rules("10.1.0.0/24", "10.1.1.0/24", "10.1.4.0/24", "10.1.6.0/24")}, {ID: "sg-2", Name: "gh-2", Rules: rules("10.1.8.0/24")}},
			[]string{"authorize 1 rule(s) in sg-2 (gh-2)", "revoke 2 rule(s) from sg-1 (gh-1)"}},
		{"no room before the revoke for an overlapping range: a new group",
			rules("10.1.0.0/23", "10.1.4.0/24", "10.1.6.0/24", "10.1.8.0/24", "10.1.10.0/24", "10.1.12.0/24", "10.1.14.0/24"),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rules("10.1.0.0/24", "10.1.1.0/24", "10.1.4.0/24", "10.1.6.0/24")}, {ID: "sg-2", Name: "gh-2", Rules: rules("10.1.8.0/24", "10.1.10.0/24", "10.1.12.0/24", "10.1.14.0/24")}},
			[]string{"create security group gh-3", "authorize 1 rule(s) in new:gh-3 (gh-3)", "revoke 2 rule(s) from sg-1 (gh-1)"}},
		{"a rule held twice is revoked from the later group",
			rulesOf(a[:2]),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rulesOf(a[:2])}, {ID: "sg-2", Name: "gh-2", Rules: rulesOf(a[1:2])}},
			[]string{"revoke 1 rule(s) from sg-2 (gh-2)"}},
		{"rules on other ports or protocols in a managed group are stale",
			rulesOf(a[:1]),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: append(rulesOf(a[:1]), Rule{Protocol: "-1", CIDR: netip.MustParsePrefix("0.0.0.0/0")}), Others: 1}},
			[]string{"revoke 1 rule(s) from sg-1 (gh-1)"}},
		{"references count against the quota",
			rulesOf(a[:4]),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rulesOf(a[:1]), Others: 3}},
			[]string{"create security group gh-2", "authorize 3 rule(s) in new:gh-2 (gh-2)"}},
		{"nothing to do", rulesOf(a[:5]),
			[]Group{{ID: "sg-1", Name: "gh-1", Rules: rulesOf(a[:4])}, {ID: "sg-2", Name: "gh-2", Rules: rulesOf(a[4:5])}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &SGState{Groups: tc.groups}
			steps, _, _, _ := planSG(c, sorted(tc.desired), st)
			if got := describeSteps(steps); !slices.Equal(got, tc.want) {
				t.Errorf("steps:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestPlanDeterministic: the same state in another order gives the same plan, byte for
// byte.
func TestPlanDeterministic(t *testing.T) {
	c := testConfig(t, sgConfigYAML(10, "  network_interfaces: ["+eniWeb+"]\n  ingress: [{ports: 443}, {protocol: udp, ports: 443}]\n"))
	snap := snapshot(1, cidrs("10.1.0.0", 40), v6cidrs(9))
	st := &SGState{
		Groups: []Group{
			{ID: "sg-b", Name: "gh-cf-2", Rules: rulesOf(cidrs("10.1.0.0", 7))},
			{ID: "sg-a", Name: "gh-cf-1", Rules: rulesOf(cidrs("10.3.0.0", 9))},
		},
		Interfaces: []Interface{{ID: eniWeb, Groups: []string{"sg-a"}}},
	}
	var plans []string
	for range 5 {
		slices.Reverse(st.Groups)
		for i := range st.Groups {
			slices.Reverse(st.Groups[i].Rules)
		}
		p := MakePlan(c, snap, &State{SecurityGroups: st})
		b, _ := json.Marshal(p)
		plans = append(plans, string(b))
	}
	for _, p := range plans[1:] {
		if p != plans[0] {
			t.Fatalf("plans differ:\n%s\n%s", plans[0], p)
		}
	}

}
