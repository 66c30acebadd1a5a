package ipranges

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// ParsePlain parses a plain list: one CIDR or address per line. Blank lines are skipped
// and '#' starts a comment that runs to the end of the line, so both comment lines and
// trailing comments are allowed. A bare address means that one host (/32 or /128). A
// CIDR with host bits set is an error rather than being masked, because it usually means
// a typo that would allow more (or other) addresses than intended. Errors name the
// 1-based line. Lines longer than MaxLineLength and input longer than MaxInputSize are
// errors. Prefixes are returned in file order, duplicates included.
func ParsePlain(r io.Reader) ([]netip.Prefix, error) {
	cr := &countingReader{r: io.LimitReader(r, MaxInputSize+1)}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, 512), MaxLineLength+2) // room for the line's "\r\n"
	var out []netip.Prefix
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) > MaxLineLength {
			return nil, fmt.Errorf("line %d: longer than %d bytes", line, MaxLineLength)
		}
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a byte-order mark some editors add
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		switch len(fields) {
		case 0:
			continue
		case 1:
		default:
			return nil, fmt.Errorf("line %d: want one address or CIDR, got %q", line, strings.TrimSpace(text))
		}
		p, err := parsePlainEntry(fields[0])
		if err != nil {
			if cr.n > MaxInputSize {
				return nil, ErrTooLarge // the line was cut by the size bound
			}
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, p)
	}
	if cr.n > MaxInputSize {
		return nil, ErrTooLarge
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", line+1, MaxLineLength)
		}
		return nil, fmt.Errorf("line %d: read: %w", line+1, err)
	}
	return out, nil
}

func parsePlainEntry(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", s)
		}
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("%q has host bits set (network is %s)", s, p.Masked())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q has a zone, which a list of ranges cannot use", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
