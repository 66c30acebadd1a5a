package ipranges

import (
	"encoding/binary"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

func TestAggregate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, nil},
		{"one", []string{"10.0.0.0/24"}, []string{"10.0.0.0/24"}},
		{"duplicates", []string{"10.0.0.0/24", "10.0.0.0/24"}, []string{"10.0.0.0/24"}},
		{"siblings merge", []string{"10.0.1.0/24", "10.0.0.0/24"}, []string{"10.0.0.0/23"}},
		{"cascade", []string{"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/23"}, []string{"10.0.0.0/22"}},
		{"cascade, larger first", []string{"10.0.2.0/23", "10.0.1.0/24", "10.0.0.0/24"}, []string{"10.0.0.0/22"}},
		{"adjacent but not siblings", []string{"10.0.1.0/24", "10.0.2.0/24"}, []string{"10.0.1.0/24", "10.0.2.0/24"}},
		{"contained dropped", []string{"10.0.0.0/8", "10.1.2.0/24", "10.255.255.255/32"}, []string{"10.0.0.0/8"}},
		{"contained after merge", []string{"10.0.0.0/25", "10.0.0.128/25", "10.0.0.64/26"}, []string{"10.0.0.0/24"}},
		{"host bits masked", []string{"10.0.0.7/24"}, []string{"10.0.0.0/24"}},
		{"families kept apart, v4 first", []string{"fc00::/7", "2600:9000::/28", "13.32.0.0/15", "128.0.0.0/1"}, []string{"13.32.0.0/15", "128.0.0.0/1", "2600:9000::/28", "fc00::/7"}},
		{"whole space", []string{"0.0.0.0/1", "128.0.0.0/1"}, []string{"0.0.0.0/0"}},
		{"ipv6 siblings", []string{"2600:9000:1::/48", "2600:9000::/48"}, []string{"2600:9000::/47"}},
		{"mapped stays v6", []string{"::ffff:10.0.0.0/120", "10.0.0.0/24"}, []string{"10.0.0.0/24", "::ffff:10.0.0.0/120"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in []netip.Prefix
			for _, s := range tc.in {
				in = append(in, netip.MustParsePrefix(s))
			}
			orig := slices.Clone(in)
			got := prefixStrings(Aggregate(in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Aggregate(%v) = %v, want %v", tc.in, got, tc.want)
			}
			if !slices.Equal(in, orig) {
				t.Errorf("Aggregate modified its input")
			}
		})
	}
}

// TestAggregateRealFile records what aggregation does to the published CLOUDFRONT list:
// 211 IPv4 ranges become 180 (so 3 groups of 60 rules instead of 4), 32 IPv6 become 31.
func TestAggregateRealFile(t *testing.T) {
	f, err := os.Open(testenv.SharedTestdata(t, "aws", "ip-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ParseAWS(f)
	if err != nil {
		t.Fatal(err)
	}
	in := r.Filter([]string{"CLOUDFRONT"}, nil)
	out := Aggregate(in)
	v4, v6 := SplitFamilies(out)
	if len(v4) != 180 || len(v6) != 31 {
		t.Errorf("aggregated to %d IPv4 and %d IPv6, want 180 and 31", len(v4), len(v6))
	}
	// Every input is covered by an output, and every output is made only of inputs:
	// checked at each output's first and last address plus each input's first address.
	for _, p := range in {
		if !slices.ContainsFunc(out, func(q netip.Prefix) bool { return contains(q, p) }) {
			t.Errorf("%v is not covered", p)
		}
	}
	for _, q := range out {
		if !slices.ContainsFunc(in, func(p netip.Prefix) bool { return p.Contains(q.Addr()) }) ||
			!slices.ContainsFunc(in, func(p netip.Prefix) bool { return p.Contains(lastAddr(q)) }) {
			t.Errorf("%v reaches outside the input", q)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// FuzzAggregate builds IPv4 prefixes inside 10.0.0.0/20 (4,096 addresses, few enough to
// check one by one) and checks that the aggregate covers exactly the same addresses,
// is sorted and disjoint, and cannot be merged further.
func FuzzAggregate(f *testing.F) {
	f.Add([]byte{0, 0, 24, 1, 0, 24})
	f.Add([]byte{0, 0, 21, 0, 128, 25, 0, 0, 32, 15, 255, 32})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var in []netip.Prefix
		for i := 0; i+3 <= len(data) && len(in) < 64; i += 3 {
			off := binary.BigEndian.Uint16(data[i:]) & 0x0fff
			bits := 20 + int(data[i+2])%13
			a := netip.AddrFrom4([4]byte{10, 0, byte(off >> 8), byte(off)})
			in = append(in, netip.PrefixFrom(a, bits))
		}
		out := Aggregate(in)
		for i := range 4096 {
			a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			inIn := slices.ContainsFunc(in, func(p netip.Prefix) bool { return p.Masked().Contains(a) })
			n := 0
			for _, q := range out {
				if q.Contains(a) {
					n++
				}
			}
			if n > 1 || inIn != (n == 1) {
				t.Fatalf("%v: in input %v, in %d outputs; in=%v out=%v", a, inIn, n, in, out)
			}
		}
		for i := 1; i < len(out); i++ {
			if ComparePrefix(out[i-1], out[i]) >= 0 {
				t.Fatalf("not sorted: %v", out)
			}
			if _, ok := siblings(out[i-1], out[i]); ok {
				t.Fatalf("%v and %v should have merged", out[i-1], out[i])
			}
		}
		checkPrefixes(t, out)
	})
}
