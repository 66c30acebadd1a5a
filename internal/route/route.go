// Package route holds compiled path patterns, the ordered route table and the mapping
// from a request path to an object key.
//
// Patterns follow CloudFront's behavior path patterns: case-sensitive, '*' matches any
// run of characters ('/' included), '?' matches exactly one character, and "*" alone
// matches everything. They are matched against the cleaned URL path only, never the
// query string. Patterns are compiled once; the common shapes (exact, "prefix*", "*")
// avoid the general matcher.
package route

import (
	"fmt"
	"strings"
)

type kind uint8

const (
	kindAll kind = iota
	kindExact
	kindPrefix
	kindGlob
)

// Pattern is a compiled path pattern.
type Pattern struct {
	src  string
	kind kind
	lit  string // exact path or prefix
}

// Compile checks and compiles a pattern.
func Compile(p string) (Pattern, error) {
	switch {
	case p == "":
		return Pattern{}, fmt.Errorf("empty pattern")
	case p == "*":
		return Pattern{src: p, kind: kindAll}, nil
	case !strings.ContainsAny(p, "*?"):
		return Pattern{src: p, kind: kindExact, lit: p}, nil
	case strings.IndexAny(p, "*?") == len(p)-1 && p[len(p)-1] == '*':
		return Pattern{src: p, kind: kindPrefix, lit: p[:len(p)-1]}, nil
	}
	return Pattern{src: p, kind: kindGlob}, nil
}

// LiteralPrefix is the part of pattern before its first wildcard ('*' or '?'): every
// path the pattern matches starts with it. A pattern without wildcards is its own
// literal prefix; "*" has the empty one.
func LiteralPrefix(pattern string) string {
	if i := strings.IndexAny(pattern, "*?"); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }

// Match reports whether the cleaned path matches.
func (p Pattern) Match(path string) bool {
	switch p.kind {
	case kindAll:
		return true
	case kindExact:
		return path == p.lit
	case kindPrefix:
		return strings.HasPrefix(path, p.lit)
	}
	return glob(p.src, path)
}

// glob matches '*' and '?' in linear space, backtracking only to the last '*' seen,
// so hostile inputs cost at most O(len(pattern) * len(s)).
func glob(pat, s string) bool {
	var pi, si int
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			if pat[pi] == '?' {
				// '?' is one character, not one byte.
				_, size := decodeRune(s[si:])
				si += size
			} else {
				si++
			}
			pi++
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			_, size := decodeRune(s[mark:])
			mark += size
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// Table is an ordered list of patterns and their values; the first match wins.
type Table[T any] struct {
	entries []entry[T]
}

type entry[T any] struct {
	pat Pattern
	val T
}

// Add appends a pattern. Order of Add calls is match order.
func (t *Table[T]) Add(pattern string, v T) error {
	p, err := Compile(pattern)
	if err != nil {
		return err
	}
	t.entries = append(t.entries, entry[T]{p, v})
	return nil
}

// Match returns the value of the first pattern matching the cleaned path.
func (t *Table[T]) Match(path string) (T, bool) {
	for i := range t.entries {
		if t.entries[i].pat.Match(path) {
			return t.entries[i].val, true
		}
	}
	var zero T
	return zero, false
}

// Values returns the table's values in match order.
func (t *Table[T]) Values() []T {
	out := make([]T, len(t.entries))
	for i := range t.entries {
		out[i] = t.entries[i].val
	}
	return out
}

// KeyMap turns a cleaned request path into an object key.
type KeyMap struct {
	// StripPrefix is removed from the start of the path when present.
	StripPrefix string
	// AddPrefix is put before the remaining path (taken without its leading '/'). It is
	// used literally: write "www/" to put objects under a folder.
	AddPrefix string
	// Index is appended when the remaining path is empty or ends in '/'.
	Index string
}

// Key returns the object key for path, and false when the path names a folder and no
// index document is configured (a route with listing: true lists such folders instead).
func (k KeyMap) Key(path string) (string, bool) {
	rel := strings.TrimPrefix(path, k.StripPrefix)
	rel = strings.TrimPrefix(rel, "/")
	if rel == "" || strings.HasSuffix(rel, "/") {
		if k.Index == "" {
			return "", false
		}
		rel += k.Index
	}
	return k.AddPrefix + rel, true
}
