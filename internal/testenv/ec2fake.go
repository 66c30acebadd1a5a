package testenv

// ec2fake.go: an in-process stand-in for the EC2 Query API, so that code using the real
// aws-sdk-go-v2 EC2 client can be tested without AWS. It speaks the wire protocol (form-
// encoded requests, EC2's XML responses and error envelopes), so the SDK's serializers,
// deserializers, paginators and retryer all run for real.

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// EC2 is a fake EC2 endpoint over an in-memory model of security groups, network
// interfaces and customer-managed prefix lists. Point a client
// at URL (ec2.Options.BaseEndpoint) with any static credentials and a region. Requests
// must be SigV4-signed (the signature itself is not checked). It is safe for concurrent
// use; all methods may be called while clients are talking to it.
//
// Actions are routed by name to EC2Action handlers. Built in: DescribeSecurityGroups,
// the security group writes (ec2fake_sg.go), the network interface actions
// (ec2fake_eni.go) and the prefix list actions (ec2fake_pl.go); Handle adds more (or
// replaces one). Unknown actions get EC2's InvalidAction error. The write actions
// enforce the quotas set with SetQuotas and answer with EC2's own error codes.
type EC2 struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string

	srv *httptest.Server

	mu          sync.Mutex
	groups      map[string]*SecurityGroup
	interfaces  map[string]*NetworkInterface
	prefixLists map[string]*PrefixList
	quotas      EC2Quotas
	plDelay     int
	nextID      int
	actions     map[string]EC2Action
	pageSize    int
	faults      []fault
	hooks       []hook
	calls       map[string]int
	requests    []EC2Request
}

// EC2Action handles one action with the fake's lock held. It returns a value that
// encoding/xml marshals as the response document, or an *EC2Error.
type EC2Action func(e *EC2, req *EC2Request) (any, error)

// EC2Request is one request as the fake saw it.
type EC2Request struct {
	Action string
	Params url.Values
	// AccessKeyID and Region are read from the SigV4 Authorization header.
	AccessKeyID string
	Region      string
}

// EC2Error is an EC2 API error: an HTTP status and an EC2 error code such as
// "RequestLimitExceeded" or "InvalidGroup.NotFound".
type EC2Error struct {
	Status  int
	Code    string
	Message string
}

// Error formats the status, code and message.
func (e *EC2Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Throttled is the error EC2 returns when an account's request rate is exceeded, with
// the given HTTP status (EC2 uses 503; some endpoints answer 400). The SDK's standard
// retryer retries it.
func Throttled(status int) EC2Error {
	return EC2Error{Status: status, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
}

// SecurityGroup is a group in the fake's model.
type SecurityGroup struct {
	ID          string // sg-...
	Name        string
	Description string
	VPCID       string
	OwnerID     string // default 123456789012
	Tags        map[string]string
	Ingress     []Rule
	Egress      []Rule
}

// Rule is one IP permission. Protocol is "tcp", "udp", "icmp", a protocol number, or
// "-1" (all traffic, in which case the ports are not sent, as EC2 does).
type Rule struct {
	Protocol         string
	FromPort, ToPort int32
	CIDRs            []string // IPv4
	IPv6CIDRs        []string
	GroupIDs         []string // referenced security groups
	PrefixListIDs    []string
}

type fault struct {
	action string // "" = any
	skip   int    // matching requests to let through first
	err    EC2Error
}

type hook struct {
	action string
	fn     func()
}

// NewEC2 starts a fake with no groups, the default quotas, and every built-in action;
// it is closed when the test ends.
func NewEC2(tb testing.TB) *EC2 {
	e := &EC2{
		groups:      map[string]*SecurityGroup{},
		interfaces:  map[string]*NetworkInterface{},
		prefixLists: map[string]*PrefixList{},
		quotas:      DefaultEC2Quotas,
		actions: map[string]EC2Action{
			"DescribeSecurityGroups":          describeSecurityGroups,
			"CreateSecurityGroup":             createSecurityGroup,
			"CreateTags":                      createTags,
			"AuthorizeSecurityGroupIngress":   authorizeIngress,
			"RevokeSecurityGroupIngress":      revokeIngress,
			"DescribeNetworkInterfaces":       describeNetworkInterfaces,
			"ModifyNetworkInterfaceAttribute": modifyNetworkInterfaceAttribute,
			"CreateManagedPrefixList":         createManagedPrefixList,
			"DescribeManagedPrefixLists":      describeManagedPrefixLists,
			"GetManagedPrefixListEntries":     getManagedPrefixListEntries,
			"ModifyManagedPrefixList":         modifyManagedPrefixList,
		},
		calls: map[string]int{},
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serveHTTP))
	e.URL = e.srv.URL
	tb.Cleanup(e.srv.Close)
	return e
}

// Handle routes action to h, replacing any handler it had.
func (e *EC2) Handle(action string, h EC2Action) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.actions[action] = h
}

