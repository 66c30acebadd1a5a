package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// benchHead is a browser-like GET with signed cookies: 767 bytes.
var benchHead = "GET /www/assets/app.3f9a1c.js HTTP/1.1\r\n" +
	"Host: files.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: */*\r\n" +
	"Accept-Language: en-GB,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://files.example.com/www/index.html\r\n" +
	"Cookie: CloudFront-Policy=" + strings.Repeat("eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNl", 6) +
	"; CloudFront-Signature=" + strings.Repeat("b3Vyy2Vu", 12) + "; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F\r\n" +
	"If-None-Match: \"5d41402abc4b2a76b9719d911017c592\"\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

// BenchmarkFramer is the head check alone, per request.
func BenchmarkFramer(b *testing.B) {
	f := newFramer(64 << 10)
	head := []byte(benchHead)
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		if n, v := f.scan(head); n != len(head) || v != needMore {
			b.Fatal(n, v)
		}
	}
}

// repeatConn returns one copy of a request per Read, forever.
type repeatConn struct {
	net.Conn
	req []byte
}

func (c *repeatConn) Read(p []byte) (int, error) { return copy(p, c.req), nil }

// BenchmarkFramingConn is a request read through a framingConn ("framed") and straight
// from the connection ("raw"), into a 4 KiB buffer as net/http reads.
func BenchmarkFramingConn(b *testing.B) {
	for _, framed := range []bool{false, true} {
		name := "raw"
		var c net.Conn = &repeatConn{req: []byte(benchHead)}
		if framed {
			name, c = "framed", newFramingConn(c, 64<<10, nil)
		}
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 4096)
			b.SetBytes(int64(len(benchHead)))
			for b.Loop() {
				if n, err := c.Read(buf); n != len(benchHead) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkServerFraming is one keep-alive request after another to an http.Server on
// loopback, with and without the framing check: the check's share of a whole request.
func BenchmarkServerFraming(b *testing.B) {
	for _, framed := range []bool{false, true} {
		name := "raw"
		if framed {
			name = "framed"
		}
		b.Run(name, func(b *testing.B) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var l net.Listener = raw
			if framed {
				l = publicListener(raw, listenerOptions{MaxHead: 64<<10 + 4096})
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "2")
				io.WriteString(w, "ok")
			})}
			go srv.Serve(l)
			defer srv.Close()
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte(benchHead)
			for b.Loop() {
				c.Write(req)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
