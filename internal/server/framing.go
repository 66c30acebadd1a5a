package server

// This file holds the HTTP/1.x framing checker: a pure state machine, with no I/O, that
// follows the request stream of one connection and finds where each request's head and
// body end. framingConn (framingconn.go) runs it on every byte before net/http sees it.
//
// Why it is hand-written: net/http accepts what RFC 9112 lets a server accept but a proxy
// in front of gatehouse may frame differently. It drops Content-Length when
// "Transfer-Encoding: chunked" is present (transfer.go), and textproto takes bare-LF line
// ends and obs-folded continuation lines. A handler sees neither, so the check has to run
// on the connection, before net/http parses the head. No maintained Go library does
// this for a server (golang.org/x/net/http/httpguts only validates single tokens).
//
// The grammar accepted is a strict subset of what net/http accepts, chosen so that for
// every request the checker passes, net/http ends the head and the body at the same byte.
// Where the two could disagree the checker refuses: a bad head gets a 400 and the
// connection is closed; a body it cannot follow strictly ends the connection. Anything it
// accepts that net/http refuses, net/http answers and closes on its own. FuzzFramer
// checks the agreement against net/http's own parser.

import (
	"bytes"
	"math"
	"strings"
)

// verdict is what scan found at the first byte it did not release.
type verdict uint8

const (
	// needMore: everything after the released bytes is the start of a head that has not
	// ended yet; hold it and call scan again with more bytes appended.
	needMore verdict = iota
	// refuse: a head starts at the first unreleased byte and is ambiguous or malformed.
	// The client gets 400 and the connection is closed.
	refuse
	// tooLarge: a head starts at the first unreleased byte and is longer than the limit.
	// The client gets 431 and the connection is closed.
	tooLarge
	// lost: a body cannot be followed strictly, so where the next request starts is not
	// known. The connection must end after the released bytes.
	lost
)

// framer states.
const (
	stHead         uint8 = iota // in a request head (possibly not started)
	stBody                      // Content-Length body: remain bytes left
	stChunkSize                 // chunk-size digits
	stChunkWS                   // whitespace after the chunk size
	stChunkExt                  // a chunk extension, up to CR
	stChunkLF                   // LF ending a chunk-size line
	stChunkData                 // chunk data: remain bytes left
	stDataCR                    // CR after chunk data
	stDataLF                    // LF after chunk data
	stTrailerStart              // start of a trailer line (or the final CRLF)
	stTrailerName               // trailer field name
	stTrailerValue              // trailer field value, up to CR
	stTrailerLF                 // LF ending a trailer field line
	stEndLF                     // LF of the final CRLF
	stDead                      // refused or lost: nothing more is released
)

const (
	// maxChunkLine is net/http's limit on a chunk-size line (internal/chunked.go); a
	// longer one is refused there, so it ends the connection here.
	maxChunkLine = 4096
	// maxTrailer bounds the trailer section. net/http needs the whole trailer within its
	// 4 KiB read buffer (transfer.go, seeUpcomingDoubleCRLF).
	maxTrailer = 4096
	// maxLeadingCRLF is how many empty lines may come before a request line (RFC 9112
	// §2.2 asks servers to ignore at least one).
	maxLeadingCRLF = 2
)

// framer follows one connection's HTTP/1.x request stream. The zero value is not ready:
// use newFramer. It is not safe for concurrent use.
type framer struct {
	maxHead int // longest head, in bytes, before tooLarge
	state   uint8
	remain  uint64 // bytes left in a Content-Length body or a chunk

	// The head being parsed. Heads are held until they end, so the caller passes the
	// whole head again on every call; off is how far into it complete lines were parsed.
	off     int
	reqLine bool
	http10  bool
	cl      int64 // Content-Length, -1 when absent
	te      int   // Transfer-Encoding fields seen
	chunked bool  // the (last) Transfer-Encoding field is exactly "chunked"
	leading int   // empty lines before the request line

	// A chunked body.
	digits int // hex digits of the chunk size so far
	line   int // bytes of the current chunk-size line
	trail  int // bytes of the trailer section

	// requests counts requests whose head and body both ended.
	requests uint64
	// reason says why the framer refused or lost the stream, for the log.
	reason string
}

// newFramer returns a framer that refuses heads longer than maxHead bytes.
func newFramer(maxHead int) framer {
	f := framer{maxHead: maxHead}
	f.resetHead()
	return f
}

func (f *framer) resetHead() {
	f.state, f.off, f.reqLine = stHead, 0, false
	f.http10, f.cl, f.te, f.chunked, f.leading = false, -1, 0, false, 0
}