// PutGroup adds g, or replaces the group with its ID. The fake keeps a copy.
func (e *EC2) PutGroup(g SecurityGroup) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g.OwnerID == "" {
		g.OwnerID = "123456789012"
	}
	g.Tags = maps.Clone(g.Tags)
	g.Ingress, g.Egress = cloneRules(g.Ingress), cloneRules(g.Egress)
	e.groups[g.ID] = &g
}

// DeleteGroup removes the group with the given ID, if any, as an operator could in the
// console (EC2 requires it detached first: see DetachGroup).
func (e *EC2) DeleteGroup(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.groups, id)
}

// Group returns a copy of the group with the given ID.
func (e *EC2) Group(id string) (SecurityGroup, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.groups[id]
	if !ok {
		return SecurityGroup{}, false
	}
	c := *g
	c.Tags, c.Ingress, c.Egress = maps.Clone(g.Tags), cloneRules(g.Ingress), cloneRules(g.Egress)
	return c, true
}

// SetPageSize caps the items per page of paginated responses (0: no cap beyond the
// request's MaxResults), so that pagination can be tested with a few groups.
func (e *EC2) SetPageSize(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pageSize = n
}

// FailNext makes the next n requests for action ("" = any action) fail with err. Faults
// queue in order: FailNext(2, "", Throttled(503)) then FailNext(1, "", x) fails three
// requests.
func (e *EC2) FailNext(n int, action string, err EC2Error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for range n {
		e.faults = append(e.faults, fault{action: action, err: err})
	}
}

// FailAfter lets skip requests for action ("" = any action) through, then fails the
// next one with err: FailAfter(1, "AuthorizeSecurityGroupIngress", x) fails the second
// authorization, to test a failure half-way through a run. It queues with FailNext.
func (e *EC2) FailAfter(skip int, action string, err EC2Error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, fault{action: action, skip: skip, err: err})
}

// Before runs fn once, just before the next request for action is handled and without
// the fake's lock held, so fn may change the model (PutGroup...) the way another client
// would between two of the tested client's calls.
func (e *EC2) Before(action string, fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hooks = append(e.hooks, hook{action, fn})
}

// WriteCalls counts the requests received for actions that change state (every action
// whose name does not start with Describe or Get), failed ones included.
func (e *EC2) WriteCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for a, c := range e.calls {
		if !strings.HasPrefix(a, "Describe") && !strings.HasPrefix(a, "Get") {
			n += c
		}
	}
	return n
}

// Calls counts the requests received for action, failed ones included.
func (e *EC2) Calls(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[action]
}

// Requests returns the requests received so far, oldest first.
func (e *EC2) Requests() []EC2Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

