package server

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// refusedLine is what net/http reads instead of a refused head: a request line it cannot
// parse, so that net/http itself writes "400 Bad Request" with "Connection: close" and
// closes, after the answers to every earlier request on the connection. The client never
// sees this line.
const refusedLine = "REFUSED\r\n"

// tooLargeHead is what net/http reads instead of a head longer than the limit: the start
// of a head that never ends (the value goes on with 'a' forever), so net/http reaches its
// own MaxHeaderBytes limit and answers "431 Request Header Fields Too Large".
const tooLargeHead = "GET / HTTP/1.1\r\nX-Too-Large: "

const (
	// lingerTime and lingerBytes bound the draining of a refused connection before it is
	// closed. Closing a socket with unread input makes the kernel send a reset, which can
	// destroy the 400 before the client reads it; so the write side is shut first (the
	// client sees the end of the answer) and what the client still sends is read and
	// dropped for a moment.
	lingerTime  = time.Second
	lingerBytes = 256 << 10
)

// framingConn passes an HTTP/1.x connection's input to net/http only after the framer has
// checked it: each request head is held until it has ended and been accepted, body bytes
// pass as the framer follows them. A refused head becomes refusedLine (400 and close);
// a body that cannot be followed ends the input. Writes are not touched.
//
// It must not be used for HTTP/2 (whose framing is not ambiguous) nor after a handler
// hijacks the connection (gatehouse never does).
type framingConn struct {
	net.Conn
	f framer
	// pend holds input read but not yet returned: pend[:ok] is released, pend[ok:] is a
	// head that has not ended. buf is pend's backing array.
	pend, buf []byte
	ok        int
	end       bool   // refused or lost: return inject, then filler or io.EOF
	inject    string // the rest of refusedLine or tooLargeHead
	fill      bool   // after inject, an endless header value
	refused   atomic.Bool
	lingered  sync.Once
	onRefuse  func(c net.Conn, reason string)
}

// newFramingConn checks c's input, refusing heads longer than maxHead bytes; onRefuse
// (may be nil) hears of every refused connection.
func newFramingConn(c net.Conn, maxHead int, onRefuse func(net.Conn, string)) *framingConn {
	return &framingConn{Conn: c, f: newFramer(maxHead), onRefuse: onRefuse}
}

// Read implements net.Conn. A read deadline that passes while a head is held returns the
// timeout error and keeps the head: net/http uses such deadlines to stop a background
// read and then reads on.
func (c *framingConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.ok > 0 {
			n := copy(p, c.pend[:c.ok])
			c.pend, c.ok = c.pend[n:], c.ok-n
			if len(c.pend) == 0 {
				c.pend, c.buf = nil, nil
			}
			return n, nil
		}
		if c.end {
			return c.ended(p)
		}
		if len(c.pend) == 0 {
			// The usual case: no head held. Read straight into p, and return what the
			// framer releases without copying.
			n, err := c.Conn.Read(p)
			if n == 0 {
				if err == nil {
					continue
				}
				return 0, err
			}
			k, v := c.f.scan(p[:n])
			if v == needMore && k < n {
				c.hold(p[k:n])
			}
			c.stop(v)
			if k > 0 {
				return k, nil // an error, if any, comes back on the next read
			}
			if err != nil && !c.end {
				return 0, err
			}
			continue
		}
		// A head is held: read more of it.
		c.grow()
		n, err := c.Conn.Read(c.pend[len(c.pend):cap(c.pend)])
		if n > 0 {
			c.pend = c.pend[:len(c.pend)+n]
			k, v := c.f.scan(c.pend)
			c.ok = k
			if v != needMore {
				c.pend = c.pend[:k]
			}
			c.stop(v)
		}
		if c.ok == 0 && err != nil && !c.end {
			return 0, err
		}
	}
}

// hold keeps b, the start of a head, for the next read.
func (c *framingConn) hold(b []byte) {
	if cap(c.buf) < len(b) {
		c.buf = make([]byte, 0, max(4096, 2*len(b)))
	}
	c.pend = append(c.buf[:0], b...)
}

// grow makes room after the held head, moving it to the front of buf first.
func (c *framingConn) grow() {
	if len(c.pend) < cap(c.pend) {
		return
	}
	if cap(c.buf) > len(c.pend) {
		c.pend = append(c.buf[:0], c.pend...)
		return
	}
	nb := make([]byte, len(c.pend), 2*cap(c.buf))
	copy(nb, c.pend)
	c.buf, c.pend = nb[:0], nb
}

func (c *framingConn) stop(v verdict) {
	switch v {
	case needMore:
		return
	case refuse:
		c.inject = refusedLine
	case tooLarge:
		c.inject, c.fill = tooLargeHead, true
	}
	c.end = true
	c.refused.Store(true)
	if c.onRefuse != nil {
		c.onRefuse(c.Conn, c.f.reason)
	}
}

func (c *framingConn) ended(p []byte) (int, error) {
	if c.inject != "" {
		n := copy(p, c.inject)
		c.inject = c.inject[n:]
		return n, nil
	}
	if c.fill {
		for i := range p {
			p[i] = 'a'
		}
		return len(p), nil
	}
	return 0, io.EOF
}

// CloseWrite shuts the write side when the connection below can (net/http uses it before
// closing a connection whose client may still be sending).
func (c *framingConn) CloseWrite() error { return closeWrite(c.Conn) }

// Close implements net.Conn. A connection whose input was refused is drained briefly
// first (see lingerTime).
func (c *framingConn) Close() error {
	if c.refused.Load() {
		c.lingered.Do(func() {
			if closeWrite(c.Conn) == nil {
				c.Conn.SetReadDeadline(time.Now().Add(lingerTime))
				io.CopyN(io.Discard, c.Conn, lingerBytes)
			}
		})
	}
	return c.Conn.Close()
}

// closeWrite shuts c's write side if c (or the connection it wraps) can.
func closeWrite(c net.Conn) error {
	for {
		switch x := c.(type) {
		case interface{ CloseWrite() error }:
			return x.CloseWrite()
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return errors.ErrUnsupported
		}
	}
}
