package ipsync

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
)

// Rule is one inbound rule: a protocol, a port range and one CIDR. It is what the
// per-group quota counts: a permission with 3 CIDRs on one port range is 3 rules.
type Rule struct {
	// Protocol is "tcp" or "udp" for desired rules; rules read from a managed group
	// may carry any protocol ("-1" = all, without ports).
	Protocol string
	From, To int32
	CIDR     netip.Prefix
}

// String formats the rule as "tcp 443 13.32.0.0/15".
func (r Rule) String() string {
	return r.Ports().String() + " " + r.CIDR.String()
}

// MarshalText makes a rule a string in JSON plans.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Ports is the rule's protocol and port range.
func (r Rule) Ports() PortRange { return PortRange{Protocol: r.Protocol, From: r.From, To: r.To} }

// family is 0 for IPv4 and 1 for IPv6: the quota counts them separately.
func (r Rule) family() int {
	if r.CIDR.Addr().Is4() {
		return 0
	}
	return 1
}

// CompareRules orders rules IPv4 first, then by protocol, ports and CIDR.
func CompareRules(a, b Rule) int {
	return cmp.Or(cmp.Compare(a.family(), b.family()), comparePorts(a.Ports(), b.Ports()), ipranges.ComparePrefix(a.CIDR, b.CIDR))
}

// DesiredRules is every prefix on every port range: the rules the managed groups must
// hold, sorted.
func DesiredRules(prefixes []netip.Prefix, ports []PortRange) []Rule {
	out := make([]Rule, 0, len(prefixes)*len(ports))
	for _, pr := range ports {
		for _, p := range prefixes {
			out = append(out, Rule{Protocol: pr.Protocol, From: pr.From, To: pr.To, CIDR: p})
		}
	}
	slices.SortFunc(out, CompareRules)
	return slices.Compact(out)
}

// Group is a managed security group as read from EC2.
type Group struct {
	ID   string            `json:"id"`
	Name string            `json:"name"`
	Tags map[string]string `json:"tags,omitempty"`
	// Rules are its inbound rules on CIDRs, one per CIDR.
	Rules []Rule `json:"rules,omitempty"`
	// Others counts inbound rules that reference other groups or prefix lists: the sync
	// leaves them alone but they use quota, one rule in each family.
	Others int `json:"others,omitempty"`
}

// Interface is a network interface with a managed group attached, or one the
// configuration names.
type Interface struct {
	ID string `json:"id"`
	// Groups are all its security groups, in EC2's order.
	Groups []string `json:"groups"`
	// RequesterManaged interfaces belong to another service (a load balancer...), which
	// must attach groups itself.
	RequesterManaged bool   `json:"requester_managed,omitempty"`
	Description      string `json:"description,omitempty"`
}

// SGState is what the security group target looks like now.
type SGState struct {
	// Groups are the managed groups, sorted by name then ID.
	Groups []Group `json:"groups"`
	// Taken are the names in the VPC starting with the prefix, managed or not: a new
	// group must not reuse one.
	Taken []string `json:"taken,omitempty"`
	// Interfaces are sorted by ID.
	Interfaces []Interface `json:"interfaces,omitempty"`
	// Missing lists configured interfaces EC2 does not know.
	Missing []string `json:"missing,omitempty"`
}

