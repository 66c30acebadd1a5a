package ipranges

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParsePlain(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"cloudflare style", "173.245.48.0/20\n103.21.244.0/22\n", []string{"173.245.48.0/20", "103.21.244.0/22"}},
		{"no final newline, CRLF", "10.0.0.0/8\r\n2001:db8::/32", []string{"10.0.0.0/8", "2001:db8::/32"}},
		{"comments and blanks", "# office\n\n  192.0.2.0/24   # VPN\n\t\n#2001:db8::/32\n", []string{"192.0.2.0/24"}},
		{"bare addresses", "192.0.2.7\n2001:db8::1\n", []string{"192.0.2.7/32", "2001:db8::1/128"}},
		{"duplicates kept", "192.0.2.0/24\n192.0.2.0/24\n", []string{"192.0.2.0/24", "192.0.2.0/24"}},
		{"byte-order mark", "\uFEFF192.0.2.0/24\n", []string{"192.0.2.0/24"}},
		{"zero-length prefix", "0.0.0.0/0\n", []string{"0.0.0.0/0"}},
		{"longest line allowed", strings.Repeat(" ", MaxLineLength-len("10.0.0.0/8")) + "10.0.0.0/8\r\n", []string{"10.0.0.0/8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePlain(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(prefixStrings(got), tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParsePlainErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"host bits name the line", "10.0.0.0/8\n# x\n192.0.2.1/24\n", `line 3: "192.0.2.1/24" has host bits set (network is 192.0.2.0/24)`},
		{"garbage", "example.com\n", `line 1: "example.com" is not an address or CIDR`},
		{"bad CIDR", "\n10.0.0.0/33\n", `line 2: "10.0.0.0/33" is not a CIDR`},
		{"two on a line", "10.0.0.0/8 11.0.0.0/8\n", "line 1: want one address or CIDR"},
		{"comma separated", "10.0.0.0/8,11.0.0.0/8\n", "line 1:"},
		{"zone", "fe80::1%eth0\n", "has a zone"},
		{"zone in CIDR", "fe80::%eth0/64\n", "is not a CIDR"},
		{"leading zeros", "010.0.0.1\n", "is not an address"},
		{"line too long", "10.0.0.0/8\n" + strings.Repeat("#", MaxLineLength+1) + "\n", "line 2: longer than 4096 bytes"},
		{"very long line", strings.Repeat("1", 3*MaxLineLength), "line 1: longer than 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlain(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestInputBound feeds each parser more than MaxInputSize bytes of valid-looking input
// and expects ErrTooLarge rather than a result built from a truncated list.
func TestInputBound(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB per parser")
	}
	line := "# padding padding padding padding padding padding padding padding\n"
	big := func() io.Reader {
		return io.MultiReader(strings.NewReader(`{"prefixes":[`), &repeatReader{s: line, n: MaxInputSize/len(line) + 1})
	}
	plain := &repeatReader{s: line, n: MaxInputSize/len(line) + 1}
	for name, parse := range map[string]func(io.Reader) error{
		"aws":    func(r io.Reader) error { _, err := ParseAWS(r); return err },
		"google": func(r io.Reader) error { _, err := ParseGoogle(r); return err },
	} {
		if err := parse(big()); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", name, err)
		}
	}
	if _, err := ParsePlain(plain); !errors.Is(err, ErrTooLarge) {
		t.Errorf("plain: err = %v, want ErrTooLarge", err)
	}
}

// repeatReader yields s n times.
type repeatReader struct {
	s   string
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.n > 0 {
		c := copy(p, r.s[r.off:])
		p, total, r.off = p[c:], total+c, r.off+c
		if r.off == len(r.s) {
			r.off, r.n = 0, r.n-1
		}
	}
	if total == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return total, nil
}
