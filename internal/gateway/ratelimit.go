package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
)

// Rate limits (docs/rate-limits.md). A route's limiter counts its requests by client
// address or header value before its policy runs (so a flood of bad credentials is
// limited too), or by identity once the policy allows. Limiters live in the process's
// ratelimit.Registry, which reloads carry over (like the cache Store and the
// authenticators' shared state): a reload keeps a route's limiter, with its counts, when
// the route's name and rate_limit settings are unchanged, and starts a new one
// otherwise. The registry is where the server joins the limiters to the fleet:
// State.RateLimits().SetFleet(syncer, replicas), then Start.

// ErrRateLimited is the cause of a 429 for a request over its route's rate limit.
var ErrRateLimited = errors.New("rate limited")

// RateLimit is a route's compiled rate limit.
type RateLimit struct {
	Limiter *ratelimit.Limiter
	// By is what requests are counted by (config.RateByClient, RateByIdentity,
	// RateByHeader); Header is the header counted by with RateByHeader.
	By     string
	Header string
	cfg    config.RateLimit // what it was built from, to keep it across reloads
	// policy is the RateLimit-Policy header's value.
	policy string
}

// RateLimits returns the process's rate-limit registry (never nil): carried over by
// BuildFrom, it is where the server sets the fleet's Syncer and starts the sync loop.
func (s *State) RateLimits() *ratelimit.Registry { return s.rateLimits }

// buildRateLimits takes over the previous State's registry, or starts a local one.
func (b *builder) buildRateLimits() {
	if b.prev != nil && b.prev.rateLimits != nil {
		b.st.rateLimits = b.prev.rateLimits
		return
	}
	b.st.rateLimits = ratelimit.NewRegistry(ratelimit.Options{})
}

// rateLimitRoute gives rt its rate limit: the previous State's limiter of the route with
// the same name and settings, or a new one.
func (b *builder) rateLimitRoute(rt *Route, rc *config.Route) {
	c := rc.RateLimit
	if c == nil {
		return
	}
	rl := &RateLimit{By: c.By, Header: c.Header, cfg: *c,
		policy: `"default";q=` + strconv.Itoa(c.Requests) + ";w=" + strconv.FormatInt(int64(c.Per/time.Second), 10)}
	if b.prev != nil {
		for _, old := range b.prev.routes.Values() {
			if old.Name == rc.Name && old.RateLimit != nil && old.RateLimit.cfg == *c {
				rl.Limiter = old.RateLimit.Limiter
			}
		}
	}
	if rl.Limiter == nil {
		rl.Limiter = b.st.rateLimits.New(rateLimitID(rc.Name, c), c.Requests, c.Per)
	}
	rt.RateLimit = rl
}

// rateLimitID names a limiter in the fleet's counters: the route's name and a hash of
// its settings, so replicas whose settings differ (during a rolling change) count apart.
func rateLimitID(name string, c *config.RateLimit) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%d\n%d\n%s\n%s", c.Requests, int64(c.Per), c.By, c.Header))
	return name + "/" + hex.EncodeToString(h[:4])
}

// beforePolicy counts a request of a route limited by client or header; false when it
// is over the limit (p is then the refusal).
func (rl *RateLimit) beforePolicy(p *Plan, r *http.Request, preq *policy.Request) bool {
	if rl.By == config.RateByIdentity {
		return true
	}
	if rl.By == config.RateByHeader {
		if v := r.Header.Get(rl.Header); v != "" {
			return rl.check(p, ratelimit.HeaderKey(v), config.RateByHeader)
		}
	}
	return rl.check(p, ratelimit.ClientKey(preq.Client), config.RateByClient)
}

// afterPolicy counts an allowed request of a route limited by identity: its user, else
// its subject (an identity with neither is counted by client address).
func (rl *RateLimit) afterPolicy(p *Plan, preq *policy.Request) bool {
	if rl.By != config.RateByIdentity {
		return true
	}
	if id := p.Decision.Identity; id != nil && (id.User != "" || id.Subject != "") {
		user := id.User
		if user == "" {
			user = id.Subject
		}
		return rl.check(p, ratelimit.IdentityKey(user), config.RateByIdentity)
	}
	return rl.check(p, ratelimit.ClientKey(preq.Client), config.RateByClient)
}

// check counts k and, over the limit, makes p a 429 with Retry-After and the IETF
// httpapi draft's RateLimit-Policy and RateLimit fields; the reason names the kind of
// key (never the key).
func (rl *RateLimit) check(p *Plan, k ratelimit.Key, kind string) bool {
	d := rl.Limiter.Allow(k)
	if d.Allowed {
		return true
	}
	secs := strconv.FormatInt(int64(d.RetryAfter/time.Second), 10)
	p.Header.Set("Retry-After", secs)
	p.Header.Set("RateLimit-Policy", rl.policy)
	p.Header.Set("RateLimit", `"default";r=0;t=`+secs)
	p.Decision.Allow = false
	p.Decision.Status = http.StatusTooManyRequests
	p.Decision.Reason = "rate limited (by " + kind + ")"
	p.refuse(http.StatusTooManyRequests, fmt.Errorf("%w by %s", ErrRateLimited, kind))
	return false
}
