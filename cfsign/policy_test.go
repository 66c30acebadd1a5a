package cfsign

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestCannedPolicyJSON(t *testing.T) {
	exp := time.Unix(4070908800, 0)
	cases := []struct{ resource, want string }{
		{"https://media.example.com/private/report.pdf",
			`{"Statement":[{"Resource":"https://media.example.com/private/report.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":4070908800}}}]}`},
		{"https://h/a?x=1&y=<2>",
			`{"Statement":[{"Resource":"https://h/a?x=1&y=<2>","Condition":{"DateLessThan":{"AWS:EpochTime":4070908800}}}]}`},
		{`https://h/a"b\c`,
			`{"Statement":[{"Resource":"https://h/a\"b\\c","Condition":{"DateLessThan":{"AWS:EpochTime":4070908800}}}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.resource, func(t *testing.T) {
			if got := string(CannedPolicyJSON(tc.resource, exp)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestAppendJSONStringMatchesEncoder: the fast path writes what encoding/json writes
// with HTML escaping off (the AWS SDK for Go's encoder).
func TestAppendJSONStringMatchesEncoder(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\there", "nl\n", "\x00\x1f\x7f", `q"b\`, "<&>", "é ü", "\u2028", "bad\xffutf8"} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := string(appendJSONString(nil, s)); got != want {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func TestCustomPolicyJSON(t *testing.T) {
	dlt, dgt := time.Unix(2000000000, 0), time.Unix(1900000000, 0)
	cases := []struct {
		name string
		p    Policy
		want string // "" = error
	}{
		{"expiry only", Policy{Resource: "https://h/*", DateLessThan: dlt},
			`{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}`},
		{"no resource", Policy{DateLessThan: dlt},
			`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}`},
		{"all", Policy{Resource: "*", DateLessThan: dlt, DateGreaterThan: dgt, IPAddress: netip.MustParsePrefix("2001:db8::/32")},
			`{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"},"DateGreaterThan":{"AWS:EpochTime":1900000000}}}]}`},
		{"truncates to seconds", Policy{Resource: "*", DateLessThan: dlt.Add(999 * time.Millisecond)},
			`{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}`},
		{"no expiry", Policy{Resource: "*"}, ""},
		{"start after expiry", Policy{Resource: "*", DateLessThan: dgt, DateGreaterThan: dlt}, ""},
		{"start equals expiry", Policy{Resource: "*", DateLessThan: dlt, DateGreaterThan: dlt}, ""},
		{"before 1970", Policy{Resource: "*", DateLessThan: time.Unix(-5, 0)}, ""},
		{"resource without scheme", Policy{Resource: "h/a", DateLessThan: dlt}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CustomPolicyJSON(tc.p)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("no error; got %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			back, err := ParsePolicy(got)
			if err != nil {
				t.Fatal(err)
			}
			if back.Resource != tc.p.Resource || back.DateLessThan.Unix() != tc.p.DateLessThan.Unix() || back.IPAddress != tc.p.IPAddress {
				t.Errorf("round trip: %+v", back)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	const cond = `"Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}`
	ok := []struct {
		name, json string
		want       Policy
	}{
		{"array statement", `{"Statement":[{"Resource":"https://h/*",` + cond + `}]}`,
			Policy{Resource: "https://h/*", DateLessThan: time.Unix(2000000000, 0)}},
		{"object statement", `{"Statement":{"Resource":"https://h/*",` + cond + `}}`,
			Policy{Resource: "https://h/*", DateLessThan: time.Unix(2000000000, 0)}},
		{"condition first, whitespace", "{ \"Statement\" : [ {\n" + cond + ` , "Resource" : "*" } ] }`,
			Policy{Resource: "*", DateLessThan: time.Unix(2000000000, 0)}},
		{"no resource", `{"Statement":[{` + cond + `}]}`, Policy{DateLessThan: time.Unix(2000000000, 0)}},
		{"go sdk condition order", `{"Statement":[{"Resource":"*://h/a","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1},"DateLessThan":{"AWS:EpochTime":2}}}]}`,
			Policy{Resource: "*://h/a", DateLessThan: time.Unix(2, 0), DateGreaterThan: time.Unix(1, 0), IPAddress: netip.MustParsePrefix("192.0.2.0/24")}},
		{"bare ipv4 is /32", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"192.0.2.7"}}}]}`,
			Policy{DateLessThan: time.Unix(2, 0), IPAddress: netip.MustParsePrefix("192.0.2.7/32")}},
		{"ipv6 cidr", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"2001:db8::/48"}}}]}`,
			Policy{DateLessThan: time.Unix(2, 0), IPAddress: netip.MustParsePrefix("2001:db8::/48")}},
		{"bare ipv6 is /128", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"2001:db8::1"}}}]}`,
			Policy{DateLessThan: time.Unix(2, 0), IPAddress: netip.MustParsePrefix("2001:db8::1/128")}},
		{"epoch zero start", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"DateGreaterThan":{"AWS:EpochTime":0}}}]}`,
			Policy{DateLessThan: time.Unix(2, 0), DateGreaterThan: time.Unix(0, 0)}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if p.Resource != tc.want.Resource || !p.DateLessThan.Equal(tc.want.DateLessThan) ||
				!p.DateGreaterThan.Equal(tc.want.DateGreaterThan) || p.IPAddress != tc.want.IPAddress {
				t.Errorf("got %+v, want %+v", *p, tc.want)
			}
		})
	}
	bad := []struct{ name, json string }{
		{"empty", ``},
		{"not json", `{"Statement"`},
		{"not an object", `[]`},
		{"null", `null`},
		{"no statement", `{}`},
		{"lower-case key", `{"statement":[{` + cond + `}]}`},
		{"unknown top-level key", `{"Version":"2012-10-17","Statement":[{` + cond + `}]}`},
		{"unknown statement key", `{"Statement":[{"Effect":"Allow",` + cond + `}]}`},
		{"unknown condition key", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"StringLike":{"a":"b"}}}]}`},
		{"unknown epoch key", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2,"x":1}}}]}`},
		{"unknown ip key", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"1.2.3.4","x":1}}}]}`},
		{"duplicate key", `{"Statement":[{"Resource":"*","Resource":"https://h/a",` + cond + `}]}`},
		{"duplicate condition", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"DateLessThan":{"AWS:EpochTime":3}}}]}`},
		{"two statements", `{"Statement":[{` + cond + `},{` + cond + `}]}`},
		{"zero statements", `{"Statement":[]}`},
		{"statement string", `{"Statement":"x"}`},
		{"null statement", `{"Statement":null}`},
		{"no condition", `{"Statement":[{"Resource":"*"}]}`},
		{"no DateLessThan", `{"Statement":[{"Condition":{"DateGreaterThan":{"AWS:EpochTime":2}}}]}`},
		{"fraction epoch", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2.5}}}]}`},
		{"exponent epoch", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2e9}}}]}`},
		{"string epoch", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"2000000000"}}}]}`},
		{"negative epoch", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}`},
		{"leading zero epoch", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":02}}}]}`},
		{"huge epoch", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":99999999999999999999}}}]}`},
		{"empty epoch object", `{"Statement":[{"Condition":{"DateLessThan":{}}}]}`},
		{"bad cidr", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"192.0.2.0/33"}}}]}`},
		{"two cidrs", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":["192.0.2.0/24","198.51.100.0/24"]}}}]}`},
		{"zone", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"fe80::1%eth0"}}}]}`},
		{"empty ip", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{}}}]}`},
		{"resource not a string", `{"Statement":[{"Resource":["*"],` + cond + `}]}`},
		{"resource empty", `{"Statement":[{"Resource":"",` + cond + `}]}`},
		{"resource without scheme", `{"Statement":[{"Resource":"media.example.com/a",` + cond + `}]}`},
		{"trailing data", `{"Statement":[{` + cond + `}]} {}`},
		{"trailing garbage", `{"Statement":[{` + cond + `}]}x`},
		{"invalid utf-8", "{\"Statement\":[{\"Resource\":\"https://h/\xff\"," + cond + "}]}"},
		{"oversized", `{"Statement":[{"Resource":"https://h/` + strings.Repeat("a", MaxPolicyBytes) + `",` + cond + `}]}`},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			if p, err := ParsePolicy([]byte(tc.json)); err == nil {
				t.Errorf("accepted: %+v", *p)
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	dlt, dgt := time.Unix(2000000000, 0), time.Unix(1900000000, 0)
	p := &Policy{Resource: "https://h/a/*", DateLessThan: dlt, DateGreaterThan: dgt, IPAddress: netip.MustParsePrefix("192.0.2.0/24")}
	in := netip.MustParseAddr("192.0.2.9")
	mid := time.Unix(1950000000, 0)
	cases := []struct {
		name     string
		resource string
		client   netip.Addr
		now      time.Time
		want     error
	}{
		{"ok", "https://h/a/b", in, mid, nil},
		{"one second before expiry", "https://h/a/b", in, dlt.Add(-time.Second), nil},
		{"last nanosecond before expiry", "https://h/a/b", in, dlt.Add(-time.Nanosecond), nil},
		{"DateLessThan exactly now", "https://h/a/b", in, dlt, ErrExpired},
		{"after expiry", "https://h/a/b", in, dlt.Add(time.Second), ErrExpired},
		{"DateGreaterThan exactly now", "https://h/a/b", in, dgt, ErrNotYetValid},
		{"within the start second", "https://h/a/b", in, dgt.Add(999 * time.Millisecond), ErrNotYetValid},
		{"one second after start", "https://h/a/b", in, dgt.Add(time.Second), nil},
		{"before start", "https://h/a/b", in, dgt.Add(-time.Hour), ErrNotYetValid},
		{"outside range", "https://h/a/b", netip.MustParseAddr("198.51.100.1"), mid, ErrWrongIP},
		{"unknown client", "https://h/a/b", netip.Addr{}, mid, ErrWrongIP},
		{"ipv4-mapped client", "https://h/a/b", netip.MustParseAddr("::ffff:192.0.2.9"), mid, nil},
		{"ipv6 client, ipv4 policy", "https://h/a/b", netip.MustParseAddr("2001:db8::1"), mid, ErrWrongIP},
		{"resource mismatch", "https://h/b/c", in, mid, ErrResourceMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.resource, tc.client, tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	err := p.Check("https://h/a/b", in, dlt)
	if want := "expired at 2033-05-18T03:33:20Z"; err == nil || err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	v6 := &Policy{DateLessThan: dlt, IPAddress: netip.MustParsePrefix("2001:db8::/32")}
	if err := v6.Check("https://h/", netip.MustParseAddr("2001:db8:1::5"), mid); err != nil {
		t.Errorf("ipv6 inside: %v", err)
	}
	if err := v6.Check("https://h/", netip.MustParseAddr("2001:db9::5"), mid); !errors.Is(err, ErrWrongIP) {
		t.Errorf("ipv6 outside: %v", err)
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(`{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}`))
	f.Add([]byte(`{"Statement":{"Condition":{"IpAddress":{"AWS:SourceIp":"2001:db8::/32"},"DateGreaterThan":{"AWS:EpochTime":1},"DateLessThan":{"AWS:EpochTime":2}}}}`))
	f.Add([]byte(`{"Statement":[{"Resource":"*","Resource":"x"}]}`))
	f.Add([]byte(`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1e3}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			return
		}
		if p.DateLessThan.IsZero() || len(data) > MaxPolicyBytes {
			t.Fatalf("accepted without expiry or oversized: %+v", *p)
		}
		// An accepted policy survives a round trip through CustomPolicyJSON.
		out, err := CustomPolicyJSON(*p)
		if err != nil {
			return // e.g. a start not before the expiry: parsed, but never valid
		}
		q, err := ParsePolicy(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if q.Resource != p.Resource || !q.DateLessThan.Equal(p.DateLessThan) || !q.DateGreaterThan.Equal(p.DateGreaterThan) || q.IPAddress != p.IPAddress {
			t.Fatalf("round trip changed %+v to %+v", *p, *q)
		}
	})
}
