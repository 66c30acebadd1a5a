// Package ipranges parses the address lists that cloud providers and CDNs publish: AWS
// ip-ranges.json, Google cloud.json and goog.json, and plain one-CIDR-per-line lists
// such as Cloudflare's ips-v4 and ips-v6.
//
// The parsers are pure functions of their input: they do no I/O beyond reading the
// given reader, keep no state and are safe for concurrent use. Input is untrusted: each
// parser reads at most MaxInputSize bytes (more is an error, never a silent truncation),
// plain lists bound the length of a line, and every error names the line or the entry
// at fault. Prefixes are returned as published, after checking that each is valid and
// has no host bits set; nothing is unmapped, merged or aggregated by a parser. Aggregate
// merges a list into the fewest prefixes covering exactly the same addresses, for
// consumers that pay per entry (security group rules, prefix list entries).
package ipranges

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// MaxInputSize bounds the bytes a parser reads. The largest list in use, AWS
// ip-ranges.json, is under 2 MiB; the bound leaves ample room for growth while keeping a
// hostile or broken server from exhausting memory.
const MaxInputSize = 64 << 20

// MaxLineLength bounds one line of a plain list, in bytes.
const MaxLineLength = 4096

// ErrTooLarge is returned (wrapped) when the input exceeds MaxInputSize.
var ErrTooLarge = fmt.Errorf("input larger than %d MiB", MaxInputSize>>20)

// readBounded reads all of r, failing with ErrTooLarge past MaxInputSize.
func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > MaxInputSize {
		return nil, ErrTooLarge
	}
	return data, nil
}

// decodeJSON unmarshals data into v, translating syntax and type errors' byte offsets
// into line numbers so the message points at the fault.
func decodeJSON(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: invalid JSON: %v", lineOf(data, syn.Offset), syn)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Errorf("line %d: want a JSON object, got JSON %s", lineOf(data, typ.Offset), typ.Value)
		}
		return fmt.Errorf("line %d: %s: want %s, got JSON %s", lineOf(data, typ.Offset), typ.Field, typ.Type, typ.Value)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// lineOf is the 1-based line holding byte offset off of data.
func lineOf(data []byte, off int64) int {
	off = max(0, min(off, int64(len(data))))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// parseCIDR parses a published prefix, which must be a canonical CIDR of the given
// family (4 or 6). Bare addresses are refused: JSON lists always carry a length.
func parseCIDR(s string, family int) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("missing prefix")
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", s)
	}
	if (family == 4) != p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv%d prefix", s, family)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set (network is %s)", s, p.Masked())
	}
	return p, nil
}

// matchAny reports whether v equals one of want, ignoring case; an empty want matches
// everything.
func matchAny(want []string, v string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if strings.EqualFold(w, v) {
			return true
		}
	}
	return false
}

// dedup appends p to out unless seen already.
func dedup(out []netip.Prefix, seen map[netip.Prefix]struct{}, p netip.Prefix) []netip.Prefix {
	if _, ok := seen[p]; ok {
		return out
	}
	seen[p] = struct{}{}
	return append(out, p)
}