func (e *EC2) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeEC2Error(w, &EC2Error{Status: 400, Code: "MalformedQueryString", Message: err.Error()})
		return
	}
	req := &EC2Request{Action: r.Form.Get("Action"), Params: r.Form}
	req.AccessKeyID, req.Region = parseSigV4(r.Header.Get("Authorization"))

	e.mu.Lock()
	for i, h := range e.hooks {
		if h.action == req.Action {
			e.hooks = slices.Delete(e.hooks, i, i+1)
			e.mu.Unlock()
			h.fn()
			e.mu.Lock()
			break
		}
	}
	defer e.mu.Unlock()
	e.calls[req.Action]++
	e.requests = append(e.requests, *req)
	if req.AccessKeyID == "" {
		writeEC2Error(w, &EC2Error{Status: 401, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"})
		return
	}
	for i, f := range e.faults {
		if f.action == "" || f.action == req.Action {
			if f.skip > 0 {
				e.faults[i].skip--
				break
			}
			e.faults = slices.Delete(e.faults, i, i+1)
			writeEC2Error(w, &f.err)
			return
		}
	}
	h, ok := e.actions[req.Action]
	if !ok {
		writeEC2Error(w, &EC2Error{Status: 400, Code: "InvalidAction", Message: fmt.Sprintf("The action %s is not valid for this web service.", req.Action)})
		return
	}
	resp, err := h(e, req)
	if err != nil {
		ee, ok := err.(*EC2Error)
		if !ok {
			ee = &EC2Error{Status: 500, Code: "InternalError", Message: err.Error()}
		}
		writeEC2Error(w, ee)
		return
	}
	body, err := xml.Marshal(resp)
	if err != nil {
		writeEC2Error(w, &EC2Error{Status: 500, Code: "InternalError", Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// parseSigV4 reads the access key and region from
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, ...".
func parseSigV4(h string) (akid, region string) {
	_, cred, ok := strings.Cut(h, "Credential=")
	if !ok || !strings.HasPrefix(h, "AWS4-HMAC-SHA256 ") {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 3 {
		return "", ""
	}
	return parts[0], parts[2]
}

func writeEC2Error(w http.ResponseWriter, e *EC2Error) {
	type xmlError struct {
		Code    string
		Message string
	}
	doc := struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []xmlError `xml:"Errors>Error"`
		RequestID string
	}{Errors: []xmlError{{e.Code, e.Message}}, RequestID: "fake-request-id"}
	body, _ := xml.Marshal(doc)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// ---- DescribeSecurityGroups ----

const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

type xmlItems[T any] struct {
	Items []T `xml:"item"`
}

type describeSGResponse struct {
	XMLName   xml.Name        `xml:"DescribeSecurityGroupsResponse"`
	Xmlns     string          `xml:"xmlns,attr"`
	RequestID string          `xml:"requestId"`
	Groups    xmlItems[xmlSG] `xml:"securityGroupInfo"`
	NextToken string          `xml:"nextToken,omitempty"`
}

type xmlSG struct {
	OwnerID     string                  `xml:"ownerId"`
	GroupID     string                  `xml:"groupId"`
	GroupName   string                  `xml:"groupName"`
	Description string                  `xml:"groupDescription"`
	VPCID       string                  `xml:"vpcId,omitempty"`
	Ingress     xmlItems[xmlPermission] `xml:"ipPermissions"`
	Egress      xmlItems[xmlPermission] `xml:"ipPermissionsEgress"`
	Tags        *xmlItems[xmlTag]       `xml:"tagSet,omitempty"`
}

type xmlPermission struct {
	Protocol    string                `xml:"ipProtocol"`
	FromPort    *int32                `xml:"fromPort,omitempty"`
	ToPort      *int32                `xml:"toPort,omitempty"`
	Groups      xmlItems[xmlGroupRef] `xml:"groups"`
	IPRanges    xmlItems[xmlIPRange]  `xml:"ipRanges"`
	IPv6Ranges  xmlItems[xmlIPv6]     `xml:"ipv6Ranges"`
	PrefixLists xmlItems[xmlPrefixID] `xml:"prefixListIds"`
}

type (
	xmlGroupRef struct {
		UserID  string `xml:"userId"`
		GroupID string `xml:"groupId"`
	}
	xmlIPRange struct {
		CIDR string `xml:"cidrIp"`
	}
	xmlIPv6 struct {
		CIDR string `xml:"cidrIpv6"`
	}
	xmlPrefixID struct {
		ID string `xml:"prefixListId"`
	}
	xmlTag struct {
		Key   string `xml:"key"`
		Value string `xml:"value"`
	}
)

// describeSecurityGroups implements GroupId.N, GroupName.N, Filter.N.Name /
// Filter.N.Value.M (vpc-id, group-id, group-name, description, owner-id, tag:KEY,
// tag-key; values may use the * and ? wildcards), MaxResults (5-1000) and NextToken.
// Filters combine with AND, values within a filter with OR. Groups are listed in ID
// order.
func describeSecurityGroups(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	ids, names := indexed(p, "GroupId"), indexed(p, "GroupName")
	for _, id := range ids {
		if _, ok := e.groups[id]; !ok {
			return nil, &EC2Error{400, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist", id)}
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(slices.Collect(maps.Values(e.groups)), func(g *SecurityGroup) bool { return g.Name == n }) {
			return nil, &EC2Error{400, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist in default VPC", n)}
		}
	}
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for i := 1; p.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
		f := filter{p.Get(fmt.Sprintf("Filter.%d.Name", i)), indexed(p, fmt.Sprintf("Filter.%d.Value", i))}
		if groupField(&SecurityGroup{}, f.name) == nil {
			return nil, &EC2Error{400, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", f.name)}
		}
		filters = append(filters, f)
	}
	limit := 0
	if s := p.Get("MaxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 5 || n > 1000 {
			return nil, &EC2Error{400, "InvalidParameterValue", fmt.Sprintf("Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", s)}
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
			return nil, &EC2Error{400, "InvalidParameterValue", "The token '" + tok + "' is invalid"}
		}
		start = n
	}

	var matched []*SecurityGroup
	for _, id := range slices.Sorted(maps.Keys(e.groups)) {
		g := e.groups[id]
		ok := (len(ids) == 0 || slices.Contains(ids, g.ID)) && (len(names) == 0 || slices.Contains(names, g.Name))
		for _, f := range filters {
			ok = ok && slices.ContainsFunc(f.values, func(pat string) bool {
				return slices.ContainsFunc(groupField(g, f.name), func(v string) bool { return wildcardMatch(pat, v) })
			})
		}
		if ok {
			matched = append(matched, g)
		}
	}
	resp := &describeSGResponse{Xmlns: ec2Namespace, RequestID: "fake-request-id"}
	start = min(start, len(matched))
	end := len(matched)
	if limit > 0 && start+limit < end {
		end = start + limit
		resp.NextToken = fmt.Sprintf("fake-token-%d", end)
	}
	for _, g := range matched[start:end] {
		resp.Groups.Items = append(resp.Groups.Items, g.toXML())
	}
	return resp, nil
}

// groupField returns the values a filter name selects on g, or nil for an unknown filter
// name (an empty non-nil slice when the field is just unset).
func groupField(g *SecurityGroup, name string) []string {
	switch name {
	case "vpc-id":
		return []string{g.VPCID}
	case "group-id":
		return []string{g.ID}
	case "group-name":
		return []string{g.Name}
	case "description":
		return []string{g.Description}
	case "owner-id":
		return []string{g.OwnerID}
	case "tag-key":
		return append([]string{}, slices.Collect(maps.Keys(g.Tags))...) // non-nil even when empty
	}
	if key, ok := strings.CutPrefix(name, "tag:"); ok && key != "" {
		if v, ok := g.Tags[key]; ok {
			return []string{v}
		}
		return []string{}
	}
	return nil
}

func (g *SecurityGroup) toXML() xmlSG {
	x := xmlSG{OwnerID: g.OwnerID, GroupID: g.ID, GroupName: g.Name, Description: g.Description, VPCID: g.VPCID}
	for _, r := range g.Ingress {
		x.Ingress.Items = append(x.Ingress.Items, r.toXML(g.OwnerID))
	}
	for _, r := range g.Egress {
		x.Egress.Items = append(x.Egress.Items, r.toXML(g.OwnerID))
	}
	if len(g.Tags) > 0 {
		x.Tags = &xmlItems[xmlTag]{}
		for _, k := range slices.Sorted(maps.Keys(g.Tags)) {
			x.Tags.Items = append(x.Tags.Items, xmlTag{k, g.Tags[k]})
		}
	}
	return x
}

func (r Rule) toXML(owner string) xmlPermission {
	x := xmlPermission{Protocol: r.Protocol}
	if r.Protocol != "-1" {
		x.FromPort, x.ToPort = &r.FromPort, &r.ToPort
	}
	for _, c := range r.CIDRs {
		x.IPRanges.Items = append(x.IPRanges.Items, xmlIPRange{c})
	}
	for _, c := range r.IPv6CIDRs {
		x.IPv6Ranges.Items = append(x.IPv6Ranges.Items, xmlIPv6{c})
	}
	for _, id := range r.GroupIDs {
		x.Groups.Items = append(x.Groups.Items, xmlGroupRef{owner, id})
	}
	for _, id := range r.PrefixListIDs {
		x.PrefixLists.Items = append(x.PrefixLists.Items, xmlPrefixID{id})
	}
	return x
}

// indexed returns the values of a query-protocol list: prefix.1, prefix.2, ... up to the
// first missing index.
func indexed(p url.Values, prefix string) []string {
	var out []string
	for i := 1; p.Has(prefix + "." + strconv.Itoa(i)); i++ {
		out = append(out, p.Get(prefix+"."+strconv.Itoa(i)))
	}
	return out
}

// wildcardMatch matches s against an EC2 filter value, where * matches any run of
// characters and ? any one character.
func wildcardMatch(pat, s string) bool {
	if !strings.ContainsAny(pat, "*?") {
		return pat == s
	}
	p, t := []rune(pat), []rune(s)
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(t) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == t[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			i, mark = star+1, mark+1
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

func cloneRules(rs []Rule) []Rule {
	out := slices.Clone(rs)
	for i := range out {
		r := &out[i]
		r.CIDRs, r.IPv6CIDRs = slices.Clone(r.CIDRs), slices.Clone(r.IPv6CIDRs)
		r.GroupIDs, r.PrefixListIDs = slices.Clone(r.GroupIDs), slices.Clone(r.PrefixListIDs)
	}
	return out
}
