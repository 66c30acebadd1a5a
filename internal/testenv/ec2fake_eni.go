package testenv

// ec2fake_eni.go: network interfaces in the fake EC2 endpoint: listing them, and
// replacing an interface's security groups within the groups-per-interface quota.

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// NetworkInterface is an elastic network interface in the fake's model.
type NetworkInterface struct {
	ID          string // eni-...
	VPCID       string
	Description string
	// RequesterManaged marks an interface another service created and manages (a load
	// balancer's, for instance): EC2 refuses to change its groups directly.
	RequesterManaged bool
	GroupIDs         []string
}

// PutInterface adds ni, or replaces the interface with its ID. The fake keeps a copy.
func (e *EC2) PutInterface(ni NetworkInterface) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ni.GroupIDs = slices.Clone(ni.GroupIDs)
	e.interfaces[ni.ID] = &ni
}

// Interface returns a copy of the interface with the given ID.
func (e *EC2) Interface(id string) (NetworkInterface, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ni, ok := e.interfaces[id]
	if !ok {
		return NetworkInterface{}, false
	}
	c := *ni
	c.GroupIDs = slices.Clone(ni.GroupIDs)
	return c, true
}

// DetachGroup removes a group from every interface, as an operator must before deleting
// it; DeleteGroup then removes it.
func (e *EC2) DetachGroup(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ni := range e.interfaces {
		ni.GroupIDs = slices.DeleteFunc(ni.GroupIDs, func(g string) bool { return g == id })
	}
}

type describeENIResponse struct {
	XMLName    xml.Name         `xml:"DescribeNetworkInterfacesResponse"`
	Xmlns      string           `xml:"xmlns,attr"`
	RequestID  string           `xml:"requestId"`
	Interfaces xmlItems[xmlENI] `xml:"networkInterfaceSet"`
	NextToken  string           `xml:"nextToken,omitempty"`
}

type xmlENI struct {
	ID               string                  `xml:"networkInterfaceId"`
	VPCID            string                  `xml:"vpcId"`
	Description      string                  `xml:"description"`
	InterfaceType    string                  `xml:"interfaceType"`
	Status           string                  `xml:"status"`
	RequesterManaged bool                    `xml:"requesterManaged"`
	Groups           xmlItems[xmlGroupIdent] `xml:"groupSet"`
}

type xmlGroupIdent struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

