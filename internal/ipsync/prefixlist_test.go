package ipsync

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const plYAML = `name: cf
aws: {region: eu-west-1}
prefix_list: {name: gh-cf}
`

// listOf returns the entries of the fake's list named name, sorted, and the list.
func listOf(t *testing.T, fake *testenv.EC2, name string) ([]netip.Prefix, testenv.PrefixList) {
	t.Helper()
	for _, pl := range fake.PrefixLists() {
		if pl.Name == name && pl.Tags[ManagedByTag] == "cf" {
			var out []netip.Prefix
			for _, e := range pl.Entries {
				out = append(out, netip.MustParsePrefix(e.CIDR))
			}
			slices.SortFunc(out, ipranges.ComparePrefix)
			return out, pl
		}
	}
	t.Fatalf("no managed list %s", name)
	return nil, testenv.PrefixList{}
}

func checkLists(t *testing.T, s *Syncer, fake *testenv.EC2, snap *Snapshot) {
	t.Helper()
	v4, v6 := snap.Families()
	for name, want := range map[string][]netip.Prefix{"gh-cf-ipv4": v4, "gh-cf-ipv6": v6} {
		got, pl := listOf(t, fake, name)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %d entries, want %d", name, len(got), len(want))
		}
		if len(got) > pl.MaxEntries {
			t.Errorf("%s: %d entries over max %d", name, len(got), pl.MaxEntries)
		}
	}
	p, err := s.Plan(context.Background(), snap)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || len(p.Problems) > 0 {
		t.Errorf("plan after convergence: %v %v", describeSteps(p.Steps), p.Problems)
	}
}

