package ipsync

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2API is the part of the EC2 client a sync uses; *ec2.Client implements it. Every
// method is listed in the IAM policy of docs/ip-range-sync.md, and no other is needed.
type EC2API interface {
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	ModifyNetworkInterfaceAttribute(context.Context, *ec2.ModifyNetworkInterfaceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error)
	CreateManagedPrefixList(context.Context, *ec2.CreateManagedPrefixListInput, ...func(*ec2.Options)) (*ec2.CreateManagedPrefixListOutput, error)
	DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
	ModifyManagedPrefixList(context.Context, *ec2.ModifyManagedPrefixListInput, ...func(*ec2.Options)) (*ec2.ModifyManagedPrefixListOutput, error)
}

var _ EC2API = (*ec2.Client)(nil)

// State is what the targets look like now; only read calls build it.
type State struct {
	SecurityGroups *SGState  `json:"security_groups,omitempty"`
	PrefixLists    []PLState `json:"prefix_lists,omitempty"`
}

// ReadState reads the configured targets: the managed groups of the VPC (by tag), the
// names taken by the prefix, the interfaces the managed groups are attached to plus the
// configured ones, and the managed prefix lists with their entries.
func ReadState(ctx context.Context, api EC2API, c *Config) (*State, error) {
	st := &State{}
	if c.SecurityGroups != nil {
		sg, err := readSG(ctx, api, c)
		if err != nil {
			return nil, err
		}
		st.SecurityGroups = sg
	}
	if c.PrefixList != nil {
		pls, err := readPrefixLists(ctx, api, c)
		if err != nil {
			return nil, err
		}
		st.PrefixLists = pls
	}
	return st, nil
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func describeGroups(ctx context.Context, api EC2API, filters ...types.Filter) ([]types.SecurityGroup, error) {
	pages := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: filters}, func(o *ec2.DescribeSecurityGroupsPaginatorOptions) {
		o.Limit = 1000
		o.StopOnDuplicateToken = true
	})
	var out []types.SecurityGroup
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeSecurityGroups: %w", err)
		}
		out = append(out, page.SecurityGroups...)
	}
	return out, nil
}

func readSG(ctx context.Context, api EC2API, c *Config) (*SGState, error) {
	g := c.SecurityGroups
	st := &SGState{}
	// Names first, managed groups second: a group another run creates between the two
	// reads then shows as managed (room to use) rather than as a taken name only, which
	// would make this run create one group too many.
	named, err := describeGroups(ctx, api, filter("vpc-id", g.VPCID), filter("group-name", g.NamePrefix+"-*"))
	if err != nil {
		return nil, err
	}
	for _, sg := range named {
		st.Taken = append(st.Taken, aws.ToString(sg.GroupName))
	}
	slices.Sort(st.Taken)
	groups, err := describeGroups(ctx, api, filter("vpc-id", g.VPCID), filter("tag:"+ManagedByTag, c.Name))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, sg := range groups {
		st.Groups = append(st.Groups, toGroup(sg))
		ids = append(ids, aws.ToString(sg.GroupId))
	}
	slices.SortFunc(st.Groups, func(a, b Group) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })

	var ifaces []types.NetworkInterface
	if len(ids) > 0 {
		found, err := describeInterfaces(ctx, api, filter("group-id", ids...))
		if err != nil {
			return nil, err
		}
		ifaces = append(ifaces, found...)
	}
	if len(g.NetworkInterfaces) > 0 {
		found, err := describeInterfaces(ctx, api, filter("network-interface-id", g.NetworkInterfaces...))
		if err != nil {
			return nil, err
		}
		ifaces = append(ifaces, found...)
		for _, id := range g.NetworkInterfaces {
			if !slices.ContainsFunc(found, func(ni types.NetworkInterface) bool { return aws.ToString(ni.NetworkInterfaceId) == id }) {
				st.Missing = append(st.Missing, id)
			}
		}
	}
	for _, ni := range ifaces {
		id := aws.ToString(ni.NetworkInterfaceId)
		if slices.ContainsFunc(st.Interfaces, func(i Interface) bool { return i.ID == id }) {
			continue
		}
		in := Interface{ID: id, RequesterManaged: aws.ToBool(ni.RequesterManaged), Description: aws.ToString(ni.Description)}
		for _, gi := range ni.Groups {
			in.Groups = append(in.Groups, aws.ToString(gi.GroupId))
		}
		st.Interfaces = append(st.Interfaces, in)
	}
	slices.SortFunc(st.Interfaces, func(a, b Interface) int { return cmp.Compare(a.ID, b.ID) })
	return st, nil
}

func describeInterfaces(ctx context.Context, api EC2API, filters ...types.Filter) ([]types.NetworkInterface, error) {
	pages := ec2.NewDescribeNetworkInterfacesPaginator(api, &ec2.DescribeNetworkInterfacesInput{Filters: filters}, func(o *ec2.DescribeNetworkInterfacesPaginatorOptions) {
		o.Limit = 1000
		o.StopOnDuplicateToken = true
	})
	var out []types.NetworkInterface
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeNetworkInterfaces: %w", err)
		}
		out = append(out, page.NetworkInterfaces...)
	}
	return out, nil
}

// toGroup reads a group's inbound rules: one Rule per CIDR. Protocol numbers EC2 may
// return are named, and "-1" (all traffic) has no ports.
func toGroup(sg types.SecurityGroup) Group {
	g := Group{ID: aws.ToString(sg.GroupId), Name: aws.ToString(sg.GroupName), Tags: map[string]string{}}
	for _, t := range sg.Tags {
		g.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, p := range sg.IpPermissions {
		proto := normProto(aws.ToString(p.IpProtocol))
		var from, to int32
		if proto != "-1" {
			from, to = aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
		}
		add := func(s string) {
			if pf, err := netip.ParsePrefix(s); err == nil {
				g.Rules = append(g.Rules, Rule{Protocol: proto, From: from, To: to, CIDR: pf.Masked()})
			}
		}
		for _, r := range p.IpRanges {
			add(aws.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			add(aws.ToString(r.CidrIpv6))
		}
		g.Others += len(p.UserIdGroupPairs) + len(p.PrefixListIds)
	}
	slices.SortFunc(g.Rules, CompareRules)
	return g
}

func normProto(p string) string {
	p = strings.ToLower(p)
	switch p {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "all":
		return "-1"
	}
	return p
}

// permissions groups rules into EC2 permissions, one per protocol and port range, each
// with all its CIDRs: the fewest permissions, in one call.
func permissions(rules []Rule) []types.IpPermission {
	var out []types.IpPermission
	idx := map[PortRange]int{}
	for _, r := range sorted(rules) {
		i, ok := idx[r.Ports()]
		if !ok {
			p := types.IpPermission{IpProtocol: aws.String(r.Protocol)}
			if r.Protocol != "-1" {
				p.FromPort, p.ToPort = aws.Int32(r.From), aws.Int32(r.To)
			}
			out = append(out, p)
			i = len(out) - 1
			idx[r.Ports()] = i
		}
		if r.CIDR.Addr().Is4() {
			out[i].IpRanges = append(out[i].IpRanges, types.IpRange{CidrIp: aws.String(r.CIDR.String())})
		} else {
			out[i].Ipv6Ranges = append(out[i].Ipv6Ranges, types.Ipv6Range{CidrIpv6: aws.String(r.CIDR.String())})
		}
	}
	return out
}

// itoa formats an int64 for messages.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