// describeNetworkInterfaces implements NetworkInterfaceId.N, the filters group-id,
// vpc-id, network-interface-id and requester-managed, MaxResults (5-1000) and
// NextToken. Interfaces are listed in ID order.
func describeNetworkInterfaces(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	ids := indexed(p, "NetworkInterfaceId")
	for _, id := range ids {
		if _, ok := e.interfaces[id]; !ok {
			return nil, &EC2Error{400, "InvalidNetworkInterfaceID.NotFound", fmt.Sprintf("The networkInterface ID '%s' does not exist", id)}
		}
	}
	field := func(ni *NetworkInterface, name string) []string {
		switch name {
		case "group-id":
			return ni.GroupIDs
		case "vpc-id":
			return []string{ni.VPCID}
		case "network-interface-id":
			return []string{ni.ID}
		case "requester-managed":
			return []string{strconv.FormatBool(ni.RequesterManaged)}
		}
		return nil
	}
	filters, err := parseFilters(p, func(name string) bool {
		return slices.Contains([]string{"group-id", "vpc-id", "network-interface-id", "requester-managed"}, name)
	})
	if err != nil {
		return nil, err
	}
	var matched []*NetworkInterface
	for _, id := range slices.Sorted(maps.Keys(e.interfaces)) {
		ni := e.interfaces[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		if filters.match(func(name string) []string { return field(ni, name) }) {
			matched = append(matched, ni)
		}
	}
	page, next, err := paginate(e, p, matched, 5, 1000)
	if err != nil {
		return nil, err
	}
	resp := &describeENIResponse{Xmlns: ec2Namespace, RequestID: "fake-request-id", NextToken: next}
	for _, ni := range page {
		x := xmlENI{ID: ni.ID, VPCID: ni.VPCID, Description: ni.Description, InterfaceType: "interface", Status: "in-use", RequesterManaged: ni.RequesterManaged}
		for _, g := range ni.GroupIDs {
			name := ""
			if sg, ok := e.groups[g]; ok {
				name = sg.Name
			}
			x.Groups.Items = append(x.Groups.Items, xmlGroupIdent{GroupID: g, GroupName: name})
		}
		resp.Interfaces.Items = append(resp.Interfaces.Items, x)
	}
	return resp, nil
}

// modifyNetworkInterfaceAttribute implements NetworkInterfaceId with SecurityGroupId.N,
// which replaces the interface's groups: they must exist, be in the interface's VPC and
// number at most the groups-per-interface quota (SecurityGroupsPerInterfaceLimitExceeded).
func modifyNetworkInterfaceAttribute(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	id := p.Get("NetworkInterfaceId")
	ni, ok := e.interfaces[id]
	if !ok {
		return nil, &EC2Error{400, "InvalidNetworkInterfaceID.NotFound", fmt.Sprintf("The networkInterface ID '%s' does not exist", id)}
	}
	groups := indexed(p, "SecurityGroupId")
	if len(groups) == 0 {
		return nil, &EC2Error{400, "MissingParameter", "The request must contain the parameter groupSet"}
	}
	if ni.RequesterManaged {
		return nil, &EC2Error{400, "OperationNotPermitted", fmt.Sprintf("The network interface %s is managed by another service and its groups cannot be changed directly.", id)}
	}
	for _, g := range groups {
		sg, ok := e.groups[g]
		if !ok {
			return nil, &EC2Error{400, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist", g)}
		}
		if sg.VPCID != ni.VPCID {
			return nil, badParam("You have specified two resources that belong to different networks.")
		}
	}
	slices.Sort(groups)
	groups = slices.Compact(groups)
	if len(groups) > e.quotas.GroupsPerInterface {
		return nil, &EC2Error{400, "SecurityGroupsPerInterfaceLimitExceeded", "You have exceeded the maximum number of security groups allowed per network interface."}
	}
	ni.GroupIDs = groups
	return okResponse("ModifyNetworkInterfaceAttribute"), nil
}

// filterSet is the Filter.N.Name / Filter.N.Value.M parameters of a Describe call.
type filterSet []struct {
	name   string
	values []string
}

func parseFilters(p url.Values, known func(string) bool) (filterSet, error) {
	var fs filterSet
	for i := 1; p.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
		name := p.Get(fmt.Sprintf("Filter.%d.Name", i))
		if !known(name) {
			return nil, &EC2Error{400, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", name)}
		}
		fs = append(fs, struct {
			name   string
			values []string
		}{name, indexed(p, fmt.Sprintf("Filter.%d.Value", i))})
	}
	return fs, nil
}

// match combines filters with AND and each filter's values with OR; values may use the
// * and ? wildcards.
func (fs filterSet) match(field func(name string) []string) bool {
	for _, f := range fs {
		got := field(f.name)
		if !slices.ContainsFunc(f.values, func(pat string) bool {
			return slices.ContainsFunc(got, func(v string) bool { return wildcardMatch(pat, v) })
		}) {
			return false
		}
	}
	return true
}

// paginate applies MaxResults (between lo and hi), the fake's page size and NextToken
// to items.
func paginate[T any](e *EC2, p url.Values, items []T, lo, hi int) ([]T, string, error) {
	limit := 0
	if s := p.Get("MaxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return nil, "", badParam("Value ( %s ) for parameter maxResults is invalid. Expecting a value between %d and %d.", s, lo, hi)
		}
		limit = n
	}
	if e.pageSize > 0 && (limit == 0 || e.pageSize < limit) {
		limit = e.pageSize
	}
	start := 0
	if tok := p.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "fake-token-"))
		if err != nil || !strings.HasPrefix(tok, "fake-token-") || n < 0 {
			return nil, "", badParam("The token '%s' is invalid", tok)
		}
		start = n
	}
	start = min(start, len(items))
	end, next := len(items), ""
	if limit > 0 && start+limit < end {
		end = start + limit
		next = fmt.Sprintf("fake-token-%d", end)
	}
	return items[start:end], next, nil
}
