package fleet

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
	"github.com/gatehouse-dev/gatehouse/internal/ratelimit/ratelimittest"
)

// TestRateSyncer runs ratelimit's Syncer contract against the fleet's Syncer on a real
// redis-server.
func TestRateSyncer(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	ratelimittest.Check(t, func(t *testing.T) ratelimit.Syncer {
		f := startFleet(t, cfg, t.Name(), nil)
		eventually(t, 5*time.Second, "connected", func() bool { return !f.LastSync().IsZero() })
		return f.RateSyncer()
	})
}
