package cfsign

import "strings"

// MatchResource reports whether a policy Resource pattern covers a resource URL, with
// CloudFront's rules:
//
//   - The URL is split into sections, scheme://host/path?query: the scheme ends at the
//     first "://", the host at the first '/' or '?', the path at the first '?'. The
//     pattern is split the same way, except that the query starts at the first `\?`:
//     a bare '?' in a pattern is a wildcard, so the literal '?' is written `\?`.
//   - '*' matches zero or more characters and '?' exactly one, each only within its own
//     section: a '*' in the host never reaches into the path, one in the path never
//     reaches into the query ('/' is an ordinary character inside the path).
//   - A pattern whose path ends in '*' and that has no query section matches any query
//     or none ("…/images/*" covers "…/images/a.jpg?w=100"). A pattern without a query
//     section whose path does not end in '*' matches only URLs without a query.
//   - A pattern that ends inside the host with '*' ("https://media*") also matches any
//     path and any query, as if followed by `/*\?*`.
//   - A pattern starting with '*' and without a "://" before its first '/' has no scheme
//     section and matches any scheme: "*" alone matches everything, "*.example.com/a/*"
//     any scheme on any subdomain. "*://host/…" also matches any scheme.
//   - Everything else compares byte for byte (case-sensitively), with no decoding.
//
// Matching takes time linear in the lengths of pattern and URL: segments between stars
// are found leftmost-first, which is exact for these patterns, so there is no
// backtracking for a crafted URL to exploit.
func MatchResource(pattern, resource string) bool {
	uScheme, rest, ok := strings.Cut(resource, "://")
	if !ok {
		return false
	}
	h := indexEither(rest, '/', '?')
	if h < 0 {
		h = len(rest)
	}
	uHost, rest := rest[:h], rest[h:]
	uPath, uQuery, uHasQuery := strings.Cut(rest, "?")

	prest := pattern
	if i := strings.Index(pattern, "://"); i >= 0 && strings.IndexByte(pattern[:i], '/') < 0 && !strings.Contains(pattern[:i], `\?`) {
		if !globMatch(pattern[:i], uScheme) {
			return false
		}
		prest = pattern[i+3:]
	} else if !strings.HasPrefix(pattern, "*") {
		return false
	}

	hEnd := len(prest)
	if i := strings.IndexByte(prest, '/'); i >= 0 {
		hEnd = i
	}
	if i := strings.Index(prest[:hEnd], `\?`); i >= 0 {
		hEnd = i
	}
	pHost, prest := prest[:hEnd], prest[hEnd:]
	if !globMatch(pHost, uHost) {
		return false
	}
	if prest == "" && strings.HasSuffix(pHost, "*") {
		return true // trailing '*' in the host: any path, any query
	}
	pPath, pQuery, pHasQuery := strings.Cut(prest, `\?`)
	if !globMatch(pPath, uPath) {
		return false
	}
	if !pHasQuery {
		return !uHasQuery || strings.HasSuffix(pPath, "*")
	}
	return uHasQuery && globMatch(pQuery, uQuery)
}

// globMatch matches one section: '*' any run, '?' any one byte, `\?` a literal '?',
// everything else literally. The pattern splits at its stars into segments; the first is
// anchored at the start of s, the last at the end, and the middle ones are each found at
// their leftmost position after the previous one. Leftmost is always safe: an earlier
// match leaves more room for what follows.
func globMatch(p, s string) bool {
	if indexEither(p, '*', '?') < 0 {
		return p == s
	}
	star := strings.IndexByte(p, '*')
	if star < 0 {
		return segLen(p) == len(s) && segEqual(p, s)
	}
	first := p[:star]
	n := segLen(first)
	if n > len(s) || !segEqual(first, s[:n]) {
		return false
	}
	s = s[n:]
	lastStar := strings.LastIndexByte(p, '*')
	last := p[lastStar+1:]
	m := segLen(last)
	if m > len(s) || !segEqual(last, s[len(s)-m:]) {
		return false
	}
	s = s[:len(s)-m]
	mid := ""
	if lastStar > star {
		mid = p[star+1 : lastStar]
	}
	for mid != "" {
		var seg string
		seg, mid, _ = strings.Cut(mid, "*")
		if seg == "" {
			continue
		}
		i := segIndex(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+segLen(seg):]
	}
	return true
}

// segLen is the number of bytes a star-free segment matches.
func segLen(seg string) int { return len(seg) - strings.Count(seg, `\?`) }

// segEqual matches a star-free segment against t, where len(t) == segLen(seg).
func segEqual(seg, t string) bool {
	j := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c == '\\' && i+1 < len(seg) && seg[i+1] == '?':
			i++
			if t[j] != '?' {
				return false
			}
		case c == '?':
		default:
			if t[j] != c {
				return false
			}
		}
		j++
	}
	return true
}

// segIndex returns the leftmost position in s where the star-free segment matches, or
// -1. Segments without wildcards use strings.Index; others use shift-and (bit-parallel
// matching), so the scan is one pass over s whatever the segment holds.
func segIndex(s, seg string) int {
	if !strings.Contains(seg, "?") {
		return strings.Index(s, seg)
	}
	if !hasWildcard(seg) {
		return strings.Index(s, strings.ReplaceAll(seg, `\?`, "?"))
	}
	k := segLen(seg)
	w := (k + 63) / 64
	var small [256]uint64
	var masks []uint64 // masks[c*w+word]: token positions that accept byte c
	if w == 1 {
		masks = small[:]
	} else {
		masks = make([]uint64, 256*w)
	}
	wild := make([]uint64, w) // positions that accept any byte
	pos := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		bit := uint64(1) << (pos % 64)
		switch {
		case c == '\\' && i+1 < len(seg) && seg[i+1] == '?':
			i++
			masks[int('?')*w+pos/64] |= bit
		case c == '?':
			wild[pos/64] |= bit
		default:
			masks[int(c)*w+pos/64] |= bit
		}
		pos++
	}
	state := make([]uint64, w) // bit i: the last i+1 bytes match the segment's first i+1
	top := uint64(1) << ((k - 1) % 64)
	for j := 0; j < len(s); j++ {
		m := masks[int(s[j])*w:]
		carry := uint64(1)
		for x := range state {
			next := state[x] >> 63
			state[x] = (state[x]<<1 | carry) & (m[x] | wild[x])
			carry = next
		}
		if state[w-1]&top != 0 {
			return j - k + 1
		}
	}
	return -1
}

// hasWildcard reports whether seg holds a '?' that is not part of `\?`.
func hasWildcard(seg string) bool {
	for i := 0; i < len(seg); i++ {
		if seg[i] == '\\' && i+1 < len(seg) && seg[i+1] == '?' {
			i++
		} else if seg[i] == '?' {
			return true
		}
	}
	return false
}

// indexEither is the index of the first a or b in s, or -1 (strings.IndexAny builds a
// set on every call).
func indexEither(s string, a, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == a || s[i] == b {
			return i
		}
	}
	return -1
}