// sorted returns a copy of st with groups by name then ID, interfaces by ID: the plan
// must not depend on the order EC2 lists things in.
func (st *SGState) sorted() *SGState {
	c := *st
	c.Groups = slices.Clone(st.Groups)
	slices.SortFunc(c.Groups, func(a, b Group) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	c.Interfaces = slices.Clone(st.Interfaces)
	slices.SortFunc(c.Interfaces, func(a, b Interface) int { return cmp.Compare(a.ID, b.ID) })
	return &c
}

// StepKind names one kind of write call.
type StepKind string

// The write calls a plan is made of, in the order Apply makes them.
const (
	StepCreateGroup      StepKind = "create-group"       // CreateSecurityGroup, with tags
	StepTagGroups        StepKind = "tag-groups"         // CreateTags on existing groups
	StepAuthorize        StepKind = "authorize"          // AuthorizeSecurityGroupIngress
	StepAttach           StepKind = "attach"             // ModifyNetworkInterfaceAttribute
	StepRevoke           StepKind = "revoke"             // RevokeSecurityGroupIngress
	StepCreatePrefixList StepKind = "create-prefix-list" // CreateManagedPrefixList, with tags
	StepResizePrefixList StepKind = "resize-prefix-list" // ModifyManagedPrefixList MaxEntries
	StepModifyPrefixList StepKind = "modify-prefix-list" // ModifyManagedPrefixList entries
)

// NewRef is how a plan names a group or prefix list it creates, before EC2 gives it
// an ID: "new:" followed by the name.
func NewRef(name string) string { return "new:" + name }

// Step is one write call. Fields not used by a kind are empty.
type Step struct {
	Kind StepKind `json:"kind"`
	// Group is a group ID, or NewRef(name) for a group this plan creates.
	Group     string `json:"group,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	// Groups are the groups tagged (tag-groups), or the interface's whole set of groups
	// after the call (attach).
	Groups []string          `json:"groups,omitempty"`
	Tags   map[string]string `json:"tags,omitempty"`
	Rules  []Rule            `json:"rules,omitempty"`
	// AfterRevoke marks an authorization into room the revokes free.
	AfterRevoke bool   `json:"after_revoke,omitempty"`
	Interface   string `json:"interface,omitempty"`
	// Adding are the groups an attach adds.
	Adding []string `json:"adding,omitempty"`
	// List is a prefix list ID, or NewRef(name) for one this plan creates.
	List   string `json:"prefix_list,omitempty"`
	Family string `json:"family,omitempty"` // IPv4 or IPv6
	Name   string `json:"name,omitempty"`   // a prefix list's name
	// MaxEntries sizes a created or resized list.
	MaxEntries int `json:"max_entries,omitempty"`
	// Version is the list version a modification expects (EC2 refuses it otherwise).
	Version int64          `json:"version,omitempty"`
	Add     []netip.Prefix `json:"add,omitempty"`
	Remove  []netip.Prefix `json:"remove,omitempty"`
}

// SGSummary describes the security group part of a plan.
type SGSummary struct {
	VPCID         string `json:"vpc_id"`
	RulesPerGroup int    `json:"rules_per_group"`
	IPv4Rules     int    `json:"ipv4_rules"`
	IPv6Rules     int    `json:"ipv6_rules"`
	// MinGroups is the fewest groups that can hold the rules: the larger of
	// ceil(IPv4Rules/RulesPerGroup) and ceil(IPv6Rules/RulesPerGroup).
	MinGroups int `json:"min_groups"`
	// Existing and After count the managed groups before and after the plan.
	Existing int `json:"existing_groups"`
	After    int `json:"groups_after"`
}

// sgConfig is what planning the security group target needs from the configuration.
type sgConfig struct {
	name       string // the sync's name
	g          *SecurityGroups
	quota      int
	perIface   int
	extraTags  map[string]string
	configured []string // interfaces that get every managed group
}

func newSGConfig(c *Config) sgConfig {
	g := c.SecurityGroups
	return sgConfig{name: c.Name, g: g, quota: g.RulesPerGroup, perIface: g.GroupsPerInterface, extraTags: g.Tags, configured: g.NetworkInterfaces}
}

// slot is a group while planning: an existing one or one to create.
type slot struct {
	id, name   string
	cur, keep  [2]int // rules per family now, and after the stale ones are revoked
	stale      []Rule
	add1, add2 []Rule // authorized before and after the revokes
}

func (s *slot) ref() string {
	if s.id == "" {
		return NewRef(s.name)
	}
	return s.id
}

// planSG computes the security group steps. It is pure: the same desired rules and state
// give the same steps, in the same order.
//
// Rules stay in the group that holds them. Stale rules (not desired, or duplicates of a
// rule another group holds) are revoked; missing rules are authorized into the groups
// with the most free room, so that few calls touch few groups. Because authorizing comes
// first, the room a revoke frees is not available to the same run's first
// authorizations; missing rules that do not fit are authorized in a second pass after
// the revokes, unless they overlap a stale rule (same protocol, overlapping ports and
// addresses: a range re-published as a bigger or smaller one), which must be allowed
// before the old rule goes. New groups are created only when the room left after the
// revokes cannot hold the missing rules, so the managed groups number
// max(existing, ceil(rules/quota)) per family.
func planSG(c sgConfig, desired []Rule, st *SGState) (steps []Step, sum SGSummary, problems, warnings []string) {
	st = st.sorted()
	q := c.quota
	sum = SGSummary{VPCID: c.g.VPCID, RulesPerGroup: q, Existing: len(st.Groups)}
	for _, r := range desired {
		if r.family() == 0 {
			sum.IPv4Rules++
		} else {
			sum.IPv6Rules++
		}
	}
	sum.MinGroups = max(ceilDiv(sum.IPv4Rules, q), ceilDiv(sum.IPv6Rules, q))

	want := make(map[Rule]bool, len(desired))
	for _, r := range desired {
		want[r] = true
	}
	held := map[Rule]bool{}
	var slots []*slot
	for _, g := range st.Groups {
		s := &slot{id: g.ID, name: g.Name}
		s.cur = [2]int{g.Others, g.Others}
		s.keep = s.cur
		rules := slices.Clone(g.Rules)
		slices.SortFunc(rules, CompareRules)
		for _, r := range rules {
			s.cur[r.family()]++
			if want[r] && !held[r] {
				held[r] = true
				s.keep[r.family()]++
			} else {
				s.stale = append(s.stale, r)
			}
		}
		if g.Others > 0 {
			warnings = append(warnings, fmt.Sprintf("%s (%s) has %d rule(s) referencing other groups or prefix lists: left alone, counted against its quota", g.ID, g.Name, g.Others))
		}
		slots = append(slots, s)
	}
	var missing, must []Rule
	for _, r := range desired {
		if held[r] {
			continue
		}
		if slices.ContainsFunc(slots, func(s *slot) bool { return slices.ContainsFunc(s.stale, r.overlaps) }) {
			must = append(must, r)
		} else {
			missing = append(missing, r)
		}
	}
	names := newNames(c.g.NamePrefix, st)
	var all []*slot
	for extra := 0; ; extra++ {
		all = slices.Clone(slots)
		for i := range extra {
			all = append(all, &slot{name: names(i)})
		}
		if place(all, must, missing, q) {
			break
		}
	}
	sum.After = len(all)
	return sgSteps(c, st, all, len(slots)), sum, append(problems, attachProblems(c, st, all)...), warnings
}

// place distributes the rules over the slots; false when they do not fit.
func place(slots []*slot, must, missing []Rule, q int) bool {
	free1 := make([][2]int, len(slots))
	for i, s := range slots {
		s.add1, s.add2 = nil, nil
		free1[i] = [2]int{q - s.cur[0], q - s.cur[1]}
	}
	order := byRoom(free1)
	var pending []Rule
	for n, r := range slices.Concat(must, missing) {
		f := r.family()
		i := slices.IndexFunc(order, func(i int) bool { return free1[i][f] > 0 })
		switch {
		case i >= 0:
			free1[order[i]][f]--
			slots[order[i]].add1 = append(slots[order[i]].add1, r)
		case n < len(must):
			return false // must be allowed before a stale rule goes
		default:
			pending = append(pending, r)
		}
	}
	free2 := make([][2]int, len(slots))
	for i, s := range slots {
		for f := range 2 {
			free2[i][f] = q - s.keep[f] - countFamily(s.add1, f)
		}
	}
	order = byRoom(free2)
	for _, r := range pending {
		f := r.family()
		i := slices.IndexFunc(order, func(i int) bool { return free2[i][f] > 0 })
		if i < 0 {
			return false
		}
		free2[order[i]][f]--
		slots[order[i]].add2 = append(slots[order[i]].add2, r)
	}
	return true
}

// byRoom orders slot indices by free room, most first, ties in slot order.
func byRoom(free [][2]int) []int {
	order := make([]int, len(free))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(max(0, free[b][0])+max(0, free[b][1]), max(0, free[a][0])+max(0, free[a][1]))
	})
	return order
}

func countFamily(rs []Rule, f int) int {
	n := 0
	for _, r := range rs {
		if r.family() == f {
			n++
		}
	}
	return n
}

// overlaps reports whether the rules admit some common traffic.
func (r Rule) overlaps(o Rule) bool {
	return r.Protocol == o.Protocol && r.From <= o.To && o.From <= r.To && r.CIDR.Overlaps(o.CIDR)
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

// newNames returns the i-th unused name of the form prefix-N.
func newNames(prefix string, st *SGState) func(i int) string {
	taken := map[string]bool{}
	for _, n := range st.Taken {
		taken[n] = true
	}
	for _, g := range st.Groups {
		taken[g.Name] = true
	}
	var names []string
	return func(i int) string {
		for n := 1; len(names) <= i; n++ {
			if name := fmt.Sprintf("%s-%d", prefix, n); !taken[name] {
				taken[name] = true
				names = append(names, name)
			}
		}
		return names[i]
	}
}

// sgSteps turns placed slots into steps in apply order: create, tag, authorize, attach,
// revoke, authorize into freed room.
func sgSteps(c sgConfig, st *SGState, slots []*slot, existing int) []Step {
	var steps []Step
	for _, s := range slots[existing:] {
		tags := maps.Clone(c.extraTags)
		if tags == nil {
			tags = map[string]string{}
		}
		tags[ManagedByTag], tags["Name"] = c.name, s.name
		steps = append(steps, Step{Kind: StepCreateGroup, Group: s.ref(), GroupName: s.name, Tags: tags})
	}
	if len(c.extraTags) > 0 {
		var ids []string
		for _, g := range st.Groups {
			for k, v := range c.extraTags {
				if g.Tags[k] != v {
					ids = append(ids, g.ID)
					break
				}
			}
		}
		if len(ids) > 0 {
			steps = append(steps, Step{Kind: StepTagGroups, Groups: ids, Tags: maps.Clone(c.extraTags)})
		}
	}
	for _, s := range slots {
		if len(s.add1) > 0 {
			steps = append(steps, Step{Kind: StepAuthorize, Group: s.ref(), GroupName: s.name, Rules: sorted(s.add1)})
		}
	}
	steps = append(steps, attachSteps(c, st, slots)...)
	for _, s := range slots {
		if len(s.stale) > 0 {
			steps = append(steps, Step{Kind: StepRevoke, Group: s.ref(), GroupName: s.name, Rules: sorted(s.stale)})
		}
	}
	for _, s := range slots {
		if len(s.add2) > 0 {
			steps = append(steps, Step{Kind: StepAuthorize, Group: s.ref(), GroupName: s.name, Rules: sorted(s.add2), AfterRevoke: true})
		}
	}
	return steps
}

func sorted(rs []Rule) []Rule {
	out := slices.Clone(rs)
	slices.SortFunc(out, CompareRules)
	return out
}

// attachPlan works out, for each known interface, the managed groups it lacks.
func attachPlan(c sgConfig, st *SGState, slots []*slot) (ok []Step, problems []string) {
	managed := make([]string, 0, len(slots))
	for _, s := range slots {
		managed = append(managed, s.ref())
	}
	for _, ni := range st.Interfaces {
		var adding []string
		for _, ref := range managed {
			if !slices.Contains(ni.Groups, ref) {
				adding = append(adding, ref)
			}
		}
		if len(adding) == 0 {
			continue
		}
		switch total := len(ni.Groups) + len(adding); {
		case ni.RequesterManaged:
			problems = append(problems, fmt.Sprintf("%s belongs to another service (%s): attach %s through that service (for a load balancer: its security groups setting)",
				ni.ID, cmp.Or(ni.Description, "requester-managed"), strings.Join(adding, ", ")))
		case total > c.perIface:
			problems = append(problems, fmt.Sprintf("%s has %d security groups; attaching %s would make %d, over the limit of %d per interface: not attached, so the ranges in them are not allowed there (raise the quota and groups_per_interface, or detach a group)",
				ni.ID, len(ni.Groups), strings.Join(adding, ", "), total, c.perIface))
		default:
			ok = append(ok, Step{Kind: StepAttach, Interface: ni.ID, Groups: append(slices.Clone(ni.Groups), adding...), Adding: adding})
		}
	}
	for _, id := range st.Missing {
		problems = append(problems, fmt.Sprintf("network interface %s (security_groups.network_interfaces) does not exist in the region", id))
	}
	return ok, problems
}

func attachSteps(c sgConfig, st *SGState, slots []*slot) []Step {
	s, _ := attachPlan(c, st, slots)
	return s
}

func attachProblems(c sgConfig, st *SGState, slots []*slot) []string {
	_, p := attachPlan(c, st, slots)
	return p
}
