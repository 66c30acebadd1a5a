package ipsync

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Report is what Apply did with a plan.
type Report struct {
	// Done are the calls that succeeded, in order.
	Done []Step `json:"done"`
	// Failed is the call that stopped the run, with its error in Error.
	Failed *Step  `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
	// NotDone are the calls not made: after Failed, or skipped (see Problems).
	NotDone []Step `json:"not_done,omitempty"`
	// Problems met while applying: attachments EC2 refused.
	Problems []string `json:"problems,omitempty"`
	// Err is the error that stopped the run (wrapping ErrConflict for a conflict).
	Err error `json:"-"`
}

// applier carries what one Apply learns: IDs of what it creates.
type applier struct {
	s   *Syncer
	log *slog.Logger
	ids map[string]string // NewRef -> ID
	// versions of the prefix lists modified or created so far, as last read.
	versions map[string]int64
}

// Apply makes the plan's calls in order. It stops at the first failure, so the order's
// guarantees hold (nothing is revoked unless everything to authorize was), and reports
// what was done and what was not; running the sync again completes the work. An
// attachment EC2 refuses (groups-per-interface quota, a requester-managed interface) is
// a problem, not a failure: the rest still applies. Throttling is retried by the EC2
// client's retryer.
func (s *Syncer) Apply(ctx context.Context, p *Plan) *Report {
	a := &applier{s: s, log: s.log().With("sync", s.Config.Name), ids: map[string]string{}, versions: map[string]int64{}}
	rep := &Report{Done: []Step{}}
	for i, st := range p.Steps {
		err := a.do(ctx, st)
		if err == nil {
			rep.Done = append(rep.Done, a.resolved(st))
			continue
		}
		st = a.resolved(st)
		if st.Kind == StepAttach && isAttachRefusal(err) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: attaching %s refused: %v", st.Interface, strings.Join(st.Adding, ", "), err))
			rep.NotDone = append(rep.NotDone, st)
			a.log.Warn("attachment refused", "interface", st.Interface, "err", err)
			continue
		}
		err = classify(err)
		rep.Failed, rep.Err, rep.Error = &st, fmt.Errorf("%s: %w", describeStep(st), err), err.Error()
		for _, rest := range p.Steps[i+1:] {
			rep.NotDone = append(rep.NotDone, a.resolved(rest))
		}
		a.log.Error("call failed: stopping", "step", describeStep(st), "err", err, "done", len(rep.Done), "not_done", len(p.Steps)-i)
		return rep
	}
	return rep
}

func isAttachRefusal(err error) bool {
	switch apiCode(err) {
	case "SecurityGroupsPerInterfaceLimitExceeded", "OperationNotPermitted", "InvalidNetworkInterfaceID.NotFound", "UnauthorizedOperation":
		return true
	}
	return false
}

func (a *applier) resolve(ref string) string {
	if id, ok := a.ids[ref]; ok {
		return id
	}
	return ref
}

// resolved is st with the IDs of what this run created in place of the plan's NewRefs,
// for reports.
func (a *applier) resolved(st Step) Step {
	st.Group, st.List = a.resolve(st.Group), a.resolve(st.List)
	if st.Kind == StepAttach {
		st.Groups, st.Adding = a.resolveAll(st.Groups), a.resolveAll(st.Adding)
	}
	return st
}

func (a *applier) resolveAll(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = a.resolve(r)
	}
	return out
}

func (a *applier) do(ctx context.Context, st Step) error {
	api := a.s.EC2
	switch st.Kind {
	case StepCreateGroup:
		out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(st.GroupName), Description: aws.String(a.s.Config.SecurityGroups.Description),
			VpcId:             aws.String(a.s.Config.SecurityGroups.VPCID),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: toTags(st.Tags)}},
		})
		if err != nil {
			return err
		}
		a.ids[st.Group] = aws.ToString(out.GroupId)
		a.log.Info("created security group", "group", aws.ToString(out.GroupId), "name", st.GroupName)
	case StepTagGroups:
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: st.Groups, Tags: toTags(st.Tags)}); err != nil {
			return err
		}
		a.log.Info("tagged security groups", "groups", st.Groups)
	case StepAuthorize:
		id := a.resolve(st.Group)
		if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: permissions(st.Rules)}); err != nil {
			return err
		}
		a.log.Info("authorized", "group", id, "name", st.GroupName, "rules", len(st.Rules))
		a.log.Debug("authorized rules", "group", id, "rules", st.Rules)
	case StepRevoke:
		id := a.resolve(st.Group)
		if _, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: permissions(st.Rules)}); err != nil {
			return err
		}
		a.log.Info("revoked", "group", id, "name", st.GroupName, "rules", len(st.Rules))
		a.log.Debug("revoked rules", "group", id, "rules", st.Rules)
	case StepAttach:
		return a.attach(ctx, st)
	case StepCreatePrefixList, StepResizePrefixList, StepModifyPrefixList:
		return a.prefixList(ctx, st)
	default:
		return fmt.Errorf("unknown step kind %q", st.Kind)
	}
	return nil
}

// attach re-reads the interface just before replacing its groups, so a group attached
// since the plan was made is kept: ModifyNetworkInterfaceAttribute replaces the whole
// set and has no version check.
func (a *applier) attach(ctx context.Context, st Step) error {
	api := a.s.EC2
	out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{st.Interface}})
	if err != nil {
		return err
	}
	if len(out.NetworkInterfaces) != 1 {
		return fmt.Errorf("DescribeNetworkInterfaces %s: %d interfaces", st.Interface, len(out.NetworkInterfaces))
	}
	var groups []string
	for _, g := range out.NetworkInterfaces[0].Groups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	n := len(groups)
	for _, ref := range st.Adding {
		if id := a.resolve(ref); !slices.Contains(groups, id) {
			groups = append(groups, id)
		}
	}
	if len(groups) == n {
		return nil // attached meanwhile
	}
	if _, err := api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(st.Interface), Groups: groups}); err != nil {
		return err
	}
	a.log.Info("attached security groups", "interface", st.Interface, "added", a.resolveAll(st.Adding), "groups", groups)
	return nil
}

func (a *applier) prefixList(ctx context.Context, st Step) error {
	api := a.s.EC2
	switch st.Kind {
	case StepCreatePrefixList:
		var entries []types.AddPrefixListEntry
		for _, p := range st.Add {
			entries = append(entries, types.AddPrefixListEntry{Cidr: aws.String(p.String())})
		}
		out, err := api.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{
			PrefixListName: aws.String(st.Name), AddressFamily: aws.String(st.Family), MaxEntries: aws.Int32(int32(st.MaxEntries)),
			Entries:           entries,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypePrefixList, Tags: toTags(st.Tags)}},
			// Concurrent runs for the same list content share one token, so EC2 creates
			// one list for both.
			ClientToken: aws.String(clientToken(a.s.Config.Name, st)),
		})
		if err != nil {
			return err
		}
		id := aws.ToString(out.PrefixList.PrefixListId)
		a.ids[st.List] = id
		a.log.Info("created prefix list", "prefix_list", id, "name", st.Name, "entries", len(st.Add), "max_entries", st.MaxEntries)
		return a.waitList(ctx, id)
	case StepResizePrefixList:
		id := a.resolve(st.List)
		if _, err := api.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), MaxEntries: aws.Int32(int32(st.MaxEntries))}); err != nil {
			return err
		}
		a.log.Info("resized prefix list", "prefix_list", id, "max_entries", st.MaxEntries)
		return a.waitList(ctx, id)
	}
	id := a.resolve(st.List)
	version, ok := a.versions[id]
	if !ok {
		version = st.Version
	}
	in := &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), CurrentVersion: aws.Int64(version)}
	for _, p := range st.Add {
		in.AddEntries = append(in.AddEntries, types.AddPrefixListEntry{Cidr: aws.String(p.String())})
	}
	for _, p := range st.Remove {
		in.RemoveEntries = append(in.RemoveEntries, types.RemovePrefixListEntry{Cidr: aws.String(p.String())})
	}
	if _, err := api.ModifyManagedPrefixList(ctx, in); err != nil {
		return err
	}
	a.log.Info("modified prefix list", "prefix_list", id, "version", version, "added", len(st.Add), "removed", len(st.Remove))
	return a.waitList(ctx, id)
}

// waitList polls a prefix list until its change completes and records its version.
func (a *applier) waitList(ctx context.Context, id string) error {
	every := a.s.PollEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		out, err := a.s.EC2.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{id}})
		if err != nil {
			return err
		}
		if len(out.PrefixLists) != 1 {
			return fmt.Errorf("DescribeManagedPrefixLists %s: %d lists", id, len(out.PrefixLists))
		}
		pl := out.PrefixLists[0]
		state := string(pl.State)
		switch {
		case strings.HasSuffix(state, "-complete"):
			a.versions[id] = aws.ToInt64(pl.Version)
			return nil
		case strings.HasSuffix(state, "-failed"):
			return fmt.Errorf("prefix list %s: %s: %s", id, state, aws.ToString(pl.StateMessage))
		}
		a.log.Debug("waiting for prefix list", "prefix_list", id, "state", state)
		select {
		case <-ctx.Done():
			return fmt.Errorf("prefix list %s still %s: %w", id, state, ctx.Err())
		case <-time.After(every):
		}
	}
}

// clientToken identifies a list creation: same sync, name, family and entries give the
// same token (at most 64 characters, as EC2 allows).
func clientToken(name string, st Step) string {
	var b strings.Builder
	for _, p := range st.Add {
		b.WriteString(p.String())
	}
	tok := fmt.Sprintf("gatehouse-%s-%s-%08x", name, strings.ToLower(st.Family), fnv32(b.String()))
	if len(tok) > 64 {
		tok = tok[len(tok)-64:]
	}
	return tok
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func toTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describeStep summarises a step in one line, for logs and errors.
func describeStep(st Step) string {
	switch st.Kind {
	case StepCreateGroup:
		return "create security group " + st.GroupName
	case StepTagGroups:
		return "tag " + strings.Join(st.Groups, ", ")
	case StepAuthorize:
		return fmt.Sprintf("authorize %d rule(s) in %s (%s)", len(st.Rules), st.Group, st.GroupName)
	case StepRevoke:
		return fmt.Sprintf("revoke %d rule(s) from %s (%s)", len(st.Rules), st.Group, st.GroupName)
	case StepAttach:
		return fmt.Sprintf("attach %s to %s", strings.Join(st.Adding, ", "), st.Interface)
	case StepCreatePrefixList:
		return fmt.Sprintf("create prefix list %s (%s, max %d entries, %d entries)", st.Name, st.Family, st.MaxEntries, len(st.Add))
	case StepResizePrefixList:
		return fmt.Sprintf("resize prefix list %s (%s) to %d entries", st.Name, st.List, st.MaxEntries)
	case StepModifyPrefixList:
		v := ""
		if st.Version > 0 {
			v = ", version " + itoa(st.Version)
		}
		return fmt.Sprintf("modify prefix list %s (%s%s): add %d, remove %d", st.Name, st.List, v, len(st.Add), len(st.Remove))
	}
	return string(st.Kind)
}
