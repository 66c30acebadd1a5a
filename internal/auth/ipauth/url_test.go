package ipauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

func urlAuth(t *testing.T, srv *listServer, u config.IPRangeURL, cidrs ...string) (*Authenticator, *logBuffer) {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	u.URL = hs.URL + "/list"
	if u.Refresh == 0 {
		u.Refresh = time.Hour
	}
	return newAuth(t, &config.IPAuth{CIDRs: cidrs, URLs: []*config.IPRangeURL{&u}}, Options{})
}

// TestURLNotLoadedIsOutage: while a source has never loaded, an address no loaded source
// allows is an outage (503), never a 403 and never an allow, and Ready reports it; the
// static cidrs allow meanwhile.
func TestURLNotLoadedIsOutage(t *testing.T) {
	srv := &listServer{status: http.StatusInternalServerError}
	a, _ := urlAuth(t, srv, config.IPRangeURL{Format: "plain"}, "192.0.2.0/24")

	check(t, a, "192.0.2.1", "allow") // static address
	check(t, a, "198.51.100.1", "outage")
	_, err := a.Authenticate(context.Background(), &policy.Request{Client: netip.MustParseAddr("198.51.100.1")})
	if !errors.Is(err, ErrNotLoaded) || errors.Is(err, policy.ErrForbidden) {
		t.Fatalf("err = %v, want ErrNotLoaded and not ErrForbidden", err)
	}
	p := &policy.Policy{Authenticators: []policy.Authenticator{a}}
	if d := p.Decide(context.Background(), &policy.Request{Client: netip.MustParseAddr("198.51.100.1")}); d.Allow || d.Status != http.StatusServiceUnavailable {
		t.Errorf("decision = %+v, want 503", d)
	}

	if err := a.Load(context.Background()); err == nil {
		t.Fatal("Load succeeded against a failing server")
	}
	err = a.Ready()
	mustContain(t, "Ready() after a failed load", err.Error(), "HTTP 500")

	srv.set(func(s *listServer) { s.status, s.body = 0, "198.51.100.0/24\n" })
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(); err != nil {
		t.Fatalf("Ready() after load = %v", err)
	}
	check(t, a, "192.0.2.1", "allow")
	check(t, a, "198.51.100.1", "allow")
	check(t, a, "203.0.113.1", "forbidden")
}

func TestURLRefreshFailureKeepsLastGood(t *testing.T) {
	srv := &listServer{body: "198.51.100.0/24\n"}
	a, logs := urlAuth(t, srv, config.IPRangeURL{Format: "plain"})
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, a, "198.51.100.1", "allow")
	for _, tc := range []struct {
		name    string
		break_  func(s *listServer)
		wantErr string
	}{
		{"server error", func(s *listServer) { s.status = http.StatusBadGateway }, "HTTP 502"},
		{"not found", func(s *listServer) { s.status = http.StatusNotFound }, "HTTP 404"},
		{"garbage body", func(s *listServer) { s.status, s.body = 0, "<html>captive portal</html>" }, "plain list: line 1"},
		{"empty list", func(s *listServer) { s.status, s.body = 0, "# nothing\n" }, "plain list has no prefixes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.set(tc.break_)
			err := a.Load(context.Background())
			if err == nil {
				t.Fatal("Load succeeded")
			}
			mustContain(t, "Load error", err.Error(), tc.wantErr)
			check(t, a, "198.51.100.1", "allow")
			if err := a.Ready(); err != nil {
				t.Errorf("Ready() = %v: a source that loaded once stays ready", err)
			}
		})
	}
	mustContain(t, "log", logs.String(), "ip source refresh failed")
	mustContain(t, "log", logs.String(), `source="url http://`)

	srv.set(func(s *listServer) { s.status, s.body = 0, "203.0.113.0/24\n" })
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, a, "198.51.100.1", "forbidden")
	check(t, a, "203.0.113.1", "allow")
	mustContain(t, "log", logs.String(), "ip source recovered")
}

