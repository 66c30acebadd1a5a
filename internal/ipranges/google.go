package ipranges

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// GoogleRanges is a parsed Google address list: cloud.json (Google Cloud's external
// ranges, with a service and scope per entry) or goog.json (all of Google's ranges,
// without them).
type GoogleRanges struct {
	// SyncToken is the publication time in epoch milliseconds, verbatim.
	SyncToken string
	// CreationTime is as published, e.g. "2026-08-22T09:12:45.02053".
	CreationTime string
	// Prefixes are in file order.
	Prefixes []GooglePrefix
}

// GooglePrefix is one entry. Service ("Google Cloud") and Scope (a region such as
// "asia-east1", or "global") are empty in goog.json.
type GooglePrefix struct {
	Prefix  netip.Prefix
	Service string
	Scope   string
}

type googleDoc struct {
	SyncToken    string        `json:"syncToken"`
	CreationTime string        `json:"creationTime"`
	Prefixes     *[]googleItem `json:"prefixes"`
}

type googleItem struct {
	IPv4Prefix string `json:"ipv4Prefix"`
	IPv6Prefix string `json:"ipv6Prefix"`
	Service    string `json:"service"`
	Scope      string `json:"scope"`
}

// ParseGoogle parses cloud.json or goog.json. Each entry must carry exactly one of
// ipv4Prefix and ipv6Prefix, a CIDR of that family without host bits; an error names
// the first bad entry ("prefixes[7]"). A document without a prefixes array is refused.
func ParseGoogle(r io.Reader) (*GoogleRanges, error) {
	data, err := readBounded(r)
	if err != nil {
		return nil, err
	}
	var doc googleDoc
	if err := decodeJSON(data, &doc); err != nil {
		return nil, err
	}
	if doc.Prefixes == nil {
		return nil, errors.New("no prefixes: not a Google cloud.json or goog.json document")
	}
	out := &GoogleRanges{SyncToken: doc.SyncToken, CreationTime: doc.CreationTime}
	out.Prefixes = make([]GooglePrefix, 0, len(*doc.Prefixes))
	for i, it := range *doc.Prefixes {
		var p netip.Prefix
		var err error
		switch {
		case it.IPv4Prefix != "" && it.IPv6Prefix != "":
			err = errors.New("both ipv4Prefix and ipv6Prefix set")
		case it.IPv4Prefix != "":
			p, err = parseCIDR(it.IPv4Prefix, 4)
		case it.IPv6Prefix != "":
			p, err = parseCIDR(it.IPv6Prefix, 6)
		default:
			err = errors.New("no ipv4Prefix or ipv6Prefix")
		}
		if err != nil {
			return nil, fmt.Errorf("prefixes[%d]: %w", i, err)
		}
		out.Prefixes = append(out.Prefixes, GooglePrefix{Prefix: p, Service: it.Service, Scope: it.Scope})
	}
	return out, nil
}

// Filter returns the distinct prefixes whose service is one of services and whose scope
// is one of scopes, compared without regard to case; an empty list matches every value.
// goog.json entries have no service or scope, so any non-empty filter excludes them.
// Prefixes keep the order of their first occurrence.
func (r *GoogleRanges) Filter(services, scopes []string) []netip.Prefix {
	var out []netip.Prefix
	seen := make(map[netip.Prefix]struct{})
	for _, p := range r.Prefixes {
		if matchAny(services, p.Service) && matchAny(scopes, p.Scope) {
			out = dedup(out, seen, p.Prefix)
		}
	}
	return out
}
