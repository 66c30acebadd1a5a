package ipsync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const (
	eniWeb   = "eni-0aaaaaaaaaaaaaaa1"
	userSG   = "sg-0user00000000001" // the origin's own group, not managed
	otherSG  = "sg-0other0000000001" // another sync's group
	strayTag = "sg-0stray0000000001" // named like ours but untagged
)

// seedVPC adds what a real VPC has besides the managed groups: the origin's own group on
// its interface, a group of another sync, and an untagged group with a name the prefix
// would produce. None of them may ever change.
func seedVPC(fake *testenv.EC2) {
	fake.PutGroup(testenv.SecurityGroup{ID: userSG, Name: "web", VPCID: testVPC,
		Ingress: []testenv.Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"192.0.2.0/24"}}}})
	fake.PutGroup(testenv.SecurityGroup{ID: otherSG, Name: "gh-other-1", VPCID: testVPC, Tags: map[string]string{ManagedByTag: "other"},
		Ingress: []testenv.Rule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.200.0.0/24"}}}})
	fake.PutGroup(testenv.SecurityGroup{ID: strayTag, Name: "gh-cf-1", VPCID: testVPC,
		Ingress: []testenv.Rule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.201.0.0/24"}}}})
	fake.PutInterface(testenv.NetworkInterface{ID: eniWeb, VPCID: testVPC, GroupIDs: []string{userSG}})
}

func checkUntouched(t *testing.T, fake *testenv.EC2) {
	t.Helper()
	for id, rule := range map[string]string{userSG: "192.0.2.0/24", otherSG: "10.200.0.0/24", strayTag: "10.201.0.0/24"} {
		g, ok := fake.Group(id)
		if !ok || len(g.Ingress) != 1 || !slices.Equal(g.Ingress[0].CIDRs, []string{rule}) || len(g.Tags) > 1 {
			t.Errorf("group %s not owned by the sync was changed: %+v", id, g)
		}
	}
}

func attached(t *testing.T, fake *testenv.EC2, eni string) []string {
	t.Helper()
	ni, ok := fake.Interface(eni)
	if !ok {
		t.Fatalf("no interface %s", eni)
	}
	return ni.GroupIDs
}

// TestSyncScenarios walks one VPC through the life of a sync, each step a subtest that
// builds on the previous one, as runs from cron would.
func TestSyncScenarios(t *testing.T) {
	fake := testenv.NewEC2(t)
	seedVPC(fake)
	c := testConfig(t, sgConfigYAML(60, "  network_interfaces: ["+eniWeb+"]\n"))
	s, _ := newSyncer(t, fake, c)
	ctx := context.Background()
	base := cidrs("10.1.0.0", 150)
	v6 := v6cidrs(8)
	var snap *Snapshot

	steps := []struct {
		name  string
		setup func()
		snap  func() *Snapshot
		check func(t *testing.T, out *Outcome, writes int)
	}{
		{"first run creates the fewest groups and attaches them", nil,
			func() *Snapshot { return snapshot(1, base, v6) },
			func(t *testing.T, out *Outcome, writes int) {
				if g := managed(fake, "cf"); len(g) != 3 {
					t.Fatalf("%d managed groups, want ceil(150/60) = 3", len(g))
				}
				if got := kinds(out.Plan.Steps); got != "create-group create-group create-group authorize authorize authorize attach" {
					t.Errorf("steps %s", got)
				}
				for _, g := range managed(fake, "cf") {
					if g.Name == "gh-cf-1" {
						t.Errorf("reused the name of an untagged group")
					}
				}
				if got := attached(t, fake, eniWeb); len(got) != 4 || !slices.Contains(got, userSG) {
					t.Errorf("interface groups %v, want the user's group and 3 managed", got)
				}
			}},
		{"second run changes nothing", nil,
			func() *Snapshot { return snap },
			func(t *testing.T, out *Outcome, writes int) {
				if !out.Plan.Empty() || writes != 0 {
					t.Errorf("plan %v, %d write calls", describeSteps(out.Plan.Steps), writes)
				}
			}},
		{"ranges added fit the room left", nil,
			func() *Snapshot { return snapshot(2, base, cidrs("10.9.0.0", 10), v6) },
			func(t *testing.T, out *Outcome, writes int) {
				if got := kinds(out.Plan.Steps); got != "authorize" || writes != 1 {
					t.Errorf("steps %s, %d writes; want one authorize", got, writes)
				}
			}},
		{"ranges removed are revoked", nil,
			func() *Snapshot { return snapshot(3, base[5:], cidrs("10.9.0.0", 10), v6[1:]) },
			func(t *testing.T, out *Outcome, writes int) {
				for _, st := range out.Plan.Steps {
					if st.Kind != StepRevoke {
						t.Errorf("unexpected step %s", describeStep(st))
					}
				}
			}},
		{"growth needs a new group, attached to the interface", nil,
			func() *Snapshot { return snapshot(4, base[5:], cidrs("10.9.0.0", 10), cidrs("10.20.0.0", 60), v6[1:]) },
			func(t *testing.T, out *Outcome, writes int) {
				if g := managed(fake, "cf"); len(g) != 4 {
					t.Errorf("%d managed groups, want ceil(215/60) = 4", len(g))
				}
				if got := attached(t, fake, eniWeb); len(got) != 5 {
					t.Errorf("interface groups %v, want 5", got)
				}
			}},
		{"a group deleted by hand is recreated", func() {
			g := managed(fake, "cf")[1]
			fake.DetachGroup(g.ID)
			fake.DeleteGroup(g.ID)
		},
			func() *Snapshot { return snap },
			func(t *testing.T, out *Outcome, writes int) {
				if got := kinds(out.Plan.Steps); !strings.HasPrefix(got, "create-group authorize") || !strings.Contains(got, "attach") {
					t.Errorf("steps %s", got)
				}
				if got := attached(t, fake, eniWeb); len(got) != 5 {
					t.Errorf("interface groups %v, want 5", got)
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.setup != nil {
				st.setup()
			}
			snap = st.snap()
			before := fake.WriteCalls()
			out := mustSync(t, s, snap)
			if p := out.Problems(); len(p) > 0 {
				t.Errorf("problems: %v", p)
			}
			st.check(t, out, fake.WriteCalls()-before)
			checkConverged(t, s, fake, snap)
			checkUntouched(t, fake)
		})
	}

	t.Run("an interface at its group limit is reported, the rest applied", func(t *testing.T) {
		grown := snapshot(5, snap.Prefixes, cidrs("10.40.0.0", 60))
		out, err := s.Sync(ctx, grown)
		if err != nil {
			t.Fatal(err)
		}
		probs := out.Problems()
		if len(probs) != 1 || !strings.Contains(probs[0], eniWeb) || !strings.Contains(probs[0], "over the limit of 5") {
			t.Fatalf("problems %q", probs)
		}
		if g := managed(fake, "cf"); len(g) != 5 {
			t.Errorf("%d managed groups, want 5", len(g))
		}
		if got := attached(t, fake, eniWeb); len(got) != 5 {
			t.Errorf("interface changed: %v", got)
		}
		// The rules are all in place; only the attachment is left, and every plan says so.
		p, err := s.Plan(ctx, grown)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Empty() || len(p.Problems) != 1 {
			t.Errorf("plan: %v, problems %v", describeSteps(p.Steps), p.Problems)
		}
	})
}

// TestSyncFailureHalfway fails the second authorization: the report names what was
// applied and what was not, nothing was revoked, and the next run converges without
// creating groups again.
func TestSyncFailureHalfway(t *testing.T) {
	fake := testenv.NewEC2(t)
	seedVPC(fake)
	c := testConfig(t, sgConfigYAML(60, ""))
	s, _ := newSyncer(t, fake, c)
	old := snapshot(1, cidrs("10.1.0.0", 50))
	mustSync(t, s, old)
	next := snapshot(2, cidrs("10.1.0.0", 40), cidrs("10.30.0.0", 100))

	fake.FailAfter(1, "AuthorizeSecurityGroupIngress", testenv.EC2Error{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})
	out, err := s.Sync(context.Background(), next)
	if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") {
		t.Fatalf("err = %v", err)
	}
	rep := out.Report
	if rep.Failed == nil || rep.Failed.Kind != StepAuthorize || len(rep.NotDone) == 0 {
		t.Fatalf("report: failed %+v, not done %d", rep.Failed, len(rep.NotDone))
	}
	if got := kinds(rep.Done); got != "create-group create-group authorize" {
		t.Errorf("done: %s", got)
	}
	if !strings.Contains(kinds(rep.NotDone), "revoke") || fake.Calls("RevokeSecurityGroupIngress") != 0 {
		t.Errorf("a revoke was made before every authorization was")
	}
	groups := len(managed(fake, "cf"))
	mustSync(t, s, next)
	if n := len(managed(fake, "cf")); n != groups || n != 3 {
		t.Errorf("%d groups after the failed run, %d after the next; want 3 both", groups, n)
	}
	checkConverged(t, s, fake, next)
}

// TestSyncThrottling answers RequestLimitExceeded to reads and writes; the SDK's
// retryer absorbs it.
func TestSyncThrottling(t *testing.T) {
	for _, tc := range []struct {
		name, action string
		status, n    int
	}{
		{"describe, 503", "DescribeSecurityGroups", 503, 3},
		{"authorize, 400", "AuthorizeSecurityGroupIngress", 400, 4},
		{"create, 503", "CreateSecurityGroup", 503, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := testenv.NewEC2(t)
			s, _ := newSyncer(t, fake, testConfig(t, sgConfigYAML(60, "")))
			fake.FailNext(tc.n, tc.action, testenv.Throttled(tc.status))
			snap := snapshot(1, cidrs("10.1.0.0", 70))
			mustSync(t, s, snap)
			checkConverged(t, s, fake, snap)
		})
	}
	t.Run("throttled past the retries fails with the cause", func(t *testing.T) {
		fake := testenv.NewEC2(t)
		s, _ := newSyncer(t, fake, testConfig(t, sgConfigYAML(60, "")))
		fake.FailNext(10, "CreateSecurityGroup", testenv.Throttled(503))
		_, err := s.Sync(context.Background(), snapshot(1, cidrs("10.1.0.0", 3)))
		if err == nil || !strings.Contains(err.Error(), "RequestLimitExceeded") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestSyncConflicts: another writer changes a managed group between this run's read
// and its writes; the run re-reads and converges.
func TestSyncConflicts(t *testing.T) {
	for _, tc := range []struct {
		name, action string
		change       func(fake *testenv.EC2, id string)
	}{
		{"a rule to authorize appears", "AuthorizeSecurityGroupIngress", func(fake *testenv.EC2, id string) {
			g, _ := fake.Group(id)
			g.Ingress = append(g.Ingress, testenv.Rule{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.50.0.0/24"}})
			fake.PutGroup(g)
		}},
		{"a rule to revoke disappears", "RevokeSecurityGroupIngress", func(fake *testenv.EC2, id string) {
			g, _ := fake.Group(id)
			g.Ingress[0].CIDRs = g.Ingress[0].CIDRs[1:]
			fake.PutGroup(g)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := testenv.NewEC2(t)
			s, _ := newSyncer(t, fake, testConfig(t, sgConfigYAML(60, "")))
			mustSync(t, s, snapshot(1, cidrs("10.1.0.0", 20)))
			id := managed(fake, "cf")[0].ID
			fake.Before(tc.action, func() { tc.change(fake, id) })
			next := snapshot(2, cidrs("10.1.0.0", 10)[1:], cidrs("10.50.0.0", 5))
			out := mustSync(t, s, next)
			if out.Rounds != 2 {
				t.Errorf("%d rounds, want 2 (a conflict, then success)", out.Rounds)
			}
			checkConverged(t, s, fake, next)
		})
	}

	t.Run("two runs at once", func(t *testing.T) {
		fake := testenv.NewEC2(t)
		seedVPC(fake)
		c := testConfig(t, sgConfigYAML(60, "  network_interfaces: ["+eniWeb+"]\n"))
		snap := snapshot(1, cidrs("10.1.0.0", 130), v6cidrs(4))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			s, _ := newSyncer(t, fake, c)
			s.Attempts = 8
			wg.Go(func() { _, errs[i] = s.Sync(context.Background(), snap) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		s, _ := newSyncer(t, fake, c)
		checkConverged(t, s, fake, snap)
		if n := len(managed(fake, "cf")); n != 3 {
			t.Errorf("%d managed groups, want 3", n)
		}
		checkUntouched(t, fake)
	})
}

// TestRequesterManagedInterface: a load balancer's interface cannot take groups through
// EC2; the plan says so instead of failing.
func TestRequesterManagedInterface(t *testing.T) {
	fake := testenv.NewEC2(t)
	const lb = "eni-0bbbbbbbbbbbbbbb1"
	fake.PutInterface(testenv.NetworkInterface{ID: lb, VPCID: testVPC, RequesterManaged: true, Description: "ELB app/web/123", GroupIDs: []string{userSG}})
	fake.PutGroup(testenv.SecurityGroup{ID: userSG, Name: "web", VPCID: testVPC})
	s, _ := newSyncer(t, fake, testConfig(t, sgConfigYAML(60, "  network_interfaces: ["+lb+", eni-0ccccccccccccccc1]\n")))
	out := mustSync(t, s, snapshot(1, cidrs("10.1.0.0", 5)))
	probs := out.Problems()
	if len(probs) != 2 || !strings.Contains(probs[0], "ELB app/web/123") || !strings.Contains(probs[1], "eni-0ccccccccccccccc1") {
		t.Errorf("problems %q", probs)
	}
	if fake.Calls("ModifyNetworkInterfaceAttribute") != 0 {
		t.Errorf("tried to modify a requester-managed interface")
	}
}
