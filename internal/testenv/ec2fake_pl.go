package testenv

// ec2fake_pl.go: customer-managed prefix lists in the fake EC2 endpoint, with EC2's
// version check, modification states, entry limits and error codes.

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// PrefixList is a managed prefix list in the fake's model.
type PrefixList struct {
	ID            string // pl-...
	Name          string
	AddressFamily string // IPv4 or IPv6
	MaxEntries    int
	Version       int64
	// State is create-complete, modify-in-progress, modify-complete...
	State   string
	OwnerID string // default 123456789012; "AWS" for an AWS-managed list
	Tags    map[string]string
	Entries []PrefixListEntry

	pending int    // Describe calls before a modification completes
	token   string // the ClientToken that created it
}

// PrefixListEntry is one CIDR of a prefix list.
type PrefixListEntry struct {
	CIDR        string
	Description string
}

// PutPrefixList adds pl, or replaces the list with its ID. The fake keeps a copy.
func (e *EC2) PutPrefixList(pl PrefixList) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if pl.OwnerID == "" {
		pl.OwnerID = "123456789012"
	}
	if pl.State == "" {
		pl.State = "create-complete"
	}
	if pl.Version == 0 {
		pl.Version = 1
	}
	pl.Tags, pl.Entries = maps.Clone(pl.Tags), slices.Clone(pl.Entries)
	e.prefixLists[pl.ID] = &pl
}

// PrefixList returns a copy of the prefix list with the given ID.
func (e *EC2) PrefixList(id string) (PrefixList, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pl, ok := e.prefixLists[id]
	if !ok {
		return PrefixList{}, false
	}
	c := *pl
	c.Tags, c.Entries = maps.Clone(pl.Tags), slices.Clone(pl.Entries)
	return c, true
}

// PrefixLists returns copies of every prefix list, in ID order.
func (e *EC2) PrefixLists() []PrefixList {
	e.mu.Lock()
	ids := slices.Sorted(maps.Keys(e.prefixLists))
	e.mu.Unlock()
	var out []PrefixList
	for _, id := range ids {
		if pl, ok := e.PrefixList(id); ok {
			out = append(out, pl)
		}
	}
	return out
}

// SetPrefixListDelay makes each modification stay modify-in-progress for the next n
// DescribeManagedPrefixLists calls that list it (0, the default: complete at once), as
// EC2 applies changes asynchronously.
func (e *EC2) SetPrefixListDelay(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.plDelay = n
}

type xmlPrefixList struct {
	ID            string            `xml:"prefixListId"`
	AddressFamily string            `xml:"addressFamily"`
	State         string            `xml:"state"`
	ARN           string            `xml:"prefixListArn"`
	Name          string            `xml:"prefixListName"`
	MaxEntries    int               `xml:"maxEntries"`
	Version       int64             `xml:"version"`
	Tags          *xmlItems[xmlTag] `xml:"tagSet,omitempty"`
	OwnerID       string            `xml:"ownerId"`
}

func (pl *PrefixList) toXML() xmlPrefixList {
	x := xmlPrefixList{
		ID: pl.ID, AddressFamily: pl.AddressFamily, State: pl.State, Name: pl.Name, MaxEntries: pl.MaxEntries,
		Version: pl.Version, OwnerID: pl.OwnerID, ARN: "arn:aws:ec2:us-east-1:" + pl.OwnerID + ":prefix-list/" + pl.ID,
	}
	if len(pl.Tags) > 0 {
		x.Tags = &xmlItems[xmlTag]{}
		for _, k := range slices.Sorted(maps.Keys(pl.Tags)) {
			x.Tags.Items = append(x.Tags.Items, xmlTag{k, pl.Tags[k]})
		}
	}
	return x
}

type prefixListResponse struct {
	XMLName    xml.Name
	Xmlns      string        `xml:"xmlns,attr"`
	RequestID  string        `xml:"requestId"`
	PrefixList xmlPrefixList `xml:"prefixList"`
}

func plNotFound(id string) *EC2Error {
	return &EC2Error{400, "InvalidPrefixListID.NotFound", fmt.Sprintf("The prefix list ID '%s' does not exist", id)}
}

// checkEntry validates a CIDR for a list of the given family.
func checkEntry(c, family string) error {
	p, err := netip.ParsePrefix(c)
	if err != nil || p != p.Masked() || p.Addr().Is4() != (family == "IPv4") {
		return badParam("The CIDR '%s' is not a valid %s CIDR", c, family)
	}
	return nil
}