// scan looks at b, the bytes after the last one released, and returns how many of them
// may be released now and what stops it at that point. When it returns needMore with
// n < len(b), the caller must keep b[n:] and pass it again at the start of the next b.
func (f *framer) scan(b []byte) (n int, v verdict) {
	for n < len(b) {
		switch f.state {
		case stHead:
			end, v := f.head(b[n:])
			if v != needMore || end == 0 {
				return n, v
			}
			n += end
		case stBody, stChunkData:
			k := min(uint64(len(b)-n), f.remain)
			n += int(k)
			f.remain -= k
			if f.remain == 0 {
				if f.state == stBody {
					f.requests++
					f.resetHead()
				} else {
					f.state = stDataCR
				}
			}
		case stDead:
			return n, lost
		default:
			if !f.chunkByte(b[n]) {
				f.state = stDead
				return n, lost
			}
			n++
		}
	}
	return n, needMore
}

// head parses the complete lines of h (a head from its first byte) that have not been
// parsed yet. It returns the head's length once its empty line is found, 0 while the
// head has not ended, or a verdict that refuses it.
func (f *framer) head(h []byte) (int, verdict) {
	for {
		i := bytes.IndexByte(h[f.off:], '\n')
		if i < 0 {
			if len(h) > f.maxHead {
				return 0, f.kill(tooLarge, "head longer than the limit")
			}
			return 0, needMore
		}
		start, end := f.off, f.off+i // h[end] == '\n'
		f.off = end + 1
		if f.off > f.maxHead {
			return 0, f.kill(tooLarge, "head longer than the limit")
		}
		if end == start || h[end-1] != '\r' {
			return 0, f.kill(refuse, "bare LF line end")
		}
		line := h[start : end-1]
		switch {
		case !f.reqLine && len(line) == 0:
			if f.leading++; f.leading > maxLeadingCRLF {
				return 0, f.kill(refuse, "empty lines before the request line")
			}
		case !f.reqLine:
			if !f.requestLine(line) {
				return 0, f.kill(refuse, "malformed request line")
			}
			f.reqLine = true
		case len(line) == 0:
			if v := f.endHead(); v != needMore {
				return 0, v
			}
			return end + 1, needMore
		default:
			if reason := f.field(line); reason != "" {
				return 0, f.kill(refuse, reason)
			}
		}
	}
}

// requestLine checks method SP request-target SP HTTP-version, splitting it the way
// net/http does (at the first two spaces), and records the version. Only HTTP/1.0 and
// HTTP/1.1 are accepted: they are the versions whose framing this file knows.
func (f *framer) requestLine(l []byte) bool {
	i := 0
	for i < len(l) && isTchar(l[i]) {
		i++
	}
	if i == 0 || i == len(l) || l[i] != ' ' {
		return false
	}
	j := i + 1
	for j < len(l) && l[j] > ' ' && l[j] != 0x7f {
		j++
	}
	if j == i+1 || j == len(l) || l[j] != ' ' {
		return false
	}
	switch string(l[j+1:]) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		f.http10 = true
	default:
		return false
	}
	return true
}

// field checks one header field line and records the framing headers. It returns why the
// line is refused, or "".
func (f *framer) field(l []byte) string {
	if l[0] == ' ' || l[0] == '\t' {
		return "obs-fold continuation line"
	}
	i := 0
	for i < len(l) && isTchar(l[i]) {
		i++
	}
	if i == 0 || i == len(l) || l[i] != ':' {
		return "malformed header field"
	}
	name, v := l[:i], l[i+1:]
	for _, c := range v {
		if !isFieldValueByte(c) {
			return "control character in a header value"
		}
	}
	v = trimOWS(v)
	switch {
	case equalFoldASCII(name, "content-length"):
		n, ok := parseDecimal(v)
		if !ok {
			return "invalid Content-Length"
		}
		if f.cl >= 0 && f.cl != n {
			return "differing Content-Length fields"
		}
		f.cl = n
	case equalFoldASCII(name, "transfer-encoding"):
		f.te++
		f.chunked = equalFoldASCII(v, "chunked")
	}
	return ""
}

// endHead decides how the body is framed once the head has ended (RFC 9112 §6.3), or
// refuses the head: Content-Length with Transfer-Encoding, Transfer-Encoding other than
// exactly one "chunked" field, and Transfer-Encoding in HTTP/1.0 (which net/http ignores
// while a proxy may not) are all refused.
func (f *framer) endHead() verdict {
	switch {
	case f.te > 0 && f.cl >= 0:
		return f.kill(refuse, "both Content-Length and Transfer-Encoding")
	case f.te > 0 && f.http10:
		return f.kill(refuse, "Transfer-Encoding in HTTP/1.0")
	case f.te > 1 || (f.te == 1 && !f.chunked):
		return f.kill(refuse, "Transfer-Encoding other than one chunked")
	case f.te == 1:
		f.resetHead()
		f.state, f.digits, f.line, f.remain = stChunkSize, 0, 0, 0
	case f.cl > 0:
		n := uint64(f.cl)
		f.resetHead()
		f.state, f.remain = stBody, n
	default:
		f.resetHead()
		f.requests++
	}
	return needMore
}

