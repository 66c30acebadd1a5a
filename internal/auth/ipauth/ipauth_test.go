package ipauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

func TestStaticCIDRs(t *testing.T) {
	a, _ := newAuth(t, &config.IPAuth{CIDRs: []string{
		"192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "::ffff:203.0.113.0/120",
	}}, Options{})
	if err := a.Ready(); err != nil {
		t.Fatalf("static-only authenticator not ready: %v", err)
	}
	for _, tc := range []struct {
		name, client, want, subject string
	}{
		{"IPv4 in range", "192.0.2.10", "allow", "192.0.2.10"},
		{"IPv6 in range", "2001:db8:5::1", "allow", "2001:db8:5::1"},
		{"IPv4-mapped IPv6 client", "::ffff:192.0.2.10", "allow", "192.0.2.10"},
		{"bare address is a host", "198.51.100.7", "allow", "198.51.100.7"},
		{"next to the host", "198.51.100.8", "forbidden", ""},
		{"IPv4-mapped prefix matches IPv4 clients", "203.0.113.200", "allow", "203.0.113.200"},
		{"zone is ignored", "2001:db8::1%eth0", "allow", "2001:db8::1"},
		{"outside", "10.1.2.3", "forbidden", ""},
		{"IPv6 outside", "2001:db9::1", "forbidden", ""},
		{"zero address", "", "forbidden", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, a, tc.client, tc.want)
			if tc.subject == "" {
				return
			}
			id, _ := a.Authenticate(context.Background(), &policy.Request{Client: netip.MustParseAddr(tc.client)})
			if id.Subject != tc.subject || id.Source != "ip" {
				t.Errorf("identity = %+v, want subject %s from ip", id, tc.subject)
			}
		})
	}
	t.Run("messages", func(t *testing.T) {
		_, err := a.Authenticate(context.Background(), &policy.Request{})
		mustContain(t, "zero address error", err.Error(), "unknown client address")
		_, err = a.Authenticate(context.Background(), nil)
		mustContain(t, "nil request error", err.Error(), "unknown client address")
		_, err = a.Authenticate(context.Background(), &policy.Request{Client: netip.MustParseAddr("::ffff:10.1.2.3")})
		mustContain(t, "denial", err.Error(), "10.1.2.3 is not in the allowed ranges")
	})
	t.Run("policy statuses", func(t *testing.T) {
		p := &policy.Policy{Authenticators: []policy.Authenticator{a}}
		if d := p.Decide(context.Background(), &policy.Request{Client: netip.MustParseAddr("10.1.2.3")}); d.Allow || d.Status != http.StatusForbidden {
			t.Errorf("outside address: %+v, want 403", d)
		}
		if d := p.Decide(context.Background(), &policy.Request{Client: netip.MustParseAddr("192.0.2.1")}); !d.Allow {
			t.Errorf("inside address: %+v, want allow", d)
		}
	})
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *config.IPAuth
		want string
	}{
		{"nil", nil, "no configuration"},
		{"bad CIDR", &config.IPAuth{CIDRs: []string{"10.0.0.0/8", "10.0.0.1/8"}}, "cidrs[1]"},
		{"empty file", &config.IPAuth{Files: []string{" "}}, "files[0]: empty file name"},
		{"bad URL", &config.IPAuth{URLs: []*config.IPRangeURL{{URL: "ftp://x/y", Format: "plain"}}}, "urls[0]: url"},
		{"bad format", &config.IPAuth{URLs: []*config.IPRangeURL{{URL: "https://x/y", Format: "csv"}}}, "urls[0]: format"},
		{"plain with filter", &config.IPAuth{URLs: []*config.IPRangeURL{{URL: "https://x/y", Format: "plain", Services: []string{"S3"}}}}, "filter aws and google"},
		{"nil group query", &config.IPAuth{SecurityGroups: []*config.SecurityGroupQuery{nil}}, "security_groups[0]: empty entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("ip", tc.cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestNewTouchesNothing: `gatehouse check` builds authenticators without starting them,
// so New must not read files, fetch URLs or build EC2 clients.
func TestNewTouchesNothing(t *testing.T) {
	var hits, builds atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	missing := filepath.Join(t.TempDir(), "missing.txt")
	a, _ := newAuth(t, &config.IPAuth{
		CIDRs:          []string{"192.0.2.0/24"},
		Files:          []string{missing},
		URLs:           []*config.IPRangeURL{{URL: srv.URL + "/list?token=secret", Format: "plain", Refresh: time.Hour}},
		SecurityGroups: []*config.SecurityGroupQuery{{Region: "eu-west-1", VPCID: "vpc-1"}},
	}, Options{NewEC2: func(context.Context, *config.SecurityGroupQuery) (EC2API, error) {
		builds.Add(1)
		return nil, errors.New("no EC2 in this test")
	}})
	if hits.Load() != 0 || builds.Load() != 0 {
		t.Fatalf("New made %d HTTP requests and built %d EC2 clients", hits.Load(), builds.Load())
	}
	err := a.Ready()
	if !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Ready() = %v, want ErrNotLoaded", err)
	}
	for _, want := range []string{"file " + missing, "url " + srv.URL + "/list?...", "security_groups[0] (eu-west-1 vpc-1)"} {
		mustContain(t, "Ready()", err.Error(), want)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Ready() leaks the URL's query: %v", err)
	}
	// Not ready: the static cidrs allow; anything else is an outage, never an allow.
	check(t, a, "192.0.2.1", "allow")
	check(t, a, "10.0.0.1", "outage")
}

func TestLifecycle(t *testing.T) {
	t.Run("Close without Start, twice", func(t *testing.T) {
		a, _ := newAuth(t, &config.IPAuth{CIDRs: []string{"192.0.2.0/24"}}, Options{})
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		a.Start(context.Background()) // after Close: no goroutines
		check(t, a, "192.0.2.1", "allow")
	})
	t.Run("Start twice, then Close", func(t *testing.T) { synctest.Test(t, testStartTwiceThenClose) })
	t.Run("context cancel stops refresh", func(t *testing.T) { synctest.Test(t, testContextCancelStopsRefresh) })
}

func testStartTwiceThenClose(t *testing.T) {
	srv := &listServer{body: "192.0.2.0/24\n"}
	a, _ := newAuth(t, &config.IPAuth{URLs: []*config.IPRangeURL{{URL: "https://lists.test/", Format: "plain", Refresh: time.Hour}}}, Options{HTTPClient: memClient(srv)})
	a.Start(context.Background())
	a.Start(context.Background())
	eventually(t, "first load", func() bool { return a.Ready() == nil })
	a.Close()
	if n := len(srv.got()); n != 1 {
		t.Errorf("%d requests, want 1 (one goroutine, refresh in an hour)", n)
	}
}

func testContextCancelStopsRefresh(t *testing.T) {
	srv := &listServer{body: "192.0.2.0/24\n"}
	// Count requests as the client starts them: the server may see an aborted
	// request after Close has returned.
	var started atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		started.Add(1)
		return handlerTransport{srv}.RoundTrip(r)
	})}
	a, _ := newAuth(t, &config.IPAuth{URLs: []*config.IPRangeURL{{URL: "https://lists.test/", Format: "plain", Refresh: 5 * time.Millisecond}}}, Options{HTTPClient: client})
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	eventually(t, "a few refreshes", func() bool { return started.Load() >= 3 })
	cancel()
	a.Close() // waits for the goroutine
	n := started.Load()
	time.Sleep(30 * time.Millisecond)
	if m := started.Load(); m != n {
		t.Errorf("requests went on after cancel: %d then %d", n, m)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{0, 5 * time.Second}, {1, 5 * time.Second}, {2, 10 * time.Second}, {4, 40 * time.Second}, {100, 1<<63 - 1}} {
		if got := backoff(5*time.Second, tc.failures); got != tc.want {
			t.Errorf("backoff(5s, %d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}
