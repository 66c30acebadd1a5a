package testenv

// ec2fake_sg.go: the security group write actions of the fake EC2 endpoint, with the
// per-group rule quota and EC2's error codes.

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// EC2Quotas are the limits the fake enforces. AWS's defaults are in DefaultEC2Quotas;
// tests lower them to exercise packing with few rules.
type EC2Quotas struct {
	// RulesPerGroup bounds a group's inbound rules, counted separately for IPv4 and IPv6:
	// each CIDR of each permission is one rule, a reference to another group counts once
	// in each family, and a reference to a prefix list counts as that list's MaxEntries
	// in its family (1 for a list the fake does not know).
	RulesPerGroup int
	// GroupsPerInterface bounds the security groups of one network interface.
	GroupsPerInterface int
}

// DefaultEC2Quotas are AWS's default quotas: 60 inbound rules per group and family, 5
// groups per network interface.
var DefaultEC2Quotas = EC2Quotas{RulesPerGroup: 60, GroupsPerInterface: 5}

// SetQuotas replaces the quotas; a zero field keeps AWS's default.
func (e *EC2) SetQuotas(q EC2Quotas) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if q.RulesPerGroup == 0 {
		q.RulesPerGroup = DefaultEC2Quotas.RulesPerGroup
	}
	if q.GroupsPerInterface == 0 {
		q.GroupsPerInterface = DefaultEC2Quotas.GroupsPerInterface
	}
	e.quotas = q
}

// Groups returns copies of every group, in ID order.
func (e *EC2) Groups() []SecurityGroup {
	e.mu.Lock()
	ids := slices.Sorted(maps.Keys(e.groups))
	e.mu.Unlock()
	var out []SecurityGroup
	for _, id := range ids {
		if g, ok := e.Group(id); ok {
			out = append(out, g)
		}
	}
	return out
}

// newID returns a fresh resource ID such as sg-00000000000000001.
func (e *EC2) newID(prefix string) string {
	e.nextID++
	return fmt.Sprintf("%s-%017x", prefix, e.nextID)
}

type createSGResponse struct {
	XMLName   xml.Name          `xml:"CreateSecurityGroupResponse"`
	Xmlns     string            `xml:"xmlns,attr"`
	RequestID string            `xml:"requestId"`
	GroupID   string            `xml:"groupId"`
	Tags      *xmlItems[xmlTag] `xml:"tagSet,omitempty"`
}

// returnResponse is the answer of actions that only report success.
type returnResponse struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Return    bool   `xml:"return"`
}

func okResponse(action string) *returnResponse {
	return &returnResponse{XMLName: xml.Name{Local: action + "Response"}, Xmlns: ec2Namespace, RequestID: "fake-request-id", Return: true}
}

