package httpx

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/netip"
	"testing"
	"time"
)

// accessField is one field of a test line: exactly one of its values is used.
type accessField struct {
	key  string
	kind byte // 's', 'i', 'f', 'b'
	s    string
	i    int64
	f    float64
	b    bool
}

// viaSlog is the line slog.NewJSONHandler writes for the fields at t.
func viaSlog(t *testing.T, at time.Time, msg string, fields []accessField) []byte {
	t.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(at, slog.LevelInfo, msg, 0)
	for _, f := range fields {
		switch f.kind {
		case 's':
			r.AddAttrs(slog.String(f.key, f.s))
		case 'i':
			r.AddAttrs(slog.Int64(f.key, f.i))
		case 'f':
			r.AddAttrs(slog.Float64(f.key, f.f))
		case 'b':
			r.AddAttrs(slog.Bool(f.key, f.b))
		}
	}
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// viaLine is the line AccessHandler.Line writes for the same fields.
func viaLine(at time.Time, msg string, fields []accessField) []byte {
	var buf bytes.Buffer
	l := NewAccessHandler(&buf).LineAt(msg, at)
	for _, f := range fields {
		switch f.kind {
		case 's':
			l.String(f.key, f.s)
		case 'i':
			l.Int(f.key, f.i)
		case 'f':
			l.Float(f.key, f.f)
		case 'b':
			l.Bool(f.key, f.b)
		}
	}
	l.Write()
	return buf.Bytes()
}

// TestAccessLineMatchesSlog: AccessLine writes the bytes slog's JSON handler writes,
// for awkward strings (escapes, invalid UTF-8, U+2028, HTML), numbers of every size
// and time zones.
func TestAccessLineMatchesSlog(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	times := []time.Time{
		time.Date(2026, 12, 3, 20, 10, 56, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, east),
		time.Date(2026, 1, 2, 3, 4, 5, 100000000, time.Local),
	}
	strs := []string{"", "plain", `q"uote\back`, "ctl\x00\x01\x1f\t\n\r", "<a href='x'>&amp;</a>",
		"bad\xffutf8\xc3", "sep\u2028and\u2029", "ünïcødé ✓ 𝄞", "/bench/obj-4k?x=1&y=2"}
	floats := []float64{0, 0.001, 0.012, 1.5, 1234.567, 1e20, 1e21, 1e-7, -3.25, 123456789.125, math.NaN(), math.Inf(1), math.Inf(-1)}
	ints := []int64{0, 1, -1, 200, 4096, math.MaxInt64, math.MinInt64}
	for _, at := range times {
		for _, s := range strs {
			for i, f := range floats {
				fields := []accessField{
					{key: "request_id", kind: 's', s: "0123456789abcdef"},
					{key: "path", kind: 's', s: s},
					{key: "status", kind: 'i', i: ints[i%len(ints)]},
					{key: "duration_ms", kind: 'f', f: f},
					{key: "aborted", kind: 'b', b: i%2 == 0},
					{key: s, kind: 's', s: s},
				}
				want, got := viaSlog(t, at, s, fields), viaLine(at, s, fields)
				if !bytes.Equal(got, want) {
					t.Fatalf("AccessLine wrote\n%s\nslog writes\n%s", got, want)
				}
			}
		}
	}
}

// TestAccessLineAddr: Addr writes what String would write of a.String().
func TestAccessLineAddr(t *testing.T) {
	at := time.Date(2026, 12, 3, 20, 10, 56, 5, time.UTC)
	for _, s := range []string{"127.0.0.1", "::1", "::ffff:10.0.0.1", "2001:db8::1", "fe80::1%eth0", "fe80::1%a\"b\u2028\xff", ""} {
		var a netip.Addr
		if s != "" {
			a = netip.MustParseAddr(s)
		}
		var buf bytes.Buffer
		l := NewAccessHandler(&buf).LineAt("request", at)
		l.Addr("client_ip", a)
		l.Write()
		if want := viaLine(at, "request", []accessField{{key: "client_ip", kind: 's', s: a.String()}}); !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("Addr(%q) wrote\n%s\nwant\n%s", s, buf.Bytes(), want)
		}
	}
}

// FuzzAccessLine: any string and number is written as slog writes it.
func FuzzAccessLine(f *testing.F) {
	f.Add("path", "/a\"b\\c\u2028", int64(200), 0.125, true)
	f.Add("", "\xff\x00", int64(-1), 1e21, false)
	f.Fuzz(func(t *testing.T, key, val string, n int64, x float64, b bool) {
		at := time.Date(2026, 12, 3, 20, 10, 56, 5, time.UTC)
		fields := []accessField{{key: key, kind: 's', s: val}, {key: "n", kind: 'i', i: n},
			{key: "x", kind: 'f', f: x}, {key: "b", kind: 'b', b: b}}
		if want, got := viaSlog(t, at, val, fields), viaLine(at, val, fields); !bytes.Equal(got, want) {
			t.Fatalf("AccessLine wrote\n%s\nslog writes\n%s", got, want)
		}
	})
}
