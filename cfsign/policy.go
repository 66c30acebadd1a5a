package cfsign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxPolicyBytes is the largest custom policy accepted, in JSON bytes (its base64 form
// is a third longer). Real policies are a few hundred bytes; 4 KiB leaves room for a
// long Resource while keeping the base64 form inside one 8 KiB URL or one cookie. Larger
// policies are refused before the signature is checked.
const MaxPolicyBytes = 4096

// Policy is one CloudFront policy statement: what may be fetched, when, and from where.
type Policy struct {
	// Resource is a URL pattern (see MatchResource); "" means any resource the key may
	// sign (the statement had no Resource).
	Resource string
	// DateLessThan is the expiry: requests are accepted while the current second is
	// before it. Required. Policies carry whole seconds.
	DateLessThan time.Time
	// DateGreaterThan, when not zero, is the start: requests are accepted once the
	// current second is after it.
	DateGreaterThan time.Time
	// IPAddress, when valid, is the range the client address must be in.
	IPAddress netip.Prefix
}

// CannedPolicyJSON returns the canned policy for resource and expires exactly as the AWS
// CLI and SDKs build it and as CloudFront rebuilds it from a request, byte for byte:
//
//	{"Statement":[{"Resource":"<resource>","Condition":{"DateLessThan":{"AWS:EpochTime":<expires>}}}]}
//
// The resource is written as Go's encoding/json writes a string with HTML escaping off
// (the Go SDK's encoder); for ASCII resources this is also what the AWS CLI writes.
// Non-ASCII characters should be percent-encoded in the URL before signing, as the AWS
// signers require.
func CannedPolicyJSON(resource string, expires time.Time) []byte {
	b := make([]byte, 0, len(resource)+80)
	b = append(b, `{"Statement":[{"Resource":`...)
	b = appendJSONString(b, resource)
	b = append(b, `,"Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	b = strconv.AppendInt(b, expires.Unix(), 10)
	return append(b, "}}}]}"...)
}

// CustomPolicyJSON returns p as a custom policy in the AWS CLI's layout: one statement in
// an array, Resource first (omitted when empty), then the conditions in the order
// DateLessThan, IpAddress, DateGreaterThan, with no whitespace. Custom policies travel
// with the request, so any layout verifies; this one reproduces the AWS CLI's output
// byte for byte. DateLessThan is required and must be after DateGreaterThan when that is
// set; times are truncated to whole seconds.
func CustomPolicyJSON(p Policy) ([]byte, error) {
	if p.DateLessThan.IsZero() {
		return nil, errors.New("policy needs an expiry (DateLessThan)")
	}
	if p.DateLessThan.Unix() < 0 || (!p.DateGreaterThan.IsZero() && p.DateGreaterThan.Unix() < 0) {
		return nil, errors.New("policy times must not be before 1970")
	}
	if !p.DateGreaterThan.IsZero() && p.DateGreaterThan.Unix() >= p.DateLessThan.Unix() {
		return nil, fmt.Errorf("start %s is not before expiry %s", fmtTime(p.DateGreaterThan), fmtTime(p.DateLessThan))
	}
	if p.Resource != "" {
		if err := checkResourcePattern(p.Resource); err != nil {
			return nil, err
		}
	}
	b := append(make([]byte, 0, len(p.Resource)+160), `{"Statement":[{`...)
	if p.Resource != "" {
		b = append(b, `"Resource":`...)
		b = appendJSONString(b, p.Resource)
		b = append(b, ',')
	}
	b = append(b, `"Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	b = strconv.AppendInt(b, p.DateLessThan.Unix(), 10)
	b = append(b, '}')
	if p.IPAddress.IsValid() {
		b = append(b, `,"IpAddress":{"AWS:SourceIp":`...)
		b = appendJSONString(b, p.IPAddress.String())
		b = append(b, '}')
	}
	if !p.DateGreaterThan.IsZero() {
		b = append(b, `,"DateGreaterThan":{"AWS:EpochTime":`...)
		b = strconv.AppendInt(b, p.DateGreaterThan.Unix(), 10)
		b = append(b, '}')
	}
	return append(b, "}}]}"...), nil
}

// appendJSONString appends s as a JSON string the way encoding/json does with HTML
// escaping off.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// checkResourcePattern accepts "*", patterns starting with '*' (any scheme), and
// patterns with a scheme ("https://…", "http*://…", "*://…").
func checkResourcePattern(r string) error {
	if r == "" {
		return errors.New("policy Resource is empty")
	}
	if r[0] == '*' {
		return nil
	}
	if i := strings.Index(r, "://"); i > 0 && !strings.ContainsAny(r[:i], "/\\") {
		return nil
	}
	return fmt.Errorf("policy Resource %s has no scheme (want https://…, *://… or *)", clip(r))
}

// ParsePolicy parses a custom policy strictly. Accepted: a "Statement" that is one
// object or an array of exactly one object; an optional "Resource" string; a required
// "Condition" with a required "DateLessThan" and optional "DateGreaterThan" (each
// {"AWS:EpochTime": N}, N a non-negative integer without sign, fraction, exponent or
// leading zeros) and optional "IpAddress" ({"AWS:SourceIp": "CIDR"}, one IPv4 or IPv6
// CIDR; a bare address means /32 or /128); conditions in any order; JSON whitespace.
// Refused: more than MaxPolicyBytes, invalid UTF-8, unknown or duplicate keys at any
// level (keys are case-sensitive), several statements, nulls, anything after the
// policy. Callers verify the signature over the bytes before parsing them.
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("%d bytes is more than the %d allowed", len(data), MaxPolicyBytes)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var top json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the policy")
	}
	var p Policy
	var stmt json.RawMessage
	err := object(top, "policy", map[string]func(json.RawMessage) error{
		"Statement": func(v json.RawMessage) error { stmt = v; return nil },
	})
	if err != nil {
		return nil, err
	}
	if stmt == nil {
		return nil, errors.New("no Statement")
	}
	if stmt[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(stmt, &list); err != nil {
			return nil, fmt.Errorf("policy Statement: %v", err)
		}
		if len(list) != 1 {
			return nil, fmt.Errorf("policy Statement: want exactly one statement, got %d", len(list))
		}
		stmt = list[0]
	}
	var cond json.RawMessage
	hasResource := false
	err = object(stmt, "Statement", map[string]func(json.RawMessage) error{
		"Resource": func(v json.RawMessage) error {
			hasResource = true
			return str(v, "Resource", &p.Resource)
		},
		"Condition": func(v json.RawMessage) error { cond = v; return nil },
	})
	if err != nil {
		return nil, err
	}
	if hasResource {
		if err := checkResourcePattern(p.Resource); err != nil {
			return nil, err
		}
	}
	if cond == nil {
		return nil, errors.New("policy Statement has no Condition")
	}
	err = object(cond, "Condition", map[string]func(json.RawMessage) error{
		"DateLessThan":    func(v json.RawMessage) error { return epoch(v, "DateLessThan", &p.DateLessThan) },
		"DateGreaterThan": func(v json.RawMessage) error { return epoch(v, "DateGreaterThan", &p.DateGreaterThan) },
		"IpAddress": func(v json.RawMessage) error {
			var s string
			err := object(v, "IpAddress", map[string]func(json.RawMessage) error{
				"AWS:SourceIp": func(v json.RawMessage) error { return str(v, "AWS:SourceIp", &s) },
			})
			if err != nil {
				return err
			}
			if s == "" {
				return errors.New("IpAddress has no AWS:SourceIp")
			}
			if p.IPAddress, err = ParsePrefix(s); err != nil {
				return fmt.Errorf("AWS:SourceIp: %w", err)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if p.DateLessThan.IsZero() {
		return nil, errors.New("policy Condition has no DateLessThan")
	}
	return &p, nil
}

// ParsePrefix parses one CIDR as policies and the CLI accept it: "192.0.2.0/24",
// "2001:db8::/32", or a bare address meaning /32 or /128. Zones are refused.
func ParsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR", clip(s))
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s is not a CIDR", clip(s))
	}
	return p, nil
}

// object walks a JSON object, calling the handler for each key; unknown keys, duplicate
// keys and non-objects are errors.
func object(raw json.RawMessage, what string, fields map[string]func(json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("%s: want an object", what)
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		key := t.(string) // object keys are always strings
		fn, ok := fields[key]
		if !ok {
			return fmt.Errorf("%s: unknown key %s", what, clip(key))
		}
		if seen[key] {
			return fmt.Errorf("%s: duplicate key %q", what, key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s.%s: %v", what, key, err)
		}
		if string(v) == "null" {
			return fmt.Errorf("%s.%s: null", what, key)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

func str(raw json.RawMessage, what string, dst *string) error {
	if raw[0] != '"' {
		return fmt.Errorf("%s: want a string", what)
	}
	return json.Unmarshal(raw, dst)
}

// maxEpoch is the last second of year 9999: later times are not real expiries.
const maxEpoch = 253402300799

func epoch(raw json.RawMessage, what string, dst *time.Time) error {
	var num json.RawMessage
	err := object(raw, what, map[string]func(json.RawMessage) error{
		"AWS:EpochTime": func(v json.RawMessage) error { num = v; return nil },
	})
	if err != nil {
		return err
	}
	if num == nil {
		return fmt.Errorf("%s has no AWS:EpochTime", what)
	}
	n, ok := parseEpoch(string(num))
	if !ok {
		return fmt.Errorf("%s: AWS:EpochTime %s is not a whole number of seconds", what, clip(string(num)))
	}
	*dst = time.Unix(n, 0).UTC()
	return nil
}

// parseEpoch accepts a canonical non-negative decimal integer up to maxEpoch.
func parseEpoch(s string) (int64, bool) {
	if s == "" || len(s) > 12 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n <= maxEpoch
}

// Check reports whether the policy allows a request for resource from client at now,
// returning nil or an error wrapping ErrExpired, ErrNotYetValid, ErrWrongIP or
// ErrResourceMismatch (checked in that order). Times compare in whole seconds: a policy
// with DateLessThan T allows requests up to T-1 and refuses at T; with DateGreaterThan S
// it refuses at S and allows from S+1. A policy with an IpAddress refuses a request
// whose client address is unknown (the zero Addr). IPv4-mapped IPv6 client addresses
// are compared as IPv4.
func (p *Policy) Check(resource string, client netip.Addr, now time.Time) error {
	return p.check(resource, client, now, true)
}

// check is Check; matchResource false skips the Resource (a canned policy's resource is
// the request's own, and its signature already covers it).
func (p *Policy) check(resource string, client netip.Addr, now time.Time, matchResource bool) error {
	sec := now.Unix()
	if sec >= p.DateLessThan.Unix() {
		return fmt.Errorf("%w at %s", ErrExpired, fmtTime(p.DateLessThan))
	}
	if !p.DateGreaterThan.IsZero() && sec <= p.DateGreaterThan.Unix() {
		return fmt.Errorf("%w: valid after %s", ErrNotYetValid, fmtTime(p.DateGreaterThan))
	}
	if p.IPAddress.IsValid() {
		c := client.Unmap()
		if !c.IsValid() {
			return fmt.Errorf("%w: client address unknown, policy requires %s", ErrWrongIP, p.IPAddress)
		}
		if !p.IPAddress.Contains(c) {
			return fmt.Errorf("%w: %s is outside %s", ErrWrongIP, c, p.IPAddress)
		}
	}
	if matchResource && p.Resource != "" && !MatchResource(p.Resource, resource) {
		return fmt.Errorf("%w: %s does not match %s", ErrResourceMismatch, clip(resource), clip(p.Resource))
	}
	return nil
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// clip quotes s for an error message, shortened: values in errors may come from clients.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
