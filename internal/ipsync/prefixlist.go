package ipsync

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
)

// MaxPrefixListChanges is how many entries one ModifyManagedPrefixList call may add,
// and how many it may remove (EC2's limit); CreateManagedPrefixList takes as many.
const MaxPrefixListChanges = 100

// PLState is one managed prefix list as read from EC2.
type PLState struct {
	Family string `json:"family"` // IPv4 or IPv6
	Name   string `json:"name"`
	// ID is empty when no managed list has the name yet.
	ID         string         `json:"id,omitempty"`
	Version    int64          `json:"version,omitempty"`
	MaxEntries int            `json:"max_entries,omitempty"`
	State      string         `json:"state,omitempty"`
	Entries    []netip.Prefix `json:"entries,omitempty"`
	// Foreign is the ID of a list with the name that the sync does not own.
	Foreign string `json:"foreign,omitempty"`
	// Duplicates are further managed lists with the name (left alone).
	Duplicates []string `json:"duplicates,omitempty"`
}

// listName is the name of the family's list ("IPv4" -> NAME-ipv4).
func listName(c *Config, family string) string {
	if family == "IPv4" {
		return c.PrefixList.Name + "-ipv4"
	}
	return c.PrefixList.Name + "-ipv6"
}

func families(c *Config) []string {
	var out []string
	if enabled(c.Source.IPv4) {
		out = append(out, "IPv4")
	}
	if enabled(c.Source.IPv6) {
		out = append(out, "IPv6")
	}
	return out
}

func readPrefixLists(ctx context.Context, api EC2API, c *Config) ([]PLState, error) {
	fams := families(c)
	var names []string
	for _, f := range fams {
		names = append(names, listName(c, f))
	}
	var lists []types.ManagedPrefixList
	pages := ec2.NewDescribeManagedPrefixListsPaginator(api, &ec2.DescribeManagedPrefixListsInput{Filters: []types.Filter{filter("prefix-list-name", names...)}},
		func(o *ec2.DescribeManagedPrefixListsPaginatorOptions) { o.Limit = 100; o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeManagedPrefixLists: %w", err)
		}
		lists = append(lists, page.PrefixLists...)
	}
	slices.SortFunc(lists, func(a, b types.ManagedPrefixList) int {
		return strings.Compare(aws.ToString(a.PrefixListId), aws.ToString(b.PrefixListId))
	})
	var out []PLState
	for _, f := range fams {
		st := PLState{Family: f, Name: listName(c, f)}
		for _, pl := range lists {
			if aws.ToString(pl.PrefixListName) != st.Name || aws.ToString(pl.AddressFamily) != f {
				continue
			}
			id := aws.ToString(pl.PrefixListId)
			switch {
			case !hasTag(pl.Tags, ManagedByTag, c.Name):
				st.Foreign = id
			case st.ID != "":
				st.Duplicates = append(st.Duplicates, id)
			default:
				st.ID, st.Version, st.MaxEntries, st.State = id, aws.ToInt64(pl.Version), int(aws.ToInt32(pl.MaxEntries)), string(pl.State)
			}
		}
		if st.ID != "" {
			entries, err := listEntries(ctx, api, st.ID)
			if err != nil {
				return nil, err
			}
			st.Entries = entries
		}
		out = append(out, st)
	}
	return out, nil
}

func listEntries(ctx context.Context, api EC2API, id string) ([]netip.Prefix, error) {
	pages := ec2.NewGetManagedPrefixListEntriesPaginator(api, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)},
		func(o *ec2.GetManagedPrefixListEntriesPaginatorOptions) { o.Limit = 100; o.StopOnDuplicateToken = true })
	var out []netip.Prefix
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("GetManagedPrefixListEntries %s: %w", id, err)
		}
		for _, e := range page.Entries {
			if p, err := netip.ParsePrefix(aws.ToString(e.Cidr)); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	slices.SortFunc(out, ipranges.ComparePrefix)
	return slices.Compact(out), nil
}

func hasTag(tags []types.Tag, k, v string) bool {
	return slices.ContainsFunc(tags, func(t types.Tag) bool { return aws.ToString(t.Key) == k && aws.ToString(t.Value) == v })
}

// autoMaxEntries sizes a list for n entries: 10% headroom, at least 5, rounded up to a
// multiple of 5, at most EC2's 1000.
func autoMaxEntries(n int) int {
	m := max(n+5, ceilDiv(n*11, 10))
	return min(ceilDiv(m, 5)*5, 1000)
}