func badParam(format string, args ...any) *EC2Error {
	return &EC2Error{400, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

// createSecurityGroup implements GroupName, GroupDescription, VpcId and
// TagSpecification (resource type security-group). Names are unique per VPC
// (InvalidGroup.Duplicate). The new group has EC2's default egress rule (all traffic to
// 0.0.0.0/0) and no ingress rules.
func createSecurityGroup(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	name, desc, vpc := p.Get("GroupName"), p.Get("GroupDescription"), p.Get("VpcId")
	switch {
	case name == "":
		return nil, &EC2Error{400, "MissingParameter", "The request must contain the parameter groupName"}
	case desc == "":
		return nil, &EC2Error{400, "MissingParameter", "The request must contain the parameter groupDescription"}
	case strings.HasPrefix(name, "sg-"):
		return nil, badParam("Group names may not be in the format sg-*.")
	}
	if vpc == "" {
		vpc = "vpc-default"
	}
	tags, err := tagSpecs(p, "security-group")
	if err != nil {
		return nil, err
	}
	for _, g := range e.groups {
		if g.VPCID == vpc && g.Name == name {
			return nil, &EC2Error{400, "InvalidGroup.Duplicate", fmt.Sprintf("The security group '%s' already exists for VPC '%s'", name, vpc)}
		}
	}
	g := &SecurityGroup{
		ID: e.newID("sg"), Name: name, Description: desc, VPCID: vpc, OwnerID: "123456789012", Tags: tags,
		Egress: []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
	}
	e.groups[g.ID] = g
	resp := &createSGResponse{Xmlns: ec2Namespace, RequestID: "fake-request-id", GroupID: g.ID}
	if len(tags) > 0 {
		resp.Tags = &xmlItems[xmlTag]{}
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			resp.Tags.Items = append(resp.Tags.Items, xmlTag{k, tags[k]})
		}
	}
	return resp, nil
}

// tagSpecs reads TagSpecification.N for resource type rtype.
func tagSpecs(p url.Values, rtype string) (map[string]string, error) {
	tags := map[string]string{}
	for i := 1; p.Has(fmt.Sprintf("TagSpecification.%d.ResourceType", i)); i++ {
		pre := fmt.Sprintf("TagSpecification.%d.", i)
		if rt := p.Get(pre + "ResourceType"); rt != rtype {
			return nil, badParam("'%s' is not a valid taggable resource type for this operation.", rt)
		}
		if err := readTags(p, pre+"Tag", tags); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// readTags reads prefix.N.Key / prefix.N.Value into tags.
func readTags(p url.Values, prefix string, tags map[string]string) error {
	for j := 1; p.Has(fmt.Sprintf("%s.%d.Key", prefix, j)); j++ {
		k := p.Get(fmt.Sprintf("%s.%d.Key", prefix, j))
		if k == "" || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return &EC2Error{400, "InvalidParameterValue", fmt.Sprintf("Tag key '%s' is not allowed", k)}
		}
		tags[k] = p.Get(fmt.Sprintf("%s.%d.Value", prefix, j))
	}
	return nil
}

// createTags implements ResourceId.N (security groups and prefix lists) and Tag.N.
// Every resource must exist; nothing is tagged otherwise.
func createTags(e *EC2, req *EC2Request) (any, error) {
	ids := indexed(req.Params, "ResourceId")
	if len(ids) == 0 {
		return nil, &EC2Error{400, "MissingParameter", "The request must contain the parameter resourceIdSet"}
	}
	tags := map[string]string{}
	if err := readTags(req.Params, "Tag", tags); err != nil {
		return nil, err
	}
	var targets []map[string]string
	for _, id := range ids {
		if g, ok := e.groups[id]; ok {
			if g.Tags == nil {
				g.Tags = map[string]string{}
			}
			targets = append(targets, g.Tags)
		} else if pl, ok := e.prefixLists[id]; ok {
			if pl.Tags == nil {
				pl.Tags = map[string]string{}
			}
			targets = append(targets, pl.Tags)
		} else if strings.HasPrefix(id, "pl-") {
			return nil, &EC2Error{400, "InvalidPrefixListID.NotFound", fmt.Sprintf("The prefix list ID '%s' does not exist", id)}
		} else {
			return nil, &EC2Error{400, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist", id)}
		}
	}
	for _, t := range targets {
		maps.Copy(t, tags)
	}
	return okResponse("CreateTags"), nil
}

// permKey is one rule: a protocol, a port range and one source.
type permKey struct {
	proto    string
	from, to int32
	source   string // a CIDR, "sg:ID" or "pl:ID"
}

// String describes the rule as EC2's duplicate error does.
func (k permKey) String() string {
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", k.source, strings.ToUpper(k.proto), k.from, k.to)
}

// parsePermissions reads IpPermissions.N into rule keys, normalising the protocol as
// EC2 does ("6" is stored as "tcp"). Ports are required for tcp and udp and dropped for
// "-1"; CIDRs must be canonical and of the right family.
func parsePermissions(p url.Values) ([]permKey, error) {
	var out []permKey
	for i := 1; p.Has(fmt.Sprintf("IpPermissions.%d.IpProtocol", i)); i++ {
		pre := fmt.Sprintf("IpPermissions.%d.", i)
		proto := strings.ToLower(p.Get(pre + "IpProtocol"))
		switch proto {
		case "6":
			proto = "tcp"
		case "17":
			proto = "udp"
		case "1":
			proto = "icmp"
		case "all":
			proto = "-1"
		}
		var from, to int32
		if proto != "-1" {
			f, err1 := strconv.ParseInt(p.Get(pre+"FromPort"), 10, 32)
			t, err2 := strconv.ParseInt(p.Get(pre+"ToPort"), 10, 32)
			if err1 != nil || err2 != nil {
				return nil, &EC2Error{400, "InvalidParameterValue", "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."}
			}
			if (proto == "tcp" || proto == "udp") && (f < 0 || t > 65535 || f > t) {
				return nil, badParam("Invalid port range %d-%d", f, t)
			}
			from, to = int32(f), int32(t)
		}
		add := func(source string) { out = append(out, permKey{proto, from, to, source}) }
		for _, c := range indexedField(p, pre+"IpRanges", "CidrIp") {
			if pf, err := netip.ParsePrefix(c); err != nil || !pf.Addr().Is4() || pf != pf.Masked() {
				return nil, badParam("CIDR block %s is malformed", c)
			}
			add(c)
		}
		for _, c := range indexedField(p, pre+"Ipv6Ranges", "CidrIpv6") {
			if pf, err := netip.ParsePrefix(c); err != nil || pf.Addr().Is4() || pf != pf.Masked() {
				return nil, badParam("CIDR block %s is malformed", c)
			}
			add(c)
		}
		for _, id := range indexedField(p, pre+"Groups", "GroupId") {
			add("sg:" + id)
		}
		for _, id := range indexedField(p, pre+"PrefixListIds", "PrefixListId") {
			add("pl:" + id)
		}
	}
	if len(out) == 0 {
		return nil, &EC2Error{400, "MissingParameter", "No IP permissions given"}
	}
	return out, nil
}

// indexedField returns prefix.1.field, prefix.2.field, ... up to the first missing index.
func indexedField(p url.Values, prefix, field string) []string {
	var out []string
	for j := 1; p.Has(fmt.Sprintf("%s.%d.%s", prefix, j, field)); j++ {
		out = append(out, p.Get(fmt.Sprintf("%s.%d.%s", prefix, j, field)))
	}
	return out
}

// keys lists g's ingress rules.
func (g *SecurityGroup) keys() []permKey {
	var out []permKey
	for _, r := range g.Ingress {
		proto := strings.ToLower(r.Protocol)
		from, to := r.FromPort, r.ToPort
		if proto == "-1" {
			from, to = 0, 0
		}
		for _, c := range r.CIDRs {
			out = append(out, permKey{proto, from, to, c})
		}
		for _, c := range r.IPv6CIDRs {
			out = append(out, permKey{proto, from, to, c})
		}
		for _, id := range r.GroupIDs {
			out = append(out, permKey{proto, from, to, "sg:" + id})
		}
		for _, id := range r.PrefixListIDs {
			out = append(out, permKey{proto, from, to, "pl:" + id})
		}
	}
	return out
}

// setKeys replaces g's ingress rules, one Rule per protocol and port range.
func (g *SecurityGroup) setKeys(ks []permKey) {
	g.Ingress = nil
	for _, k := range ks {
		i := slices.IndexFunc(g.Ingress, func(r Rule) bool {
			return r.Protocol == k.proto && r.FromPort == k.from && r.ToPort == k.to
		})
		if i < 0 {
			g.Ingress = append(g.Ingress, Rule{Protocol: k.proto, FromPort: k.from, ToPort: k.to})
			i = len(g.Ingress) - 1
		}
		r := &g.Ingress[i]
		switch src := k.source; {
		case strings.HasPrefix(src, "sg:"):
			r.GroupIDs = append(r.GroupIDs, src[3:])
		case strings.HasPrefix(src, "pl:"):
			r.PrefixListIDs = append(r.PrefixListIDs, src[3:])
		case strings.Contains(src, ":"):
			r.IPv6CIDRs = append(r.IPv6CIDRs, src)
		default:
			r.CIDRs = append(r.CIDRs, src)
		}
	}
}

// ruleCounts weighs rules per family as EC2Quotas.RulesPerGroup describes.
func (e *EC2) ruleCounts(ks []permKey) (v4, v6 int) {
	for _, k := range ks {
		switch src := k.source; {
		case strings.HasPrefix(src, "sg:"):
			v4++
			v6++
		case strings.HasPrefix(src, "pl:"):
			w, v6list := 1, false
			if pl, ok := e.prefixLists[src[3:]]; ok {
				w, v6list = pl.MaxEntries, pl.AddressFamily == "IPv6"
			}
			if v6list {
				v6 += w
			} else {
				v4 += w
			}
		case strings.Contains(src, ":"):
			v6++
		default:
			v4++
		}
	}
	return v4, v6
}

func (e *EC2) groupParam(p url.Values) (*SecurityGroup, error) {
	id := p.Get("GroupId")
	if id == "" {
		return nil, &EC2Error{400, "MissingParameter", "The request must contain the parameter groupId"}
	}
	g, ok := e.groups[id]
	if !ok {
		return nil, &EC2Error{400, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist", id)}
	}
	return g, nil
}

// authorizeIngress implements GroupId and IpPermissions. Like EC2 it is all or nothing:
// a rule that exists already (InvalidPermission.Duplicate) or a result over the quota
// (RulesPerSecurityGroupLimitExceeded) fails the whole call.
func authorizeIngress(e *EC2, req *EC2Request) (any, error) {
	g, err := e.groupParam(req.Params)
	if err != nil {
		return nil, err
	}
	add, err := parsePermissions(req.Params)
	if err != nil {
		return nil, err
	}
	have := g.keys()
	for i, k := range add {
		if slices.Contains(have, k) || slices.Contains(add[:i], k) {
			return nil, &EC2Error{400, "InvalidPermission.Duplicate", fmt.Sprintf("the specified rule %q already exists", k.String())}
		}
	}
	all := append(slices.Clone(have), add...)
	if v4, v6 := e.ruleCounts(all); v4 > e.quotas.RulesPerGroup || v6 > e.quotas.RulesPerGroup {
		return nil, &EC2Error{400, "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached."}
	}
	g.setKeys(all)
	return okResponse("AuthorizeSecurityGroupIngress"), nil
}

// revokeIngress implements GroupId and IpPermissions with the behaviour of a
// non-default VPC: a rule that does not exist fails the whole call with
// InvalidPermission.NotFound and nothing is revoked.
func revokeIngress(e *EC2, req *EC2Request) (any, error) {
	g, err := e.groupParam(req.Params)
	if err != nil {
		return nil, err
	}
	del, err := parsePermissions(req.Params)
	if err != nil {
		return nil, err
	}
	have := g.keys()
	for _, k := range del {
		if !slices.Contains(have, k) {
			return nil, &EC2Error{400, "InvalidPermission.NotFound", "The specified rule does not exist in this security group."}
		}
	}
	g.setKeys(slices.DeleteFunc(have, func(k permKey) bool { return slices.Contains(del, k) }))
	return okResponse("RevokeSecurityGroupIngress"), nil
}
