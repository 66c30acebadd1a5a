package jwtauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// TestSources: header, then query parameter, then cookie; the first present wins.
func TestSources(t *testing.T) {
	testKeys(t)
	is := newIssuer(t, pub("A", rsaA, "RS256"))
	clk := newClock()
	good := mint(t, rsaA, "A", jose.RS256, idClaims(is, clk))
	expired := mint(t, rsaA, "A", jose.RS256, with(idClaims(is, clk), "exp", clk.now().Add(-time.Hour).Unix()))
	off := false
	tests := []struct {
		name    string
		noHdr   bool
		headers []string // Authorization values
		query   string
		cookies []string // id_token cookie values
		want    string
		reason  string
	}{
		{name: "nothing", want: "none"},
		{name: "header", headers: []string{"Bearer " + good}, want: "allow"},
		{name: "query", query: "access_token=" + good, want: "allow"},
		{name: "cookie", cookies: []string{good}, want: "allow"},
		{name: "header wins over query", headers: []string{"Bearer " + expired}, query: "access_token=" + good, want: "bad", reason: "token expired"},
		{name: "query wins over cookie", query: "access_token=" + expired, cookies: []string{good}, want: "bad", reason: "token expired"},
		{name: "Basic header falls through to cookie", headers: []string{"Basic eDp5"}, cookies: []string{good}, want: "allow"},
		{name: "header disabled", noHdr: true, headers: []string{"Bearer " + good}, want: "none"},
		{name: "header disabled, query used", noHdr: true, headers: []string{"Bearer " + expired}, query: "access_token=" + good, want: "allow"},
		{name: "two bearer headers", headers: []string{"Bearer " + good, "Bearer " + good}, want: "bad", reason: "more than one bearer token"},
		{name: "bearer and basic headers", headers: []string{"Basic eDp5", "Bearer " + good}, want: "allow"},
		{name: "query repeated", query: "access_token=" + good + "&access_token=" + good, want: "bad", reason: "more than one token in the query"},
		{name: "query empty", query: "access_token=", want: "bad", reason: "empty token"},
		{name: "other query parameter", query: "token=" + good, want: "none"},
		{name: "query parameter name is case-sensitive", query: "Access_Token=" + good, want: "none"},
		{name: "empty cookie counts as absent", cookies: []string{""}, want: "none"},
		{name: "two cookies", cookies: []string{good, expired}, want: "bad", reason: "more than one token cookie"},
		{name: "cookie garbage", cookies: []string{"deleted"}, want: "bad", reason: "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(is)
			if tt.noHdr {
				cfg.Header = &off
			}
			a := newAuth(t, cfg, clk)
			r := httptest.NewRequest(http.MethodGet, "https://files.example.com/a.pdf?"+tt.query, nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			for _, c := range tt.cookies {
				r.Header.Add("Cookie", (&http.Cookie{Name: "id_token", Value: c}).String())
			}
			_, err := a.Authenticate(context.Background(), &policy.Request{HTTP: r})
			if got := outcome(err); got != tt.want || (tt.reason != "" && reason(err) != tt.reason) {
				t.Fatalf("got %s %q (%v), want %s %q", got, reason(err), err, tt.want, tt.reason)
			}
		})
	}
}

// TestQueryParam: the gateway strips this parameter from anything forwarded or logged.
func TestQueryParam(t *testing.T) {
	is := newIssuer(t)
	for _, q := range []string{"", "access_token"} {
		cfg := baseConfig(is)
		cfg.QueryParam = q
		a, err := New("jwt", cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.QueryParam() != q {
			t.Fatalf("QueryParam() = %q, want %q", a.QueryParam(), q)
		}
		_ = a.Close()
	}
}

// TestNilRequest: a request without an HTTP part carries no credentials.
func TestNilRequest(t *testing.T) {
	a, err := New("jwt", &config.JWTAuth{Issuer: "https://issuer.example.com", Audiences: []string{"x"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Authenticate(context.Background(), &policy.Request{}); outcome(err) != "none" {
		t.Fatalf("got %v", err)
	}
	r := &http.Request{Header: http.Header{}, URL: &url.URL{}}
	if _, err := a.Authenticate(context.Background(), &policy.Request{HTTP: r}); outcome(err) != "none" {
		t.Fatalf("got %v", err)
	}
}