// createManagedPrefixList implements PrefixListName, AddressFamily, MaxEntries (1-1000),
// Entry.N, TagSpecification (prefix-list) and ClientToken: a repeated token returns the
// list it created instead of a second one.
func createManagedPrefixList(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	resp := func(pl *PrefixList) *prefixListResponse {
		return &prefixListResponse{XMLName: xml.Name{Local: "CreateManagedPrefixListResponse"}, Xmlns: ec2Namespace, RequestID: "fake-request-id", PrefixList: pl.toXML()}
	}
	if tok := p.Get("ClientToken"); tok != "" {
		for _, pl := range e.prefixLists {
			if pl.token == tok {
				return resp(pl), nil
			}
		}
	}
	name, family := p.Get("PrefixListName"), p.Get("AddressFamily")
	maxEntries, err := strconv.Atoi(p.Get("MaxEntries"))
	switch {
	case name == "":
		return nil, &EC2Error{400, "MissingParameter", "The request must contain the parameter PrefixListName"}
	case strings.HasPrefix(strings.ToLower(name), "com.amazonaws"):
		return nil, badParam("Prefix list names cannot start with com.amazonaws")
	case family != "IPv4" && family != "IPv6":
		return nil, badParam("Invalid AddressFamily '%s'", family)
	case err != nil || maxEntries < 1 || maxEntries > 1000:
		return nil, badParam("MaxEntries must be between 1 and 1000")
	}
	tags, err := tagSpecs(p, "prefix-list")
	if err != nil {
		return nil, err
	}
	pl := &PrefixList{ID: e.newID("pl"), Name: name, AddressFamily: family, MaxEntries: maxEntries, Version: 1,
		State: "create-complete", OwnerID: "123456789012", Tags: tags}
	for j := 1; p.Has(fmt.Sprintf("Entry.%d.Cidr", j)); j++ {
		c := p.Get(fmt.Sprintf("Entry.%d.Cidr", j))
		if err := checkEntry(c, family); err != nil {
			return nil, err
		}
		pl.Entries = append(pl.Entries, PrefixListEntry{c, p.Get(fmt.Sprintf("Entry.%d.Description", j))})
	}
	if len(pl.Entries) > maxEntries {
		return nil, &EC2Error{400, "PrefixListMaxEntriesExceeded", "The prefix list has exceeded its maximum number of entries."}
	}
	pl.token = p.Get("ClientToken")
	e.prefixLists[pl.ID] = pl
	return resp(pl), nil
}

