package ipranges

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
)

// checkPrefixes asserts the invariants every parser promises for accepted input.
func checkPrefixes(t *testing.T, ps []netip.Prefix) {
	t.Helper()
	for _, p := range ps {
		if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" {
			t.Fatalf("parser returned non-canonical prefix %v", p)
		}
	}
}

func FuzzParseAWS(f *testing.F) {
	f.Add([]byte(awsSample))
	f.Add([]byte(`{"prefixes":[],"ipv6_prefixes":null}`))
	f.Add([]byte(`{"prefixes":[{"ip_prefix":"10.0.0.1/8"}]}`))
	f.Add([]byte(`{"ipv6_prefixes":[{"ipv6_prefix":"::ffff:10.0.0.0/104"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseAWS(bytes.NewReader(data))
		if err != nil {
			return
		}
		all := make([]netip.Prefix, 0, len(r.Prefixes))
		for _, p := range r.Prefixes {
			all = append(all, p.Prefix)
		}
		checkPrefixes(t, all)
		got := r.Filter(nil, nil)
		seen := map[netip.Prefix]bool{}
		for _, p := range got {
			if seen[p] {
				t.Fatalf("Filter returned %v twice", p)
			}
			seen[p] = true
		}
		if len(seen) > len(all) {
			t.Fatalf("Filter returned more prefixes than parsed")
		}
	})
}

func FuzzParseGoogle(f *testing.F) {
	f.Add([]byte(googleCloudSample))
	f.Add([]byte(googSample))
	f.Add([]byte(`{"prefixes":[{"ipv4Prefix":"1.2.3.0/24","ipv6Prefix":"::/0"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseGoogle(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range r.Prefixes {
			checkPrefixes(t, []netip.Prefix{p.Prefix})
		}
		checkPrefixes(t, r.Filter([]string{"Google Cloud"}, nil))
	})
}

func FuzzParsePlain(f *testing.F) {
	f.Add([]byte("173.245.48.0/20\n2400:cb00::/32\n"))
	f.Add([]byte("# c\n\n192.0.2.1 # host\r\n::1\n"))
	f.Add([]byte("10.0.0.1/8\n"))
	f.Add([]byte("fe80::1%eth0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParsePlain(bytes.NewReader(data))
		if err != nil {
			return
		}
		checkPrefixes(t, ps)
		// Printing the result and parsing it again gives the same list.
		var buf bytes.Buffer
		for _, p := range ps {
			buf.WriteString(p.String() + "\n")
		}
		again, err := ParsePlain(&buf)
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("round trip: %v, %v != %v", err, again, ps)
		}
	})
}