func (f *framer) kill(v verdict, reason string) verdict {
	f.state, f.reason = stDead, reason
	return v
}

// chunkByte advances the chunked-body states by one byte and reports whether the byte
// fits the grammar net/http reads (internal/chunked.go, transfer.go):
//
//	chunk-line = 1*16HEXDIG ( *( SP / HTAB ) / ";" ext ) CRLF   ; under 4096 bytes
//	chunk      = chunk-line data CRLF
//	last       = chunk-line with size 0, then *( field CRLF ) CRLF
//
// Trailer fields follow the same rules as header fields (no obs-fold).
func (f *framer) chunkByte(c byte) bool {
	switch f.state {
	case stChunkSize, stChunkWS, stChunkExt, stChunkLF:
		if f.line++; f.line > maxChunkLine {
			f.reason = "chunk-size line too long"
			return false
		}
	case stTrailerStart, stTrailerName, stTrailerValue, stTrailerLF, stEndLF:
		if f.trail++; f.trail > maxTrailer {
			f.reason = "trailer too long"
			return false
		}
	}
	ok := true
	switch f.state {
	case stChunkSize:
		if d, hex := hexVal(c); hex {
			if f.digits++; f.digits > 16 {
				ok = false
				break
			}
			f.remain = f.remain<<4 | uint64(d)
			break
		}
		switch {
		case f.digits == 0:
			ok = false
		case c == ';':
			f.state = stChunkExt
		case c == ' ' || c == '\t':
			f.state = stChunkWS
		case c == '\r':
			f.state = stChunkLF
		default:
			ok = false
		}
	case stChunkWS:
		switch c {
		case ' ', '\t':
		case '\r':
			f.state = stChunkLF
		default:
			ok = false // net/http refuses "1 ;ext"
		}
	case stChunkExt:
		switch {
		case c == '\r':
			f.state = stChunkLF
		case !isFieldValueByte(c):
			ok = false
		}
	case stChunkLF:
		switch {
		case c != '\n':
			ok = false
		case f.remain == 0:
			f.state, f.trail = stTrailerStart, 0
		default:
			f.state = stChunkData
		}
	case stDataCR:
		f.state, ok = stDataLF, c == '\r'
	case stDataLF:
		f.state, f.digits, f.line, f.remain, ok = stChunkSize, 0, 0, 0, c == '\n'
	case stTrailerStart:
		switch {
		case c == '\r':
			f.state = stEndLF
		case isTchar(c):
			f.state = stTrailerName
		default:
			ok = false // obs-fold, or an empty name
		}
	case stTrailerName:
		switch {
		case c == ':':
			f.state = stTrailerValue
		case !isTchar(c):
			ok = false
		}
	case stTrailerValue:
		switch {
		case c == '\r':
			f.state = stTrailerLF
		case !isFieldValueByte(c):
			ok = false
		}
	case stTrailerLF:
		f.state, ok = stTrailerStart, c == '\n'
	case stEndLF:
		if ok = c == '\n'; ok {
			f.requests++
			f.resetHead()
		}
	}
	if !ok && f.reason == "" {
		f.reason = "malformed chunked body"
	}
	return ok
}

// Byte classes, from RFC 9110 §5.6.2 (tchar) and §5.5 (field-value: VCHAR, SP, HTAB,
// obs-text).
var tchars, valueBytes [256]bool

func init() {
	for c := 0; c < 256; c++ {
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		tchars[c] = alnum || c < 0x80 && c > 0 && strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
		valueBytes[c] = c == '\t' || c >= 0x20 && c != 0x7f
	}
}

func isTchar(c byte) bool          { return tchars[c] }
func isFieldValueByte(c byte) bool { return valueBytes[c] }
func hexVal(c byte) (byte, bool)   { return hexTable[c] & 0x0f, hexTable[c]&0x10 != 0 }

// trimOWS removes optional whitespace (SP, HTAB) around a field value.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

var hexTable = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= '0' && c <= '9':
			t[c] = 0x10 | byte(c-'0')
		case c >= 'a' && c <= 'f':
			t[c] = 0x10 | byte(c-'a'+10)
		case c >= 'A' && c <= 'F':
			t[c] = 0x10 | byte(c-'A'+10)
		}
	}
	return t
}()

// parseDecimal parses 1*DIGIT into a non-negative int64, as net/http's
// parseContentLength does (strconv.ParseUint(s, 10, 63)).
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// equalFoldASCII reports whether b equals lower, a lower-case ASCII string, ignoring
// ASCII case.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
