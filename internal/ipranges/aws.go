package ipranges

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"
)

// AWSRanges is a parsed AWS ip-ranges.json.
type AWSRanges struct {
	// SyncToken is the publication time in epoch seconds, verbatim; a later list has a
	// larger token.
	SyncToken string
	// CreateDate is the publication time as published, "YYYY-MM-DD-hh-mm-ss" in UTC.
	CreateDate string
	// Prefixes holds the IPv4 entries ("prefixes") followed by the IPv6 entries
	// ("ipv6_prefixes"), each in file order. A CIDR appears once per service.
	Prefixes []AWSPrefix
}

// AWSPrefix is one entry of ip-ranges.json.
type AWSPrefix struct {
	Prefix netip.Prefix
	// Region is an AWS region such as "us-east-1", or "GLOBAL".
	Region string
	// Service is e.g. "AMAZON" (a superset of the others), "CLOUDFRONT", "EC2", "S3".
	Service            string
	NetworkBorderGroup string
}

// AWSCreateDateLayout is the time layout of ip-ranges.json's createDate (UTC).
const AWSCreateDateLayout = "2006-01-02-15-04-05"

// Created parses CreateDate.
func (r *AWSRanges) Created() (time.Time, error) {
	return time.ParseInLocation(AWSCreateDateLayout, r.CreateDate, time.UTC)
}

type awsDoc struct {
	SyncToken  string     `json:"syncToken"`
	CreateDate string     `json:"createDate"`
	V4         *[]awsItem `json:"prefixes"`
	V6         *[]awsItem `json:"ipv6_prefixes"`
}

type awsItem struct {
	IPPrefix           string `json:"ip_prefix"`
	IPv6Prefix         string `json:"ipv6_prefix"`
	Region             string `json:"region"`
	Service            string `json:"service"`
	NetworkBorderGroup string `json:"network_border_group"`
}

// ParseAWS parses an AWS ip-ranges.json document. Entries of "prefixes" must carry an
// IPv4 ip_prefix and entries of "ipv6_prefixes" an IPv6 ipv6_prefix, each a CIDR without
// host bits; an error names the first bad entry (e.g. "ipv6_prefixes[3]"). A document
// with neither array is refused as not being an ip-ranges.json at all; unknown fields
// are ignored so that additions by AWS do not break parsing.
func ParseAWS(r io.Reader) (*AWSRanges, error) {
	data, err := readBounded(r)
	if err != nil {
		return nil, err
	}
	var doc awsDoc
	if err := decodeJSON(data, &doc); err != nil {
		return nil, err
	}
	if doc.V4 == nil && doc.V6 == nil {
		return nil, errors.New("no prefixes or ipv6_prefixes: not an AWS ip-ranges.json document")
	}
	out := &AWSRanges{SyncToken: doc.SyncToken, CreateDate: doc.CreateDate}
	var v4, v6 []awsItem
	if doc.V4 != nil {
		v4 = *doc.V4
	}
	if doc.V6 != nil {
		v6 = *doc.V6
	}
	out.Prefixes = make([]AWSPrefix, 0, len(v4)+len(v6))
	for i, it := range v4 {
		p, err := parseCIDR(it.IPPrefix, 4)
		if err != nil {
			return nil, fmt.Errorf("prefixes[%d]: ip_prefix: %w", i, err)
		}
		out.Prefixes = append(out.Prefixes, AWSPrefix{Prefix: p, Region: it.Region, Service: it.Service, NetworkBorderGroup: it.NetworkBorderGroup})
	}
	for i, it := range v6 {
		p, err := parseCIDR(it.IPv6Prefix, 6)
		if err != nil {
			return nil, fmt.Errorf("ipv6_prefixes[%d]: ipv6_prefix: %w", i, err)
		}
		out.Prefixes = append(out.Prefixes, AWSPrefix{Prefix: p, Region: it.Region, Service: it.Service, NetworkBorderGroup: it.NetworkBorderGroup})
	}
	return out, nil
}

// Services returns the distinct service names of the list, sorted: what Filter can
// select (for an error that says what a typo could have meant).
func (r *AWSRanges) Services() []string {
	var out []string
	for _, p := range r.Prefixes {
		if !slices.Contains(out, p.Service) {
			out = append(out, p.Service)
		}
	}
	slices.Sort(out)
	return out
}

// Filter returns the distinct prefixes whose service is one of services and whose region
// is one of regions, compared without regard to case; an empty list matches every value.
// Prefixes keep the order of their first occurrence.
func (r *AWSRanges) Filter(services, regions []string) []netip.Prefix {
	var out []netip.Prefix
	seen := make(map[netip.Prefix]struct{})
	for _, p := range r.Prefixes {
		if matchAny(services, p.Service) && matchAny(regions, p.Region) {
			out = dedup(out, seen, p.Prefix)
		}
	}
	return out
}
