// Package httpx holds the HTTP plumbing shared by gatehouse's listeners: who the client
// is (behind trusted proxies only), short error responses that never leak internals,
// request IDs and a response recorder for the access log.
package httpx

import (
	"net/http"
	"net/netip"
	"strings"
)

// Proxies decides which peers' forwarding headers are believed.
type Proxies struct {
	trusted []netip.Prefix
	header  string // X-Forwarded-For or CloudFront-Viewer-Address
}

// NewProxies trusts the given prefixes. header is canonical: "X-Forwarded-For" or
// "CloudFront-Viewer-Address".
func NewProxies(trusted []netip.Prefix, header string) *Proxies {
	return &Proxies{trusted: trusted, header: header}
}

// Trusted reports whether r's peer is a trusted proxy, whose other forwarded headers
// (X-Request-Id, traceparent) are believed too.
func (p *Proxies) Trusted(r *http.Request) bool {
	peer := peerAddr(r.RemoteAddr)
	return peer.IsValid() && p.isTrusted(peer)
}

func (p *Proxies) isTrusted(a netip.Addr) bool {
	for _, pf := range p.trusted {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the client address and scheme of r. The peer is the client unless it
// is a trusted proxy; then the configured header names the client: for X-Forwarded-For
// the right-most address that is not itself a trusted proxy. The scheme comes from
// X-Forwarded-Proto (or CloudFront-Forwarded-Proto) of a trusted peer only.
//
// An unparseable hop gives the zero Addr ("unknown client"): authenticators that look
// at the address then deny, rather than trust whatever the header said.
func (p *Proxies) Client(r *http.Request) (netip.Addr, string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || len(p.trusted) == 0 || !p.isTrusted(peer) {
		return peer, scheme
	}
	for _, h := range []string{"X-Forwarded-Proto", "CloudFront-Forwarded-Proto"} {
		if v := strings.ToLower(strings.TrimSpace(lastValue(r.Header.Values(h)))); v == "http" || v == "https" {
			scheme = v
			break
		}
	}
	if p.header == "CloudFront-Viewer-Address" {
		v := r.Header.Get(p.header)
		if v == "" {
			return peer, scheme
		}
		return viewerAddr(v), scheme
	}
	hops := r.Header.Values("X-Forwarded-For")
	if len(hops) == 0 {
		return peer, scheme
	}
	all := strings.Split(strings.Join(hops, ","), ",")
	client := peer
	for i := len(all) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
		if err != nil {
			return netip.Addr{}, scheme
		}
		client = a.Unmap()
		if !p.isTrusted(client) {
			break
		}
	}
	return client, scheme
}

func lastValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	parts := strings.Split(vs[len(vs)-1], ",")
	return parts[len(parts)-1]
}

// peerAddr parses http.Request.RemoteAddr ("ip:port"), unmapping IPv4-in-IPv6.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// viewerAddr parses CloudFront-Viewer-Address: "198.51.100.10:46532" or an IPv6
// address followed by ":port", without brackets.
func viewerAddr(v string) netip.Addr {
	v = strings.TrimSpace(v)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap()
	}
	if i := strings.LastIndexByte(v, ':'); i > 0 {
		if a, err := netip.ParseAddr(strings.Trim(v[:i], "[]")); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}
