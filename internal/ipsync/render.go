package ipsync

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
)

// ListFormats are the formats WriteList knows.
var ListFormats = []string{"text", "json", "nginx", "nftables"}

var setNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,30}$`)

// WriteList writes the snapshot's prefixes for use outside AWS:
//
//   - text: one CIDR per line after '#' comment lines (readable by the plain-list
//     parser, so it can feed an ip allow-list of gatehouse itself);
//   - json: {"syncToken", "createDate", "md5", "source", "ipv4": [...], "ipv6": [...]};
//   - nginx: "allow CIDR;" lines, to include in a context that ends with "deny all;";
//   - nftables: named interval sets setName_ipv4 and setName_ipv6, to include inside a
//     table.
func WriteList(w io.Writer, format string, snap *Snapshot, setName string) error {
	v4, v6 := snap.Families()
	header := fmt.Sprintf("%s syncToken %s createDate %s md5 %s: %d IPv4 and %d IPv6 prefixes", snap.Origin, snap.SyncToken, snap.CreateDate, snap.MD5, len(v4), len(v6))
	var b strings.Builder
	switch format {
	case "text":
		fmt.Fprintf(&b, "# %s\n", header)
		for _, p := range snap.Prefixes {
			fmt.Fprintln(&b, p)
		}
	case "json":
		doc := struct {
			SyncToken  string         `json:"syncToken"`
			CreateDate string         `json:"createDate"`
			MD5        string         `json:"md5"`
			Source     string         `json:"source"`
			IPv4       []netip.Prefix `json:"ipv4"`
			IPv6       []netip.Prefix `json:"ipv6"`
		}{snap.SyncToken, snap.CreateDate, snap.MD5, snap.Origin, nonNil(v4), nonNil(v6)}
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	case "nginx":
		fmt.Fprintf(&b, "# %s\n# include this where the origin is served, followed by: deny all;\n", header)
		for _, p := range snap.Prefixes {
			fmt.Fprintf(&b, "allow %s;\n", p)
		}
	case "nftables":
		if !setNameRE.MatchString(setName) {
			return fmt.Errorf("set name %q: want a letter then up to 30 letters, digits or _", setName)
		}
		fmt.Fprintf(&b, "# %s\n# include this inside a table, then match with e.g.: ip saddr @%s_ipv4 tcp dport 443 accept\n", header, setName)
		for _, fam := range []struct {
			suffix, typ string
			ps          []netip.Prefix
		}{{"ipv4", "ipv4_addr", v4}, {"ipv6", "ipv6_addr", v6}} {
			fmt.Fprintf(&b, "set %s_%s {\n\ttype %s\n\tflags interval\n", setName, fam.suffix, fam.typ)
			if len(fam.ps) > 0 { // nft refuses an empty element list
				b.WriteString("\telements = {\n")
				for i, p := range fam.ps {
					sep := ","
					if i == len(fam.ps)-1 {
						sep = ""
					}
					fmt.Fprintf(&b, "\t\t%s%s\n", p, sep)
				}
				b.WriteString("\t}\n")
			}
			b.WriteString("}\n")
		}
	default:
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(ListFormats, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func nonNil(ps []netip.Prefix) []netip.Prefix {
	if ps == nil {
		return []netip.Prefix{}
	}
	return ps
}

// WritePlan writes a plan for people: a summary, the numbered calls (with each rule or
// entry when verbose), then what cannot be done and what is worth knowing.
func WritePlan(w io.Writer, p *Plan, verbose bool) error {
	var b strings.Builder
	src := p.Source
	fmt.Fprintf(&b, "sync %s: %s syncToken %s (%s), %d IPv4 and %d IPv6 CIDRs\n", p.Name, src.Origin, src.SyncToken, src.CreateDate, p.IPv4, p.IPv6)
	if s := p.SecurityGroups; s != nil {
		fmt.Fprintf(&b, "security groups in %s: %d IPv4 and %d IPv6 rules, at most %d per group and family: %d group(s) at least; %d managed now, %d after\n",
			s.VPCID, s.IPv4Rules, s.IPv6Rules, s.RulesPerGroup, s.MinGroups, s.Existing, s.After)
	}
	for i, st := range p.Steps {
		fmt.Fprintf(&b, "%3d. %s\n", i+1, describeStepLong(st))
		if !verbose {
			continue
		}
		sign := "+"
		if st.Kind == StepRevoke {
			sign = "-"
		}
		for _, r := range st.Rules {
			fmt.Fprintf(&b, "       %s %s\n", sign, r)
		}
		for _, e := range st.Add {
			fmt.Fprintf(&b, "       + %s\n", e)
		}
		for _, e := range st.Remove {
			fmt.Fprintf(&b, "       - %s\n", e)
		}
	}
	for _, s := range p.Problems {
		fmt.Fprintf(&b, "cannot: %s\n", s)
	}
	for _, s := range p.Warnings {
		fmt.Fprintf(&b, "note: %s\n", s)
	}
	if p.Empty() {
		b.WriteString("nothing to do\n")
	} else {
		fmt.Fprintf(&b, "%d write call(s) planned\n", len(p.Steps))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func describeStepLong(st Step) string {
	switch st.Kind {
	case StepCreateGroup, StepCreatePrefixList:
		var tags []string
		for _, k := range sortedKeys(st.Tags) {
			tags = append(tags, k+"="+st.Tags[k])
		}
		return describeStep(st) + " tagged " + strings.Join(tags, ", ")
	case StepAuthorize:
		if st.AfterRevoke {
			return describeStep(st) + ", into room the revokes free"
		}
	case StepAttach:
		return fmt.Sprintf("attach %s to %s (groups after: %s)", strings.Join(st.Adding, ", "), st.Interface, strings.Join(st.Groups, " "))
	}
	return describeStep(st)
}

// WriteReport writes what a sync applied and what it did not.
func WriteReport(w io.Writer, o *Outcome) error {
	var b strings.Builder
	for _, st := range o.Applied {
		fmt.Fprintf(&b, "applied: %s\n", describeStep(st))
	}
	if r := o.Report; r != nil {
		if r.Failed != nil {
			fmt.Fprintf(&b, "FAILED: %s: %s\n", describeStep(*r.Failed), r.Error)
		}
		for _, st := range r.NotDone {
			fmt.Fprintf(&b, "not applied: %s\n", describeStep(st))
		}
	}
	for _, s := range o.Problems() {
		fmt.Fprintf(&b, "cannot: %s\n", s)
	}
	if len(o.Applied) == 0 && (o.Report == nil || o.Report.Failed == nil) {
		b.WriteString("nothing to do\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
