package httpx

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClient(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	xff := NewProxies(trusted, "X-Forwarded-For")
	cf := NewProxies(trusted, "CloudFront-Viewer-Address")
	none := NewProxies(nil, "X-Forwarded-For")
	for _, tc := range []struct {
		name   string
		p      *Proxies
		remote string
		hdr    map[string][]string
		want   string
		scheme string
	}{
		{"no proxies configured: header ignored", none, "203.0.113.9:1234", map[string][]string{"X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"}}, "203.0.113.9", "http"},
		{"spoofed XFF from untrusted peer", xff, "203.0.113.9:1234", map[string][]string{"X-Forwarded-For": {"10.1.1.1"}}, "203.0.113.9", "http"},
		{"trusted peer, one hop", xff, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7", "http"},
		{"right-most untrusted hop wins", xff, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.9.9.9"}}, "198.51.100.7", "http"},
		{"several XFF headers join", xff, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"6.6.6.6", "198.51.100.7"}}, "198.51.100.7", "http"},
		{"all hops trusted: left-most", xff, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"10.0.0.5, 10.0.0.4"}}, "10.0.0.5", "http"},
		{"garbage hop: unknown client", xff, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4, not-an-ip"}}, "invalid IP", "http"},
		{"trusted peer, no header", xff, "10.0.0.2:1", nil, "10.0.0.2", "http"},
		{"forwarded proto from trusted peer", xff, "10.0.0.2:1", map[string][]string{"X-Forwarded-Proto": {"https"}}, "10.0.0.2", "https"},
		{"IPv4-mapped peer unmapped", none, "[::ffff:192.0.2.1]:80", nil, "192.0.2.1", "http"},
		{"IPv4-mapped trusted peer", xff, "[::ffff:10.0.0.2]:80", map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.7"}}, "198.51.100.7", "http"},
		{"IPv6 trusted peer", xff, "[2001:db8::1]:80", map[string][]string{"X-Forwarded-For": {"2001:db9::7"}}, "2001:db9::7", "http"},
		{"CloudFront viewer v4", cf, "10.0.0.2:1", map[string][]string{"Cloudfront-Viewer-Address": {"198.51.100.10:46532"}}, "198.51.100.10", "http"},
		{"CloudFront viewer v6", cf, "10.0.0.2:1", map[string][]string{"Cloudfront-Viewer-Address": {"2001:db9:0:0:0:0:0:1:46532"}}, "2001:db9::1", "http"},
		{"CloudFront header from untrusted peer", cf, "203.0.113.9:1", map[string][]string{"Cloudfront-Viewer-Address": {"198.51.100.10:1"}}, "203.0.113.9", "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header(tc.hdr)}
			if r.Header == nil {
				r.Header = http.Header{}
			}
			got, scheme := tc.p.Client(r)
			if got.String() != tc.want || scheme != tc.scheme {
				t.Errorf("got %s %s, want %s %s", got, scheme, tc.want, tc.scheme)
			}
		})
	}
}
