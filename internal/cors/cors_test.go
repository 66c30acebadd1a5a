package cors

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

func req(method string, hdr ...string) *http.Request {
	r, _ := http.NewRequest(method, "http://edge/x", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestPreflight(t *testing.T) {
	p := New(&config.CORS{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"GET", "HEAD"},
		AllowedHeaders: []string{"authorization", "X-Trace"},
		MaxAge:         10 * time.Minute,
	})
	for _, tc := range []struct {
		name   string
		r      *http.Request
		reason string
	}{
		{"allowed", req("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "Authorization, x-trace"), ""},
		{"origin case-insensitive", req("OPTIONS", "Origin", "https://APP.example.com", "Access-Control-Request-Method", "GET"), ""},
		{"safelisted header", req("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "range"), ""},
		{"other origin", req("OPTIONS", "Origin", "https://evil.example", "Access-Control-Request-Method", "GET"), "cors: origin not allowed"},
		{"null origin", req("OPTIONS", "Origin", "null", "Access-Control-Request-Method", "GET"), "cors: origin not allowed"},
		{"method", req("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "DELETE"), "cors: method not allowed"},
		{"header", req("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-other"), "cors: header x-other not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !IsPreflight(tc.r) {
				t.Fatal("not recognised as a preflight")
			}
			h := http.Header{}
			if got := p.Preflight(h, tc.r); got != tc.reason {
				t.Fatalf("reason %q, want %q", got, tc.reason)
			}
			if tc.reason != "" {
				if h.Get("Access-Control-Allow-Origin") != "" {
					t.Error("refused preflight carries Allow-Origin")
				}
				return
			}
			if h.Get("Access-Control-Allow-Origin") != tc.r.Header.Get("Origin") || h.Get("Access-Control-Max-Age") != "600" ||
				h.Get("Access-Control-Allow-Methods") != "GET, HEAD" || h.Get("Access-Control-Allow-Headers") != "Authorization, X-Trace" {
				t.Errorf("headers %v", h)
			}
			if h.Get("Vary") == "" {
				t.Error("no Vary")
			}
		})
	}
	if IsPreflight(req("OPTIONS", "Origin", "https://app.example.com")) {
		t.Error("OPTIONS without Access-Control-Request-Method taken as a preflight")
	}
}

func TestApply(t *testing.T) {
	exact := New(&config.CORS{AllowedOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"ETag"}})
	star := New(&config.CORS{AllowedOrigins: []string{"*"}})
	creds := New(&config.CORS{AllowedOrigins: []string{"https://a.example"}, AllowCredentials: true})
	for _, tc := range []struct {
		name                           string
		p                              *Policy
		origin, allow, vary, expose, c string
	}{
		{"exact match", exact, "https://a.example", "https://a.example", "Origin", "ETag", ""},
		{"exact, no Origin: still Vary", exact, "", "", "Origin", "", ""},
		{"exact, other origin", exact, "https://b.example", "", "Origin", "", ""},
		{"star", star, "https://b.example", "*", "", "", ""},
		{"credentials echo the origin", creds, "https://a.example", "https://a.example", "Origin", "", "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			r := req("GET")
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			tc.p.Apply(h, r)
			if h.Get("Access-Control-Allow-Origin") != tc.allow || h.Get("Vary") != tc.vary ||
				h.Get("Access-Control-Expose-Headers") != tc.expose || h.Get("Access-Control-Allow-Credentials") != tc.c {
				t.Errorf("headers %v", h)
			}
		})
	}
}
