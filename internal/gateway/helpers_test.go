package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

type syncBuffer = testenv.SyncBuffer

// gw is a gatehouse under test, served by httptest.
type gw struct {
	*httptest.Server
	access *syncBuffer
	state  *gateway.State
}

// startGateway parses yamlText (with env) and serves it.
func startGateway(t testing.TB, yamlText string, env map[string]string) *gw {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yamlText), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := gateway.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := st.LoadAuthenticators(ctx); err != nil {
		t.Logf("authenticator sources: %v", err)
	}
	st.Start(ctx)
	access := &syncBuffer{}
	h := gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.NewJSONHandler(access, nil)))
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		st.Close()
	})
	return &gw{Server: srv, access: access, state: st}
}

// do sends a request with headers given as "Name: value" strings (a later value of a
// name replaces an earlier one).
func (g *gw) do(t *testing.T, method, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	return g.request(t, method, path, http.Header.Set, headers...)
}

// request sends a request, adding each "Name: value" header with put (Header.Set or
// Header.Add), and returns the response and its body.
func (g *gw) request(t *testing.T, method, path string, put func(http.Header, string, string), headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		put(req.Header, strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(body)
}

// raw sends a request line exactly as given (no client-side path cleaning) and returns
// the status and body.
func (g *gw) raw(t *testing.T, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", g.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantHeader(t *testing.T, resp *http.Response, name, want string) {
	t.Helper()
	if got := resp.Header.Get(name); got != want {
		t.Errorf("%s %s: %s = %q, want %q", resp.Request.Method, resp.Request.URL.Path, name, got, want)
	}
}