// TestPrefixList runs the prefix list target through creation (more entries than one
// call takes), a no-op, an update with the version check, growth past the list's size,
// and a concurrent writer that moves the version.
func TestPrefixList(t *testing.T) {
	fake := testenv.NewEC2(t)
	fake.SetPrefixListDelay(2) // every change stays modify-in-progress for two reads
	s, _ := newSyncer(t, fake, testConfig(t, plYAML))
	a := cidrs("10.1.0.0", 150)
	var snap *Snapshot
	for _, tc := range []struct {
		name  string
		snap  *Snapshot
		setup func()
		want  string // step kinds
		check func(t *testing.T, out *Outcome)
	}{
		{"create with 100 entries, then add the rest", snapshot(1, a, v6cidrs(5)), nil,
			"create-prefix-list modify-prefix-list create-prefix-list", func(t *testing.T, out *Outcome) {
				if _, pl := listOf(t, fake, "gh-cf-ipv4"); pl.MaxEntries != 165 || pl.Version != 2 {
					t.Errorf("max entries %d (want 150+10%%), version %d", pl.MaxEntries, pl.Version)
				}
			}},
		{"no-op", nil, nil, "", nil},
		{"update: additions and removals in one call", snapshot(2, a[10:], cidrs("10.9.0.0", 12), v6cidrs(5)), nil,
			"modify-prefix-list", func(t *testing.T, out *Outcome) {
				st := out.Plan.Steps[0]
				if st.Version != 2 || len(st.Add) != 12 || len(st.Remove) != 10 {
					t.Errorf("step %s", describeStep(st))
				}
			}},
		{"growth past max entries resizes first; removals not overlapping additions go first", snapshot(3, cidrs("10.40.0.0", 170), v6cidrs(5)), nil,
			"resize-prefix-list modify-prefix-list modify-prefix-list", func(t *testing.T, out *Outcome) {
				if _, pl := listOf(t, fake, "gh-cf-ipv4"); pl.MaxEntries != autoMaxEntries(170) {
					t.Errorf("max entries %d", pl.MaxEntries)
				}
			}},
		{"a concurrent writer moves the version: re-read and converge", snapshot(4, cidrs("10.40.0.0", 160), v6cidrs(6)), func() {
			fake.Before("ModifyManagedPrefixList", func() {
				_, pl := listOf(t, fake, "gh-cf-ipv6")
				pl.Version++
				fake.PutPrefixList(pl)
			})
		}, "modify-prefix-list", func(t *testing.T, out *Outcome) {
			if out.Rounds != 2 {
				t.Errorf("%d rounds", out.Rounds)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.snap != nil {
				snap = tc.snap
			}
			if tc.setup != nil {
				tc.setup()
			}
			out := mustSync(t, s, snap)
			var got []string
			for _, st := range out.Plan.Steps {
				if st.Family == "IPv4" || tc.want == "" || out.Rounds > 1 {
					got = append(got, string(st.Kind))
				}
			}
			if tc.name == "create with 100 entries, then add the rest" {
				got = strings.Fields(kinds(out.Plan.Steps))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("steps %q, want %q", strings.Join(got, " "), tc.want)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
			checkLists(t, s, fake, snap)
		})
	}
}

func TestPrefixListProblems(t *testing.T) {
	t.Run("a list with the name but not the tag is left alone", func(t *testing.T) {
		fake := testenv.NewEC2(t)
		fake.PutPrefixList(testenv.PrefixList{ID: "pl-0foreign00000001", Name: "gh-cf-ipv4", AddressFamily: "IPv4", MaxEntries: 5,
			Entries: []testenv.PrefixListEntry{{CIDR: "192.0.2.0/24"}}})
		s, _ := newSyncer(t, fake, testConfig(t, plYAML+"source: {ipv6: false}\n"))
		out := mustSync(t, s, snapshot(1, cidrs("10.1.0.0", 3)))
		if p := out.Problems(); len(p) != 1 || !strings.Contains(p[0], "pl-0foreign00000001") {
			t.Errorf("problems %q", p)
		}
		if pl, _ := fake.PrefixList("pl-0foreign00000001"); len(pl.Entries) != 1 || pl.Version != 1 {
			t.Errorf("foreign list changed: %+v", pl)
		}
		if fake.WriteCalls() != 0 {
			t.Errorf("%d write calls", fake.WriteCalls())
		}
	})
	t.Run("configured size too small", func(t *testing.T) {
		fake := testenv.NewEC2(t)
		s, _ := newSyncer(t, fake, testConfig(t, plYAML+"source: {ipv6: false}\n"))
		s.Config.PrefixList.IPv4MaxEntries = 10
		out := mustSync(t, s, snapshot(1, cidrs("10.1.0.0", 11)))
		if p := out.Problems(); len(p) != 1 || !strings.Contains(p[0], "needs 11 entries") {
			t.Errorf("problems %q", p)
		}
	})
	t.Run("big lists are flagged against the group quota", func(t *testing.T) {
		c := testConfig(t, plYAML)
		p := MakePlan(c, snapshot(1, cidrs("10.1.0.0", 70)), &State{PrefixLists: []PLState{{Family: "IPv4", Name: "gh-cf-ipv4"}}})
		if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "counts as 80 rules") {
			t.Errorf("warnings %q", p.Warnings)
		}
	})
}

func TestModifyCalls(t *testing.T) {
	a := cidrs("10.1.0.0", 250)
	for _, tc := range []struct {
		add, remove int
		want        [][2]int
	}{
		{0, 0, nil},
		{5, 0, [][2]int{{5, 0}}},
		{0, 5, [][2]int{{0, 5}}},
		{5, 7, [][2]int{{5, 7}}},
		{150, 30, [][2]int{{100, 30}, {50, 0}}},
		{30, 150, [][2]int{{30, 100}, {0, 50}}},
		{100, 100, [][2]int{{100, 100}}},
	} {
		calls := modifyCalls(a[:tc.add], a[tc.add:tc.add+tc.remove])
		var got [][2]int
		for _, c := range calls {
			got = append(got, [2]int{len(c.Add), len(c.Remove)})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("add %d remove %d: calls %v, want %v", tc.add, tc.remove, got, tc.want)
		}
	}
	// An entry the additions cover goes only in the last addition's call or after.
	big := netip.MustParsePrefix("10.1.0.0/16")
	calls := modifyCalls(append([]netip.Prefix{big}, cidrs("10.100.0.0", 120)...), cidrs("10.1.0.0", 3))
	if len(calls) != 2 || len(calls[0].Remove) != 0 || len(calls[1].Remove) != 3 {
		t.Errorf("covered removals: %d calls, removes %d then %d", len(calls), len(calls[0].Remove), len(calls[1].Remove))
	}
}
