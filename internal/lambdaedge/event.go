// Package lambdaedge reads CloudFront Lambda@Edge viewer-request events, so that a
// request captured from a CloudFront distribution can be replayed through gatehouse's
// decision logic (`gatehouse explain --event`). Only what a viewer request carries is
// used: client IP, method, URI, query string and headers.
package lambdaedge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// MaxEventSize bounds the event document (Lambda@Edge viewer requests are limited to
// well under this).
const MaxEventSize = 1 << 20

type event struct {
	Records []struct {
		CF struct {
			Config struct {
				DistributionDomainName string `json:"distributionDomainName"`
				EventType              string `json:"eventType"`
			} `json:"config"`
			Request struct {
				ClientIP    string                       `json:"clientIp"`
				Method      string                       `json:"method"`
				URI         string                       `json:"uri"`
				QueryString string                       `json:"querystring"`
				Headers     map[string][]json.RawMessage `json:"headers"`
			} `json:"request"`
		} `json:"cf"`
	} `json:"Records"`
}

type header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Request turns the first record of a viewer-request event into an HTTP request as
// gatehouse would receive it: over HTTPS, from the event's clientIp, with Host taken from
// the host header (or the distribution's domain name).
func Request(r io.Reader) (*http.Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxEventSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxEventSize {
		return nil, errors.New("event larger than 1 MiB")
	}
	var ev event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("not a Lambda@Edge event: %w", err)
	}
	if len(ev.Records) == 0 {
		return nil, errors.New("event has no Records")
	}
	cf := ev.Records[0].CF
	if t := cf.Config.EventType; t != "" && t != "viewer-request" && t != "origin-request" {
		return nil, fmt.Errorf("event type %q: only viewer-request (or origin-request) events describe a client's request", t)
	}
	rq := cf.Request
	method := rq.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validToken(method) {
		return nil, fmt.Errorf("invalid method %q", method)
	}
	if !strings.HasPrefix(rq.URI, "/") {
		return nil, fmt.Errorf("uri %q does not start with '/'", rq.URI)
	}
	client, err := netip.ParseAddr(rq.ClientIP)
	if err != nil {
		return nil, fmt.Errorf("clientIp %q is not an IP address", rq.ClientIP)
	}
	hdr := http.Header{}
	for name, raw := range rq.Headers {
		for _, rv := range raw {
			var h header
			if err := json.Unmarshal(rv, &h); err != nil {
				return nil, fmt.Errorf("header %q: %w", name, err)
			}
			key := h.Key
			if key == "" {
				key = name
			}
			if !validToken(key) || strings.ContainsAny(h.Value, "\r\n\x00") {
				return nil, fmt.Errorf("invalid header %q", key)
			}
			hdr.Add(key, h.Value)
		}
	}
	host := hdr.Get("Host")
	if host == "" {
		host = cf.Config.DistributionDomainName
	}
	if host == "" {
		host = "localhost"
	}
	target := "https://" + host + rq.URI
	if rq.QueryString != "" {
		target += "?" + rq.QueryString
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("uri: %w", err)
	}
	req := &http.Request{
		Method: method, URL: u, Host: host, Header: hdr, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		RemoteAddr: net.JoinHostPort(client.String(), "0"), RequestURI: u.RequestURI(),
	}
	return req, nil
}

// validToken reports whether s is an HTTP token (method or header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
