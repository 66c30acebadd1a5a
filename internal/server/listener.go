package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// shedResponse answers a plain-HTTP connection above server.max_connections. It is
// written as soon as the connection is accepted, before its request is read.
const shedResponse = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Cache-Control: no-store\r\n" +
	"X-Content-Type-Options: nosniff\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 24\r\n" +
	"\r\n" +
	"503 Service Unavailable\n"

// maxShedding bounds the connections being answered with shedResponse at once (each is
// drained for up to lingerTime); beyond it, connections above the limit are closed at
// once. Shedding must not itself use up the file descriptors the limit protects.
const maxShedding = 64

// listenerOptions configure publicListener.
type listenerOptions struct {
	// TLS, when set, makes the listener terminate TLS. Connections that negotiate h2 are
	// returned as *tls.Conn (HTTP/2 framing is not ambiguous); the others are checked.
	TLS *tls.Config
	// HandshakeTimeout bounds a TLS handshake (server.read_header_timeout, as net/http
	// would use).
	HandshakeTimeout time.Duration
	// MaxConns is server.max_connections; 0 means no limit.
	MaxConns int
	// MaxHead is the longest request head accepted, in bytes.
	MaxHead int
	// OnRefuse hears of connections whose input was refused; OnShed of connections
	// turned away by the limit; OnHandshakeError of failed TLS handshakes. Any may be nil.
	OnRefuse         func(c net.Conn, reason string)
	OnShed           func()
	OnHandshakeError func(c net.Conn, err error)
}

// publicListener wraps raw, the public listener: it enforces the connection limit, does
// the TLS handshake when configured and puts every HTTP/1.x connection behind a
// framingConn.
func publicListener(raw net.Listener, o listenerOptions) net.Listener {
	l := net.Listener(raw)
	if o.MaxConns > 0 {
		l = &limitListener{Listener: raw, max: int64(o.MaxConns), closeOnly: o.TLS != nil, onShed: o.OnShed}
	}
	if o.TLS != nil {
		return newTLSListener(l, o)
	}
	return &framingListener{Listener: l, o: o}
}

// framingListener returns plain connections behind a framingConn.
type framingListener struct {
	net.Listener
	o listenerOptions
}

func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newFramingConn(c, l.o.MaxHead, l.o.OnRefuse), nil
}

// limitListener holds at most max connections open at once. Above the limit, a
// connection is accepted and turned away at once, on plain HTTP with shedResponse (503,
// Retry-After: 1), on TLS by closing it (an answer would need a handshake, which is the
// work being shed). Turning away beats leaving connections in the kernel's backlog,
// which netutil.LimitListener does: there a client waits in silence until it times out,
// and idle keep-alive connections can hold every slot for server.idle_timeout while new
// clients wait; a 503 tells a load balancer to retry elsewhere now.
type limitListener struct {
	net.Listener
	max       int64
	closeOnly bool
	onShed    func()
	active    atomic.Int64
	shedding  atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) <= l.max {
			return &countedConn{Conn: c, l: l}, nil
		}
		l.active.Add(-1)
		l.shed(c)
	}
}

func (l *limitListener) shed(c net.Conn) {
	if l.onShed != nil {
		l.onShed()
	}
	if l.closeOnly {
		c.Close()
		return
	}
	if l.shedding.Add(1) > maxShedding {
		l.shedding.Add(-1)
		c.Close()
		return
	}
	go func() {
		defer l.shedding.Add(-1)
		c.SetDeadline(time.Now().Add(lingerTime))
		if _, err := io.WriteString(c, shedResponse); err == nil && closeWrite(c) == nil {
			io.CopyN(io.Discard, c, lingerBytes)
		}
		c.Close()
	}()
}

// countedConn gives its slot back to the limitListener when closed.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.active.Add(-1) })
	return err
}

// CloseWrite shuts the write side of the TCP connection.
func (c *countedConn) CloseWrite() error { return closeWrite(c.Conn) }

// tlsListener does the TLS handshake of each accepted connection in a goroutine of its
// own, so that Accept returns only handshaken connections and a slow client delays no
// other. It has to do the handshake itself: net/http negotiates HTTP/2 only on a
// *tls.Conn, and checking HTTP/1.x framing needs the plain text, so only after ALPN has
// chosen can it tell which of the two a connection gets. A framingConn over a *tls.Conn
// has ConnectionState, from which net/http sets Request.TLS.
type tlsListener struct {
	inner net.Listener
	o     listenerOptions
	ready chan net.Conn
	errc  chan error
	done  chan struct{}
	once  sync.Once
}

func newTLSListener(inner net.Listener, o listenerOptions) *tlsListener {
	l := &tlsListener{inner: inner, o: o, ready: make(chan net.Conn), errc: make(chan error), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *tlsListener) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			// Handed to Serve, which backs off on temporary errors before the next
			// Accept: this loop waits for it.
			select {
			case l.errc <- err:
			case <-l.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, l.o.TLS)
	ctx := context.Background()
	if d := l.o.HandshakeTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		// As net/http does: a client speaking plain HTTP to the TLS port is told so.
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			re.Conn.SetWriteDeadline(time.Now().Add(lingerTime))
			io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		if l.o.OnHandshakeError != nil {
			l.o.OnHandshakeError(c, err)
		}
		tc.Close()
		return
	}
	if tc.ConnectionState().NegotiatedProtocol == acmeALPN {
		tc.Close() // a CA validating tls-alpn-01: the handshake was the whole answer
		return
	}
	var out net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		out = &tlsFramingConn{newFramingConn(tc, l.o.MaxHead, l.o.OnRefuse)}
	}
	select {
	case l.ready <- out:
	case <-l.done:
		out.Close()
	}
}

// looksLikeHTTP reports whether a TLS record header is the start of a plain HTTP request
// (the check net/http makes before the same answer).
func looksLikeHTTP(h [5]byte) bool {
	switch string(h[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.errc:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *tlsListener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }

// tlsFramingConn is a framingConn over a *tls.Conn.
type tlsFramingConn struct{ *framingConn }

// ConnectionState lets net/http fill Request.TLS, as it does for a *tls.Conn.
func (c *tlsFramingConn) ConnectionState() tls.ConnectionState {
	return c.Conn.(*tls.Conn).ConnectionState()
}
