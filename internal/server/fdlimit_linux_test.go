package server

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRegression_FDExhaustionAnswers502: with the process out of file descriptors, a
// request that needs a new origin connection (MinIO, through a proxy that lets no
// connection be reused) or file (a folder) gets 503 with Retry-After, never 502. The client connections are opened first; then the soft
// open-file limit is lowered to the lowest free descriptor, so that every new descriptor
// fails with EMFILE.
func TestRegression_FDExhaustionAnswers502(t *testing.T) {
	for _, origin := range []string{"dir", "minio-no-reuse"} {
		t.Run(origin, func(t *testing.T) {
			r := framingServer(t, origin)
			// The readiness probe's connections close on their own time; let them.
			waitFor(t, func() bool { return strings.Contains(r.logs.String(), "origin ready") })
			const n = 3
			conns := make([]*bufConn, n)
			for i := range conns {
				c, err := net.Dial("tcp", strings.TrimPrefix(r.pub, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second)) // a safety net, not waited for
				conns[i] = &bufConn{Conn: c, br: bufio.NewReader(c)}
				// Make sure the server has accepted it (no route: no origin involved).
				if got := conns[i].get(t, "/nothing"); got.StatusCode != 404 {
					t.Fatalf("warm-up: %d", got.StatusCode)
				}
			}
			// A descriptor the process closes while the limit is low (a connection
			// ending on its own) lets one request through, and that one frees its own
			// for the next: such a run is repeated.
			for attempt := 1; ; attempt++ {
				before := openFDs(t)
				restore := exhaustFDs(t)
				resps := make([]*http.Response, n)
				var wg sync.WaitGroup
				for i, c := range conns {
					wg.Go(func() { resps[i] = c.get(t, "/o/a.txt") })
				}
				wg.Wait()
				restore()
				if disturbed := !maps.Equal(before, openFDs(t)); disturbed && attempt < 5 {
					continue
				}
				for _, resp := range resps {
					if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
						t.Errorf("status %d (Retry-After %q), want 503 with Retry-After: 1", resp.StatusCode, resp.Header.Get("Retry-After"))
					}
				}
				return
			}
		})
	}
}

type bufConn struct {
	net.Conn
	br *bufio.Reader
}

// get sends a keep-alive GET and reads the response and its body. It may run in any
// goroutine: on failure it reports the error and returns a response with status 0.
func (c *bufConn) get(t *testing.T, path string) *http.Response {
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Error(err)
		return &http.Response{Header: http.Header{}}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// openFDs lists the process's open descriptors and what each is.
func openFDs(t *testing.T) map[string]string {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	m := map[string]string{}
	for _, e := range entries {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			m[e.Name()] = l
		}
	}
	return m
}

// exhaustFDs lowers the soft open-file limit to the lowest free descriptor number, so
// that opening any descriptor fails with EMFILE, and returns a function that puts the
// limit back.
func exhaustFDs(t *testing.T) func() {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.DevNull) // takes the lowest free number
	if err != nil {
		t.Fatal(err)
	}
	lowest := f.Fd()
	f.Close()
	lim := old
	lim.Cur = uint64(lowest)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(os.DevNull); !errors.Is(err, syscall.EMFILE) {
		f.Close()
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
		t.Fatalf("after lowering the limit, open gives %v, want EMFILE", err)
	}
	return func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Fatal(err)
		}
	}
}
