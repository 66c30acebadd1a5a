package config

import (
	"net/http"
	"time"
)

// RateLimit is a route's request rate limit (docs/rate-limits.md): at most Requests per
// Per for each client, identity or header value, counted over a sliding window, and
// across every replica when the configuration has a redis section. Requests over it are
// answered 429 with Retry-After.
type RateLimit struct {
	// Requests is how many requests each key may make per window (at least 1).
	Requests int `yaml:"requests"`
	// Per is the window: 1s to 24h.
	Per time.Duration `yaml:"per"`
	// By is what requests are counted by: "client" (the client address; IPv6 by /64,
	// the default), "identity" (the user the route's policy established; counted after
	// it allows) or "header" (the value of Header).
	By string `yaml:"by"`
	// Header names the header counted by (By "header" only). Requests without it are
	// counted by client address.
	Header string `yaml:"header"`
}

// What a rate limit counts by, and its bounds.
const (
	RateByClient    = "client"
	RateByIdentity  = "identity"
	RateByHeader    = "header"
	MinRateLimitPer = time.Second
	MaxRateLimitPer = 24 * time.Hour
	// MaxRateLimitRequests bounds requests so that counts stay exact in the windowed
	// arithmetic and in the fleet's counters.
	MaxRateLimitRequests = 1_000_000_000
)

func (r *RateLimit) applyDefaults() {
	if r.By == "" {
		r.By = RateByClient
	}
	if r.Header != "" {
		r.Header = http.CanonicalHeaderKey(r.Header)
	}
}

// validateRateLimit checks routes[N].rate_limit (p is the route's path) and how it fits
// the route: counting by identity needs a route that has one.
func validateRateLimit(c *collector, p string, r *Route) {
	rl := r.RateLimit
	if rl == nil {
		return
	}
	rp := p + ".rate_limit"
	if rl.Requests < 1 || rl.Requests > MaxRateLimitRequests {
		c.addf(rp+".requests", "required: how many requests each key may make per window, from 1 to %d, got %d", MaxRateLimitRequests, rl.Requests)
	}
	switch {
	case rl.Per == 0:
		c.addf(rp+".per", "required: the window, from 1s to 24h, e.g. 1m")
	case rl.Per < MinRateLimitPer || rl.Per > MaxRateLimitPer:
		c.addf(rp+".per", "must be between 1s and 24h, got %s", rl.Per)
	}
	oneOf(c, rp+".by", rl.By, RateByClient, RateByIdentity, RateByHeader)
	switch {
	case rl.By == RateByHeader && rl.Header == "":
		c.addf(rp+".header", "required with by: header: the header to count by, e.g. X-Api-Key")
	case rl.By == RateByHeader && !isToken(rl.Header):
		c.addf(rp+".header", "not a header name: %q", rl.Header)
	case rl.By != RateByHeader && rl.Header != "":
		c.addf(rp+".header", "only with by: header")
	}
	if rl.By == RateByIdentity && r.Public {
		c.addf(rp+".by", "a public route establishes no identity to count by: use client or header")
	}
}
