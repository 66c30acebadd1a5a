package ipauth

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const benchPrefixCount = 100_000

// benchAuth builds an authenticator over 100k prefixes: AWS's AMAZON ranges (IPv4 and
// IPv6) from the real ip-ranges.json, topped up with generated ones in 10.0.0.0/8 and
// 2001:db8::/32. It returns addresses inside the set and addresses outside it.
func benchAuth(b *testing.B) (a *Authenticator, hits, misses []netip.Addr) {
	b.Helper()
	seen := map[netip.Prefix]bool{}
	var cidrs []string
	add := func(p netip.Prefix) {
		if !seen[p] {
			seen[p] = true
			cidrs = append(cidrs, p.String())
		}
	}
	if f, err := os.Open(testenv.SharedTestdata(b, "aws", "ip-ranges.json")); err == nil {
		r, err := ipranges.ParseAWS(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range r.Filter([]string{"AMAZON"}, nil) {
			add(p)
		}
	}
	amazon := len(cidrs)
	rng := rand.New(rand.NewPCG(1, 2))
	for len(cidrs) < benchPrefixCount {
		if rng.IntN(2) == 0 {
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			add(netip.PrefixFrom(a, 20+rng.IntN(13)).Masked())
		} else {
			var s [16]byte
			s[0], s[1], s[2], s[3] = 0x20, 0x01, 0x0d, 0xb8
			for i := 4; i < 8; i++ {
				s[i] = byte(rng.IntN(256))
			}
			add(netip.PrefixFrom(netip.AddrFrom16(s), 40+rng.IntN(25)).Masked())
		}
	}
	b.Logf("%d prefixes (%d from AWS AMAZON)", len(cidrs), amazon)
	a, err := New("bench", &config.IPAuth{CIDRs: cidrs}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for len(hits) < 1024 {
		p := netip.MustParsePrefix(cidrs[rng.IntN(len(cidrs))])
		hits = append(hits, p.Addr())
	}
	for i := 0; len(misses) < 1024; i++ {
		var addr netip.Addr
		switch i % 3 {
		case 0:
			addr = netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		case 1:
			addr = netip.AddrFrom4([4]byte{198, 51, byte(100 + i%3), byte(i)})
		default:
			addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb9, 15: byte(i)})
		}
		misses = append(misses, addr)
	}
	for _, h := range hits {
		if !a.Contains(h) {
			b.Fatalf("hit %s not in the set", h)
		}
	}
	for _, m := range misses {
		if a.Contains(m) {
			b.Fatalf("miss %s in the set", m)
		}
	}
	return a, hits, misses
}

var sink bool

// BenchmarkLookup measures the lock-free table lookup Authenticate makes, on 100k
// prefixes. It must not allocate.
func BenchmarkLookup(b *testing.B) {
	a, hits, misses := benchAuth(b)
	mapped := make([]netip.Addr, 0, len(hits))
	for _, h := range hits {
		if h.Is4() {
			mapped = append(mapped, netip.AddrFrom16(h.As16()))
		}
	}
	for _, bc := range []struct {
		name  string
		addrs []netip.Addr
		want  bool
	}{{"hit", hits, true}, {"miss", misses, false}, {"hit-ipv4-mapped", mapped, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := len(bc.addrs)
			i := 0
			for b.Loop() {
				sink = a.Contains(bc.addrs[i%n])
				i++
			}
			if sink != bc.want {
				b.Fatalf("last lookup = %v", sink)
			}
		})
	}
}

// BenchmarkAuthenticate measures the whole Authenticate method. An allow allocates the
// Identity and its subject string; a denial allocates its error.
func BenchmarkAuthenticate(b *testing.B) {
	a, hits, misses := benchAuth(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		addrs []netip.Addr
		allow bool
	}{{"allow", hits, true}, {"deny", misses, false}} {
		reqs := make([]policy.Request, len(bc.addrs))
		for i, addr := range bc.addrs {
			reqs[i] = policy.Request{Client: addr}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id, err := a.Authenticate(ctx, &reqs[i%len(reqs)])
				if (err == nil) != bc.allow || (id != nil) != bc.allow {
					b.Fatalf("Authenticate(%s) = %v, %v", reqs[i%len(reqs)].Client, id, err)
				}
				i++
			}
		})
	}
}