// planPL computes the steps that bring one family's list to desired: create it (with up
// to MaxPrefixListChanges entries, the rest added by modifications), or modify it with
// additions first and removals in the last addition's call and after, so that no range
// still published is ever missing. Each modification carries the version it expects;
// the list is resized first when the update needs more room (automatic size), or to the
// configured size.
func planPL(c *Config, desired []netip.Prefix, st PLState) (steps []Step, problems, warnings []string) {
	explicit := c.PrefixList.IPv4MaxEntries
	if st.Family == "IPv6" {
		explicit = c.PrefixList.IPv6MaxEntries
	}
	quota := DefaultRulesPerGroup
	if c.SecurityGroups != nil {
		quota = c.SecurityGroups.RulesPerGroup
	}
	warnSize := func(n int) {
		if n > quota {
			warnings = append(warnings, fmt.Sprintf("prefix list %s has %d max entries: a security group rule that references it counts as %d rules, over the %d-rule quota per group", st.Name, n, n, quota))
		}
	}
	for _, id := range st.Duplicates {
		warnings = append(warnings, fmt.Sprintf("prefix list %s (%s) has the same name as the managed %s: left alone", id, st.Name, st.ID))
	}
	if st.ID == "" {
		if st.Foreign != "" {
			return nil, []string{fmt.Sprintf("prefix list %s exists (%s) without the tag %s=%s: not touching it (tag it, or choose another prefix_list.name)", st.Name, st.Foreign, ManagedByTag, c.Name)}, warnings
		}
		size := explicit
		if size == 0 {
			size = autoMaxEntries(len(desired))
		}
		if len(desired) > size {
			return nil, []string{fmt.Sprintf("prefix list %s needs %d entries, more than its configured max entries %d", st.Name, len(desired), size)}, warnings
		}
		warnSize(size)
		ref := NewRef(st.Name)
		tags := maps.Clone(c.PrefixList.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		tags[ManagedByTag], tags["Name"] = c.Name, st.Name
		first := desired[:min(len(desired), MaxPrefixListChanges)]
		steps = append(steps, Step{Kind: StepCreatePrefixList, List: ref, Name: st.Name, Family: st.Family, MaxEntries: size, Tags: tags, Add: slices.Clone(first)})
		for rest := desired[len(first):]; len(rest) > 0; {
			n := min(len(rest), MaxPrefixListChanges)
			steps = append(steps, Step{Kind: StepModifyPrefixList, List: ref, Name: st.Name, Family: st.Family, Add: slices.Clone(rest[:n])})
			rest = rest[n:]
		}
		return steps, nil, warnings
	}

	add, remove := diffPrefixes(desired, st.Entries)
	calls := modifyCalls(add, remove)
	size, peak := len(st.Entries), len(st.Entries)
	for _, call := range calls {
		size += len(call.Add) - len(call.Remove)
		peak = max(peak, size)
	}
	target := explicit
	if target == 0 {
		target = st.MaxEntries
		if peak > target {
			target = autoMaxEntries(max(peak, len(desired)))
		}
	}
	if peak > target {
		return nil, []string{fmt.Sprintf("prefix list %s (%s) needs room for %d entries during the update (%d after), more than max entries %d", st.Name, st.ID, peak, len(desired), target)}, warnings
	}
	warnSize(target)
	resize := Step{Kind: StepResizePrefixList, List: st.ID, Name: st.Name, Family: st.Family, MaxEntries: target}
	if target > st.MaxEntries {
		steps = append(steps, resize)
	}
	for i, call := range calls {
		call.List, call.Name, call.Family = st.ID, st.Name, st.Family
		if i == 0 {
			call.Version = st.Version
		}
		steps = append(steps, call)
	}
	if target < st.MaxEntries {
		steps = append(steps, resize)
	}
	return steps, nil, warnings
}

// diffPrefixes returns what want has and have lacks, and the reverse, both sorted.
func diffPrefixes(want, have []netip.Prefix) (add, remove []netip.Prefix) {
	w := map[netip.Prefix]bool{}
	for _, p := range want {
		w[p] = true
	}
	h := map[netip.Prefix]bool{}
	for _, p := range have {
		h[p] = true
		if !w[p] {
			remove = append(remove, p)
		}
	}
	for _, p := range want {
		if !h[p] {
			add = append(add, p)
		}
	}
	slices.SortFunc(add, ipranges.ComparePrefix)
	slices.SortFunc(remove, ipranges.ComparePrefix)
	return slices.Compact(add), slices.Compact(remove)
}

// modifyCalls splits the changes into the fewest ModifyManagedPrefixList calls, at most
// MaxPrefixListChanges additions and as many removals each, such that an entry that
// overlaps an addition is removed only once every addition is made (a range
// re-published as a larger or smaller one stays allowed throughout). Other removals
// go first, which keeps the list's size during the update low.
func modifyCalls(add, remove []netip.Prefix) []Step {
	var calls []Step
	for len(add) > 0 {
		n := min(len(add), MaxPrefixListChanges)
		calls = append(calls, Step{Kind: StepModifyPrefixList, Add: add[:n:n]})
		add = add[n:]
	}
	var safe, covered []netip.Prefix
	for _, r := range remove {
		if slices.ContainsFunc(addAll(calls), r.Overlaps) {
			covered = append(covered, r)
		} else {
			safe = append(safe, r)
		}
	}
	room := func(i int) int { return MaxPrefixListChanges - len(calls[i].Remove) }
	// Covered removals: in the last addition's call, then later.
	for i := max(0, len(calls)-1); len(covered) > 0; i++ {
		if i == len(calls) {
			calls = append(calls, Step{Kind: StepModifyPrefixList})
		}
		n := min(len(covered), room(i))
		calls[i].Remove, covered = append(calls[i].Remove, covered[:n]...), covered[n:]
	}
	// Safe removals: from the first call on.
	for i := 0; len(safe) > 0; i++ {
		if i == len(calls) {
			calls = append(calls, Step{Kind: StepModifyPrefixList})
		}
		n := min(len(safe), room(i))
		calls[i].Remove, safe = append(calls[i].Remove, safe[:n]...), safe[n:]
	}
	for i := range calls {
		slices.SortFunc(calls[i].Remove, ipranges.ComparePrefix)
	}
	return calls
}

func addAll(calls []Step) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range calls {
		out = append(out, c.Add...)
	}
	return out
}
