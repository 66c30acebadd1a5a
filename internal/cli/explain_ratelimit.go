package cli

import (
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// describeRateLimit says what a route's rate_limit counts ("" without one). explain
// decides on a State of its own, so its request is counted in none a server keeps, and
// it never reports a request as over the limit.
func describeRateLimit(rl *gateway.RateLimit) string {
	if rl == nil {
		return ""
	}
	by := "client address (before the policy)"
	switch rl.By {
	case config.RateByIdentity:
		by = "identity (once the policy allows)"
	case config.RateByHeader:
		by = rl.Header + " header, else client address (before the policy)"
	}
	return fmt.Sprintf("%d per %s, counted by %s", rl.Limiter.Limit(), window(rl.Limiter.Per()), by)
}

// window writes a window length the way the configuration does: 1h, 10m, 30s.
func window(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
