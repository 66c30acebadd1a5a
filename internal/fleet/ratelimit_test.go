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

func TestKeepWindow(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC).UnixNano()
	for _, per := range []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour} {
		got := keepWindow(now, now/int64(per))
		if got < 2*per || got > 72*time.Hour {
			t.Errorf("window of %s kept %s", per, got)
		}
	}
}