func TestURLConditionalRequests(t *testing.T) {
	const lastMod = "Sat, 22 Aug 2026 15:17:05 GMT"
	srv := &listServer{body: "198.51.100.0/24\n", etag: `"v1"`, lastMod: lastMod}
	a, _ := urlAuth(t, srv, config.IPRangeURL{Format: "plain"})
	for range 3 {
		if err := a.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.got()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if reqs[0].Get("If-None-Match") != "" || reqs[0].Get("If-Modified-Since") != "" {
		t.Errorf("first request was conditional: %v", reqs[0])
	}
	for i, h := range reqs[1:] {
		if h.Get("If-None-Match") != `"v1"` || h.Get("If-Modified-Since") != lastMod {
			t.Errorf("request %d: If-None-Match %q, If-Modified-Since %q", i+2, h.Get("If-None-Match"), h.Get("If-Modified-Since"))
		}
	}
	check(t, a, "198.51.100.1", "allow") // 304 keeps the set, still fresh

	// A new version replaces the set, and its validator is sent next.
	srv.set(func(s *listServer) { s.body, s.etag = "203.0.113.0/24\n", `"v2"` })
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, a, "198.51.100.1", "forbidden")
	check(t, a, "203.0.113.1", "allow")
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := srv.got()[4].Get("If-None-Match"); got != `"v2"` {
		t.Errorf("If-None-Match after the change = %q", got)
	}
}

// TestURLBackgroundRefresh runs the Start loop: the first load happens at once, later
// ones on the refresh interval.
//
// It runs in a synctest bubble, the list served in memory (memClient).
func TestURLBackgroundRefresh(t *testing.T) {
	synctest.Test(t, testURLBackgroundRefresh)
}

func testURLBackgroundRefresh(t *testing.T) {
	srv := &listServer{body: "198.51.100.0/24\n"}
	u := config.IPRangeURL{URL: "https://lists.test/list", Format: "plain", Refresh: 20 * time.Millisecond}
	a, _ := newAuth(t, &config.IPAuth{URLs: []*config.IPRangeURL{&u}}, Options{HTTPClient: memClient(srv)})
	a.Start(context.Background())
	eventually(t, "first load", func() bool { return a.Ready() == nil })
	check(t, a, "198.51.100.1", "allow")
	srv.set(func(s *listServer) { s.body = "203.0.113.0/24\n" })
	eventually(t, "refresh to the new list", func() bool {
		return a.Contains(netip.MustParseAddr("203.0.113.1")) && !a.Contains(netip.MustParseAddr("198.51.100.1"))
	})
}

// TestAWSRealRanges serves the real ip-ranges.json and allows CloudFront's global
// edge ranges only.
func TestAWSRealRanges(t *testing.T) {
	data, err := os.ReadFile(testenv.SharedTestdata(t, "aws", "ip-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &listServer{body: string(data), etag: `"63431d35877fa5386ded1a7df9cfa971"`}
	a, _ := urlAuth(t, srv, config.IPRangeURL{Format: "aws", Services: []string{"CLOUDFRONT"}, Regions: []string{"GLOBAL"}})
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, client, want string }{
		{"CLOUDFRONT GLOBAL IPv4", "23.228.249.17", "allow"},
		{"CLOUDFRONT GLOBAL IPv6", "2600:9000:3000::1", "allow"},
		{"CLOUDFRONT regional", "13.113.203.1", "forbidden"},
		{"EC2 only", "35.180.1.1", "forbidden"},
		{"not AWS", "192.0.2.1", "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) { check(t, a, tc.client, tc.want) })
	}
	t.Run("filter matching nothing is a failure", func(t *testing.T) {
		b, _ := urlAuth(t, srv, config.IPRangeURL{Format: "aws", Services: []string{"CLOUDFRONTS"}})
		err := b.Load(context.Background())
		if err == nil {
			t.Fatal("Load succeeded")
		}
		mustContain(t, "error", err.Error(), "no prefixes in the aws list match services [CLOUDFRONTS]")
		mustContain(t, "Ready()", b.Ready().Error(), "CLOUDFRONTS")
	})
}

func TestGoogleURL(t *testing.T) {
	srv := &listServer{body: `{"syncToken":"1","creationTime":"x","prefixes":[
		{"ipv4Prefix":"34.80.0.0/15","service":"Google Cloud","scope":"asia-east1"},
		{"ipv4Prefix":"34.1.208.0/20","service":"Google Cloud","scope":"us-central1"}]}`}
	a, _ := urlAuth(t, srv, config.IPRangeURL{Format: "google", Regions: []string{"us-central1"}})
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, a, "34.1.208.9", "allow")
	check(t, a, "34.80.0.1", "forbidden")
}
