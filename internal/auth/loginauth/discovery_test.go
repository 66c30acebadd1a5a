package loginauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// blockingDiscovery holds every request for the discovery document until release is
// closed, and passes everything else to the real provider.
type blockingDiscovery struct {
	started chan struct{} // closed when the first discovery request arrives
	release chan struct{}
	count   atomic.Int32
}

func (b *blockingDiscovery) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
		if b.count.Add(1) == 1 {
			close(b.started)
		}
		<-b.release
	}
	return http.DefaultTransport.RoundTrip(r)
}

// The login lock was held during provider discovery over the network: while a slow
// issuer answered the first sign-in, every other sign-in waited on the lock, ignoring
// its own context (a client that gave up still held a goroutine until the issuer
// answered), and after a failure each queued request discovered again, one after the
// other. Discovery now runs outside the lock, shared by concurrent requests.
func TestRegression_LoginLockHeldDuringDiscovery(t *testing.T) {
	h := newHarness(t, nil)
	b := &blockingDiscovery{started: make(chan struct{}), release: make(chan struct{})}
	h.a.client = &http.Client{Transport: b}

	first := make(chan int, 1)
	go func() { first <- h.serve("/_gatehouse/login?rd=/www/").StatusCode }()
	<-b.started

	// Requests that do not need the provider, and a sign-in whose client has gone,
	// answer while the discovery is still blocked.
	done := make(chan string, 2)
	go func() {
		if code := h.serve("/_gatehouse/logout").StatusCode; code != 200 {
			t.Errorf("logout: %d", code)
		}
		done <- "logout"
	}()
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, "GET", "https://site.test/_gatehouse/login?rd=/www/", nil)
		w := httptest.NewRecorder()
		h.a.ServeEndpoint(w, r, "/_gatehouse/login", "https")
		if w.Code != http.StatusBadGateway {
			t.Errorf("sign-in with a cancelled request: %d, want 502", w.Code)
		}
		done <- "cancelled sign-in"
	}()
	for range 2 {
		select {
		case <-done:
		case <-time.After(10 * time.Second): // a guard against a hang, never a wait for success
			t.Fatal("a request waited for another request's provider discovery")
		}
	}

	// A second live sign-in shares the first one's discovery (or, arriving after it
	// ended, uses the provider it published).
	second := make(chan int, 1)
	go func() { second <- h.serve("/_gatehouse/login?rd=/www/").StatusCode }()
	close(b.release)
	if c1, c2 := <-first, <-second; c1 != http.StatusFound || c2 != http.StatusFound {
		t.Fatalf("sign-ins after discovery: %d and %d, want 302", c1, c2)
	}
	if n := b.count.Load(); n != 1 {
		t.Errorf("%d discoveries, want 1", n)
	}
}
