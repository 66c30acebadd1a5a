package httpx

import (
	"io"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// AccessHandler is the access log's slog.Handler: JSON lines exactly as
// slog.NewJSONHandler(w, nil) writes them (it is one, for any record logged through
// slog). Its Line method builds a line with the same bytes without slog's per-record
// work (a Record, one Value per attribute, the caller's program counter, the
// handler's generic encoding): the gateway writes one line per request, and on a cached
// hit slog's way cost a tenth of the request's CPU. Lines from both ways are written
// whole, one Write each, under one lock.
type AccessHandler struct {
	*slog.JSONHandler
	mu *sync.Mutex
	w  io.Writer
}

// NewAccessHandler writes JSON lines to w.
func NewAccessHandler(w io.Writer) *AccessHandler {
	mu := new(sync.Mutex)
	return &AccessHandler{JSONHandler: slog.NewJSONHandler(lockedWriter{mu, w}, nil), mu: mu, w: w}
}

// Enabled, Handle, WithAttrs and WithGroup are the JSONHandler's (lines at Info and
// above; a derived handler is a plain JSONHandler writing through the same lock).
var _ slog.Handler = (*AccessHandler)(nil)

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// AccessLine is one JSON line being built by AccessHandler.Line. Add fields in the
// order they are to appear, then Write it; it must not be used after Write.
type AccessLine struct {
	buf []byte
	h   *AccessHandler
}

var linePool = sync.Pool{New: func() any { return &AccessLine{buf: make([]byte, 0, 1024)} }}

// Line starts a line at level Info with message msg, timed now: the "time", "level"
// and "msg" fields slog.NewJSONHandler writes first.
func (h *AccessHandler) Line(msg string) *AccessLine { return h.LineAt(msg, time.Now()) }

// LineAt is Line timed t, for a caller that has just read the clock.
func (h *AccessHandler) LineAt(msg string, t time.Time) *AccessLine {
	l := linePool.Get().(*AccessLine)
	l.h = h
	b := append(l.buf[:0], `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":`...)
	l.buf = appendJSONString(b, msg)
	return l
}

func (l *AccessLine) key(k string) {
	l.buf = append(appendJSONString(append(l.buf, ','), k), ':')
}

// String adds a string field.
func (l *AccessLine) String(k, v string) {
	l.key(k)
	l.buf = appendJSONString(l.buf, v)
}

// Int adds an integer field.
func (l *AccessLine) Int(k string, v int64) {
	l.key(k)
	l.buf = strconv.AppendInt(l.buf, v, 10)
}

// Bool adds a boolean field.
func (l *AccessLine) Bool(k string, v bool) {
	l.key(k)
	l.buf = strconv.AppendBool(l.buf, v)
}

// Addr adds a string field holding a.String(), without making that string.
func (l *AccessLine) Addr(k string, a netip.Addr) {
	if !a.IsValid() {
		l.String(k, a.String())
		return
	}
	l.key(k)
	start := len(l.buf)
	l.buf = append(l.buf, '"')
	l.buf = a.AppendTo(l.buf)
	for _, c := range l.buf[start+1:] {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf { // only in a zone
			l.buf = appendJSONString(l.buf[:start], a.String())
			return
		}
	}
	l.buf = append(l.buf, '"')
}

// Float adds a number field formatted as encoding/json formats a float64 (which is
// what slog does). NaN and infinities, which JSON cannot hold, are written as slog
// writes its marshalling error for them.
func (l *AccessLine) Float(k string, v float64) {
	l.key(k)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		l.buf = append(l.buf, `"!ERROR:json: unsupported value: `...)
		l.buf = strconv.AppendFloat(l.buf, v, 'g', -1, 64)
		l.buf = append(l.buf, '"')
		return
	}
	l.buf = appendJSONFloat(l.buf, v)
}

// Write ends the line and writes it with one Write. Errors are dropped, as slog.Logger
// drops its handler's.
func (l *AccessLine) Write() {
	l.buf = append(l.buf, "}\n"...)
	h := l.h
	h.mu.Lock()
	_, _ = h.w.Write(l.buf)
	h.mu.Unlock()
	l.h = nil
	if cap(l.buf) <= 16<<10 { // a huge line (long error) is not kept
		linePool.Put(l)
	}
}

// appendJSONFloat is encoding/json's float64 encoding.
func appendJSONFloat(b []byte, f float64) []byte {
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s quoted as slog's JSON handler quotes it: control
// characters, quote and backslash escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped, HTML characters left alone.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}
