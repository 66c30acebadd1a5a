package ipauth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// logBuffer collects log output for assertions; safe for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newAuth builds an authenticator with a captured debug log and fast timings, and
// closes it when the test ends.
func newAuth(t testing.TB, cfg *config.IPAuth, opts Options) (*Authenticator, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.FilePoll == 0 {
		opts.FilePoll = 10 * time.Millisecond
	}
	if opts.RetryMin == 0 {
		opts.RetryMin = 10 * time.Millisecond
	}
	a, err := New("office", cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a, logs
}

// check asserts how Authenticate treats client: "allow", "forbidden" or "outage".
func check(t *testing.T, a *Authenticator, client, want string) {
	t.Helper()
	var addr netip.Addr
	if client != "" {
		addr = netip.MustParseAddr(client)
	}
	id, err := a.Authenticate(context.Background(), &policy.Request{Client: addr})
	got := "allow"
	switch {
	case err == nil && id == nil:
		t.Fatalf("%s: no identity and no error", client)
	case errors.Is(err, policy.ErrForbidden):
		got = "forbidden"
	case err != nil:
		got = "outage"
	}
	if got != want {
		t.Errorf("Authenticate(%q) = %v, %v: want %s", client, id, err, want)
	}
}

// eventually waits until cond holds. It must run inside a synctest bubble
// (synctest.Wait panics outside one): it lets the bubble's goroutines settle, then
// polls on the bubble's fake clock, so it costs no real time; it gives up after five
// fake seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for synctest.Wait(); !cond(); synctest.Wait() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// memClient reaches h directly, without a listener: inside a synctest bubble network
// I/O never counts as blocked, so a client of a real server would keep the fake clock
// from advancing.
func memClient(h http.Handler) *http.Client {
	return &http.Client{Transport: handlerTransport{h}}
}

// handlerTransport answers requests by calling a handler in the same goroutine.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// listServer serves a published list whose body, validators and status tests change.
type listServer struct {
	mu       sync.Mutex
	body     string
	etag     string
	lastMod  string
	status   int // non-zero: answer with this status and no body
	requests []http.Header
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Header.Clone())
	if s.status != 0 {
		http.Error(w, "failing on purpose", s.status)
		return
	}
	if s.etag != "" {
		w.Header().Set("ETag", s.etag)
		if r.Header.Get("If-None-Match") == s.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if s.lastMod != "" {
		w.Header().Set("Last-Modified", s.lastMod)
	}
	w.Write([]byte(s.body))
}

func (s *listServer) set(f func(s *listServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *listServer) got() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.requests...)
}

func mustContain(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
