package server

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestConnectionLimitTurnsAwayWith503: with server.max_connections open, the next
// connection gets 503 with Retry-After and is closed; once one closes, a new one is
// served.
func TestConnectionLimitTurnsAwayWith503(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	shed := make(chan struct{}, 10)
	closed := make(chan struct{}, 10)
	l := publicListener(raw, listenerOptions{MaxConns: 2, MaxHead: 4096, OnShed: func() { shed <- struct{}{} }})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				closed <- struct{}{}
			}
		},
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	var open []net.Conn
	for range 2 {
		c := dialAndGet(t, l.Addr().String(), 200)
		open = append(open, c)
	}
	over := dialAndGet(t, l.Addr().String(), 503)
	over.Close()
	<-shed

	open[0].Close()
	<-closed
	dialAndGet(t, l.Addr().String(), 200).Close()
	open[1].Close()
}

// dialAndGet opens a connection, sends one keep-alive GET and checks the status; the
// connection is returned open.
func dialAndGet(t *testing.T, addr string, want int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second)) // a safety net, not waited for
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 100))
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("status %d %q, want %d", resp.StatusCode, b, want)
	}
	if want == 503 && (resp.Header.Get("Retry-After") != "1" || !resp.Close || string(b) != "503 Service Unavailable\n") {
		t.Fatalf("503 without Retry-After or close: %v %q", resp.Header, b)
	}
	return c
}

func TestDefaultMaxConnections(t *testing.T) {
	for _, tc := range []struct {
		soft  uint64
		known bool
		want  int
	}{
		{1024, true, 512},
		{1, true, 1},
		{1 << 40, true, 1 << 20},
		{0, false, defaultMaxConnections},
	} {
		if got := defaultFromFDLimit(tc.soft, tc.known); got != tc.want {
			t.Errorf("defaultFromFDLimit(%d, %v) = %d, want %d", tc.soft, tc.known, got, tc.want)
		}
	}
	if n := connectionLimit(slog.New(slog.DiscardHandler), 7); n != 7 {
		t.Errorf("configured 7, got %d", n)
	}
}
