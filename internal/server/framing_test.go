package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// chunkConn is a net.Conn whose input is a list of chunks, each returned by its own
// Read (a chunk larger than the buffer is returned over several); a nil chunk is a read
// deadline passing.
type chunkConn struct {
	net.Conn // nil: only Read, Close and RemoteAddr are used
	chunks   [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	if c.chunks[0] == nil {
		c.chunks = c.chunks[1:]
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}
func (c *chunkConn) Close() error         { return nil }
func (c *chunkConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// through returns what net/http would read from a framingConn over in, cut into chunks
// by split, read with buffers of bufSize bytes, and the reason of a refusal.
func through(in string, split func(string) []string, bufSize int) (string, string) {
	var chunks [][]byte
	for _, s := range split(in) {
		chunks = append(chunks, []byte(s))
	}
	reason := ""
	c := newFramingConn(&chunkConn{chunks: chunks}, 1024, func(_ net.Conn, r string) { reason = r })
	var out bytes.Buffer
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if i := bytes.Index(out.Bytes(), []byte(tooLargeHead)); i >= 0 && out.Len() >= i+len(tooLargeHead)+4 {
			// The endless value: keep four bytes of it, however it was read.
			return out.String()[:i+len(tooLargeHead)+4], reason
		}
		if err != nil {
			return out.String(), reason
		}
	}
}

var splits = map[string]func(string) []string{
	"whole":  func(s string) []string { return []string{s} },
	"bytes":  func(s string) []string { return strings.Split(s, "") },
	"sevens": func(s string) []string { return cut(s, 7) },
}

func cut(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

const (
	getA     = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	getB     = "GET /b HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
	smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
)

func TestFramer(t *testing.T) {
	chunked := "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;name=value\r\nhello\r\n1 \r\n!\r\n0\r\nX-Trailer: t\r\n\r\n"
	for _, tc := range []struct {
		name, in string
		out      string // "": the same as in
		reason   string // "": accepted
	}{
		{"get", getA, "", ""},
		{"pipelined gets", getA + getB + getA, "", ""},
		{"content-length body", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + getA, "", ""},
		{"content-length zero", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" + getA, "", ""},
		{"equal content-lengths", "POST /p HTTP/1.1\r\nContent-Length: 2\r\nContent-Length:  2 \r\n\r\nhi" + getA, "", ""},
		{"chunked with extension and trailer", chunked + getA, "", ""},
		{"chunked OWS and case", "POST /c HTTP/1.1\r\nTransfer-Encoding:  ChunKed \r\n\r\n0\r\n\r\n" + getA, "", ""},
		{"http/1.0", "GET / HTTP/1.0\r\n\r\n", "", ""},
		{"one leading CRLF", "\r\n" + getA, "", ""},
		{"obs-text in a value", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", "", ""},

		{"CL then TE", getA + "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 36\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, getA + refusedLine, "both Content-Length and Transfer-Encoding"},
		{"smuggled after a content-length body", "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + "GET / HTTP/1.1\nHost: x\r\n\r\n",
			"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + refusedLine, "bare LF line end"},
		{"smuggled after a chunked body", chunked + "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
			chunked + refusedLine, "both Content-Length and Transfer-Encoding"},
		{"TE then CL", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled, refusedLine, "both Content-Length and Transfer-Encoding"},
		{"TE obs-folded", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + smuggled, refusedLine, "obs-fold continuation line"},
		{"TE on a folded line", "POST / HTTP/1.1\r\nX: a\r\n\tTransfer-Encoding: chunked\r\n\r\n", refusedLine, "obs-fold continuation line"},
		{"bare LF in the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", refusedLine, "bare LF line end"},
		{"bare LF in a field", "GET / HTTP/1.1\r\nHost: x\n\r\n", refusedLine, "bare LF line end"},
		{"bare LF ends the head", "GET / HTTP/1.1\r\nHost: x\r\n\n", refusedLine, "bare LF line end"},
		{"lone CR in a value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", refusedLine, "control character in a header value"},
		{"NUL in a value", "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", refusedLine, "control character in a header value"},
		{"differing content-lengths", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", refusedLine, "differing Content-Length fields"},
		{"content-length list", "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", refusedLine, "invalid Content-Length"},
		{"content-length sign", "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", refusedLine, "invalid Content-Length"},
		{"content-length empty", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", refusedLine, "invalid Content-Length"},
		{"content-length overflow", "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", refusedLine, "invalid Content-Length"},
		{"TE gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", refusedLine, "Transfer-Encoding other than one chunked"},
		{"TE list", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", refusedLine, "Transfer-Encoding other than one chunked"},
		{"two TE fields", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", refusedLine, "Transfer-Encoding other than one chunked"},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", refusedLine, "Transfer-Encoding in HTTP/1.0"},
		{"space before colon", "POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", refusedLine, "malformed header field"},
		{"no colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", refusedLine, "malformed header field"},
		{"HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", refusedLine, "malformed request line"},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", refusedLine, "malformed request line"},
		{"two spaces", "GET  / HTTP/1.1\r\n\r\n", refusedLine, "malformed request line"},
		{"three leading CRLFs", "\r\n\r\n\r\n" + getA, refusedLine, "empty lines before the request line"},

		{"chunk line bare LF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + smuggled,
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5", "malformed chunked body"},
		{"chunk data without CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na", "malformed chunked body"},
		{"chunk size 17 digits", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000", "malformed chunked body"},
		{"space before chunk extension", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 ;x\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 ", "malformed chunked body"},
		{"folded trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n", "malformed chunked body"},
	} {
		for sname, split := range splits {
			for _, bufSize := range []int{1, 5, 4096} {
				out, reason := through(tc.in, split, bufSize)
				want := tc.out
				if want == "" {
					want = tc.in
				}
				if out != want || reason != tc.reason {
					t.Errorf("%s (%s, buffer %d):\n got %q (%q)\nwant %q (%q)", tc.name, sname, bufSize, out, reason, want, tc.reason)
				}
			}
		}
	}
}

// TestFramerTooLarge: a head past the limit becomes one net/http answers with 431.
func TestFramerTooLarge(t *testing.T) {
	in := getA + "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 2000) + "\r\n\r\n"
	out, reason := through(in, splits["sevens"], 512)
	if out != getA+tooLargeHead+"aaaa" || reason != "head longer than the limit" {
		t.Fatalf("got %.80q... (%q)", out, reason)
	}
}

// TestFramingConnKeepsHeldHeadOnTimeout: a read deadline passing while a head is held
// (net/http aborts its background read this way) returns the timeout and loses nothing.
func TestFramingConnKeepsHeldHeadOnTimeout(t *testing.T) {
	in := &chunkConn{chunks: [][]byte{[]byte("GET / HTTP/1.1\r\nHo"), nil, []byte("st: x\r\n\r\n")}}
	c := newFramingConn(in, 1024, nil)
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %d, %v; want 0 and a timeout", n, err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "GET / HTTP/1.1\r\nHost: x\r\n\r\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// FuzzFramer checks, for any input, that (1) how the input is cut into reads does not
// change what passes, and (2) net/http's own parser, reading what passes, ends every
// request (head and body) where the framer does, or refuses it.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		getA + getB,
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + getA,
		"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n" + getA,
		"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
		"GET / HTTP/1.1\nHost: x\n\n",
		"\r\n" + getA,
	} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, step uint8) {
		whole, reason := through(in, splits["whole"], 4096)
		pieces, reason2 := through(in, func(s string) []string { return cut(s, int(step%32)+1) }, int(step%13)+1)
		if whole != pieces || reason != reason2 {
			t.Fatalf("cutting changed the result:\n%.300q (%q)\n%.300q (%q)", whole, reason, pieces, reason2)
		}
		ends := messageEnds(in)
		// net/http's reading of what passed.
		passed := strings.TrimSuffix(whole, refusedLine)
		if strings.Contains(whole, tooLargeHead) {
			passed = whole[:strings.Index(whole, tooLargeHead)]
		}
		cr := &countingReader{r: strings.NewReader(passed)}
		br := bufio.NewReader(cr)
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return // net/http refused, or the input ran out: nothing more is answered
			}
			_, err = io.Copy(io.Discard, req.Body)
			if err != nil {
				return // net/http refused the body: it closes the connection
			}
			at := cr.n - int64(br.Buffered())
			if i >= len(ends) {
				t.Fatalf("net/http read request %d (ending at %d) that the framer did not pass whole: %q", i, at, passed)
			}
			if at != int64(ends[i]) {
				t.Fatalf("request %d: net/http ends it at %d, the framer at %d: %q", i, at, ends[i], passed)
			}
		}
	})
}

// messageEnds feeds in to a framer one byte at a time and returns the offset just after
// each request it saw end.
func messageEnds(in string) []int {
	f := newFramer(1024)
	var ends []int
	held := 0 // start of the held head
	for i := 0; i < len(in); i++ {
		before := f.requests
		n, v := f.scan([]byte(in[held : i+1]))
		if v != needMore {
			break
		}
		held += n
		if f.requests != before {
			ends = append(ends, i+1)
		}
	}
	return ends
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
