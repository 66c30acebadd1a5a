package ipranges

import (
	"cmp"
	"net/netip"
	"slices"
)

// Aggregate returns the shortest list of prefixes that covers exactly the addresses ps
// covers: duplicates and prefixes inside another are dropped, and two halves of the
// same network are merged into it, repeatedly. Nothing outside the input is ever added,
// so an allow-list built from the result admits the same clients as one built from ps.
//
// The result is sorted, IPv4 before IPv6, then by address; its prefixes are masked
// (canonical) and pairwise disjoint. Invalid prefixes are skipped. An IPv4-mapped IPv6
// prefix stays IPv6: the families are never mixed. ps is not modified.
func Aggregate(ps []netip.Prefix) []netip.Prefix {
	in := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() {
			in = append(in, p.Masked())
		}
	}
	slices.SortFunc(in, ComparePrefix)
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if n := len(out); n > 0 && contains(out[n-1], p) {
			continue // sorted by address then length: only the last kept one can hold p
		}
		out = append(out, p)
		for n := len(out); n >= 2; n = len(out) {
			parent, ok := siblings(out[n-2], out[n-1])
			if !ok {
				break
			}
			out = append(out[:n-2], parent)
		}
	}
	return out
}

// ComparePrefix orders prefixes IPv4 first, then by address, then shorter (larger)
// prefixes first. It is the order of Aggregate's result and of every sorted list of
// prefixes gatehouse prints.
func ComparePrefix(a, b netip.Prefix) int {
	if a.Addr().Is4() != b.Addr().Is4() {
		if a.Addr().Is4() {
			return -1
		}
		return 1
	}
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// SplitFamilies returns the IPv4 and the IPv6 prefixes of ps, each in the order given.
func SplitFamilies(ps []netip.Prefix) (v4, v6 []netip.Prefix) {
	for _, p := range ps {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return v4, v6
}

// contains reports whether q covers all of p (same family, q no longer than p).
func contains(q, p netip.Prefix) bool {
	return q.Addr().Is4() == p.Addr().Is4() && q.Bits() <= p.Bits() && q.Contains(p.Addr())
}

// siblings reports whether a and b are the two halves of one network, a the lower, and
// returns that network.
func siblings(a, b netip.Prefix) (netip.Prefix, bool) {
	if a.Bits() != b.Bits() || a.Bits() == 0 || a.Addr().Is4() != b.Addr().Is4() || a == b {
		return netip.Prefix{}, false
	}
	pa, _ := a.Addr().Prefix(a.Bits() - 1)
	pb, _ := b.Addr().Prefix(b.Bits() - 1)
	if pa != pb || pa.Addr() != a.Addr() {
		return netip.Prefix{}, false
	}
	return pa, true
}
