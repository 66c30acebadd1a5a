package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// How many write system calls net/http makes for a cached 4 KiB hit (issue 17: nginx
// sends headers and body with one writev). The listener counts the connection's
// Write calls; each is one write(2) on a TCP connection.
//
// net/http puts the status line and headers into the connection's 4 KiB bufio.Writer,
// then the body: a 4 KiB body fills that buffer (one write of 4096 bytes: the headers
// and the start of the body) and the rest of the body goes out when the handler
// returns (a second write). The buffer's size is fixed in net/http (no http.Server
// option sets it), Flush only moves the split (headers alone, then the body), and
// ReadFrom flushes the headers before copying. "corked" shows what coalescing in a
// connection wrapper would give: the handler asks the connection to hold its writes,
// flushes through http.ResponseController when done, and the connection sends what it
// held with one write.

type countConn struct {
	net.Conn
	writes *atomic.Int64
	corked bool
	held   []byte
}

func (c *countConn) Write(p []byte) (int, error) {
	if c.corked {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// uncork sends what was held, with one write.
func (c *countConn) uncork() error {
	c.corked = false
	if len(c.held) == 0 {
		return nil
	}
	c.writes.Add(1)
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	return err
}

type countListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: c, writes: &l.writes}, nil
}

type connKey struct{}

// corking holds the connection's writes for the length of the handler.
func corking(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(connKey{}).(*countConn)
		c.corked = true
		h.ServeHTTP(w, r)
		if err := http.NewResponseController(w).Flush(); err != nil {
			c.corked = false
			return
		}
		c.uncork()
	})
}

// BenchmarkCacheHitWrites serves cached 4 KiB hits over one keep-alive TCP connection
// and reports write system calls per response (writes/op).
func BenchmarkCacheHitWrites(b *testing.B) {
	for _, mode := range []string{"net-http", "corked"} {
		b.Run(mode, func(b *testing.B) {
			h := hitHandler(b, hitLog+`
routes:
  - {name: bench, path: /bench/*, origin: files, strip_prefix: /bench, public: true, cache: {policy: optimized}}
`)
			var handler http.Handler = h
			if mode == "corked" {
				handler = corking(h)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			cl := &countListener{Listener: ln}
			srv := &http.Server{Handler: handler, ConnContext: func(ctx context.Context, c net.Conn) context.Context {
				return context.WithValue(ctx, connKey{}, c)
			}}
			go srv.Serve(cl)
			defer srv.Close()
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			req := []byte("GET /bench/small.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wrk\r\n\r\n")
			get := func() {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n != 4096 {
					b.Fatalf("%d, %d bytes", resp.StatusCode, n)
				}
			}
			get() // fills the cache
			before := cl.writes.Load()
			b.ReportAllocs()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(cl.writes.Load()-before)/float64(b.N), "writes/op")
		})
	}
}