// describeManagedPrefixLists implements PrefixListId.N, the filters prefix-list-id,
// prefix-list-name and owner-id, MaxResults (1-100) and NextToken. Listing a list whose
// modification is in progress counts down SetPrefixListDelay.
func describeManagedPrefixLists(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	ids := indexed(p, "PrefixListId")
	for _, id := range ids {
		if _, ok := e.prefixLists[id]; !ok {
			return nil, plNotFound(id)
		}
	}
	filters, err := parseFilters(p, func(n string) bool {
		return slices.Contains([]string{"prefix-list-id", "prefix-list-name", "owner-id"}, n)
	})
	if err != nil {
		return nil, err
	}
	var matched []*PrefixList
	for _, id := range slices.Sorted(maps.Keys(e.prefixLists)) {
		pl := e.prefixLists[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		if filters.match(func(n string) []string {
			return map[string][]string{"prefix-list-id": {pl.ID}, "prefix-list-name": {pl.Name}, "owner-id": {pl.OwnerID}}[n]
		}) {
			matched = append(matched, pl)
		}
	}
	page, next, err := paginate(e, p, matched, 1, 100)
	if err != nil {
		return nil, err
	}
	type response struct {
		XMLName   xml.Name                `xml:"DescribeManagedPrefixListsResponse"`
		Xmlns     string                  `xml:"xmlns,attr"`
		RequestID string                  `xml:"requestId"`
		Lists     xmlItems[xmlPrefixList] `xml:"prefixListSet"`
		NextToken string                  `xml:"nextToken,omitempty"`
	}
	resp := &response{Xmlns: ec2Namespace, RequestID: "fake-request-id", NextToken: next}
	for _, pl := range page {
		if pl.pending > 0 {
			pl.pending--
		} else if pl.State == "modify-in-progress" {
			pl.State = "modify-complete"
		}
		resp.Lists.Items = append(resp.Lists.Items, pl.toXML())
	}
	return resp, nil
}

// getManagedPrefixListEntries implements PrefixListId, TargetVersion (the current one
// only), MaxResults (1-100) and NextToken. Entries are listed in the order added.
func getManagedPrefixListEntries(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	pl, ok := e.prefixLists[p.Get("PrefixListId")]
	if !ok {
		return nil, plNotFound(p.Get("PrefixListId"))
	}
	if v := p.Get("TargetVersion"); v != "" && v != strconv.FormatInt(pl.Version, 10) {
		return nil, badParam("The fake keeps only the current version (%d) of %s", pl.Version, pl.ID)
	}
	page, next, err := paginate(e, p, pl.Entries, 1, 100)
	if err != nil {
		return nil, err
	}
	type entry struct {
		CIDR        string `xml:"cidr"`
		Description string `xml:"description,omitempty"`
	}
	type response struct {
		XMLName   xml.Name        `xml:"GetManagedPrefixListEntriesResponse"`
		Xmlns     string          `xml:"xmlns,attr"`
		RequestID string          `xml:"requestId"`
		Entries   xmlItems[entry] `xml:"entrySet"`
		NextToken string          `xml:"nextToken,omitempty"`
	}
	resp := &response{Xmlns: ec2Namespace, RequestID: "fake-request-id", NextToken: next}
	for _, en := range page {
		resp.Entries.Items = append(resp.Entries.Items, entry(en))
	}
	return resp, nil
}

// modifyManagedPrefixList implements PrefixListId, CurrentVersion, AddEntry.N,
// RemoveEntry.N and MaxEntries, with EC2's checks: the list must not be mid-change
// (IncorrectState), CurrentVersion must be the current one (PrefixListVersionMismatch),
// at most 100 additions and 100 removals, entries and size not changed together, no
// removal of a missing entry or addition of a present one
// (InvalidPrefixListModification), and the result within MaxEntries
// (PrefixListMaxEntriesExceeded). A change bumps the version.
func modifyManagedPrefixList(e *EC2, req *EC2Request) (any, error) {
	p := req.Params
	pl, ok := e.prefixLists[p.Get("PrefixListId")]
	if !ok {
		return nil, plNotFound(p.Get("PrefixListId"))
	}
	if pl.OwnerID == "AWS" {
		return nil, &EC2Error{400, "UnauthorizedOperation", "AWS-managed prefix lists cannot be modified"}
	}
	if !strings.HasSuffix(pl.State, "-complete") {
		return nil, &EC2Error{400, "IncorrectState", fmt.Sprintf("The prefix list %s is in the current state (%s) which is not valid for this operation.", pl.ID, pl.State)}
	}
	if v := p.Get("CurrentVersion"); v != "" && v != strconv.FormatInt(pl.Version, 10) {
		return nil, &EC2Error{400, "PrefixListVersionMismatch", "The prefix list has the incorrect version number."}
	}
	add := indexedField(p, "AddEntry", "Cidr")
	del := indexedField(p, "RemoveEntry", "Cidr")
	if len(add) > 100 || len(del) > 100 {
		return nil, badParam("The request cannot contain more than 100 entry additions or removals.")
	}
	newMax := pl.MaxEntries
	if s := p.Get("MaxEntries"); s != "" {
		if len(add)+len(del) > 0 {
			return nil, &EC2Error{400, "InvalidParameterCombination", "You cannot modify the entries of a prefix list and modify the size of a prefix list at the same time."}
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return nil, badParam("MaxEntries must be between 1 and 1000")
		}
		newMax = n
	}
	entries := slices.Clone(pl.Entries)
	has := func(c string) bool {
		return slices.ContainsFunc(entries, func(en PrefixListEntry) bool { return en.CIDR == c })
	}
	for _, c := range del {
		if !has(c) {
			return nil, &EC2Error{400, "InvalidPrefixListModification", fmt.Sprintf("The prefix list entry %s does not exist.", c)}
		}
		entries = slices.DeleteFunc(entries, func(en PrefixListEntry) bool { return en.CIDR == c })
	}
	for j, c := range add {
		if err := checkEntry(c, pl.AddressFamily); err != nil {
			return nil, err
		}
		if has(c) {
			return nil, &EC2Error{400, "InvalidPrefixListModification", fmt.Sprintf("The prefix list entry %s already exists.", c)}
		}
		entries = append(entries, PrefixListEntry{c, p.Get(fmt.Sprintf("AddEntry.%d.Description", j+1))})
	}
	if len(entries) > newMax {
		return nil, &EC2Error{400, "PrefixListMaxEntriesExceeded", "The prefix list has exceeded its maximum number of entries."}
	}
	pl.Entries, pl.MaxEntries = entries, newMax
	if len(add)+len(del) > 0 {
		pl.Version++
	}
	pl.State, pl.pending = "modify-in-progress", e.plDelay
	return &prefixListResponse{XMLName: xml.Name{Local: "ModifyManagedPrefixListResponse"}, Xmlns: ec2Namespace, RequestID: "fake-request-id", PrefixList: pl.toXML()}, nil
}
