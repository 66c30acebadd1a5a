package fleet

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
)

// Rate-limit counts: one Redis counter per (limiter and key, window), added to with
// INCRBY in one pipelined round per sync interval for every key a replica saw (see
// internal/ratelimit: the decision on a request is local, from the fleet's totals of
// the last round plus this replica's requests since).

// rateSyncer is the fleet's ratelimit.Syncer.
type rateSyncer struct{ f *Fleet }

// RateSyncer returns the Syncer that counts rate limits across the fleet.
func (f *Fleet) RateSyncer() ratelimit.Syncer { return rateSyncer{f} }

// Sync implements ratelimit.Syncer.
func (s rateSyncer) Sync(ctx context.Context, counts []ratelimit.Count) ([]ratelimit.Count, error) {
	f := s.f
	c := f.c()
	if c == nil {
		return nil, errNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	if len(counts) == 0 {
		err := c.Do(ctx, c.B().Ping().Build()).Error()
		f.observe(err)
		return nil, err
	}
	cmds := make(rueidis.Commands, 0, 2*len(counts))
	for _, n := range counts {
		key := f.keys.prefix + "rl:" + n.Key + ":" + strconv.FormatInt(n.Window, 10)
		cmds = append(cmds, c.B().Incrby().Key(key).Increment(n.N).Build(),
			c.B().Pexpire().Key(key).Milliseconds(max(n.TTL, time.Second).Milliseconds()).Build())
	}
	res := c.DoMulti(ctx, cmds...)
	out := make([]ratelimit.Count, len(counts))
	for i, n := range counts {
		total, err := res[2*i].AsInt64()
		if err == nil {
			err = res[2*i+1].Error()
		}
		f.observe(err)
		if err != nil {
			return nil, err
		}
		out[i] = ratelimit.Count{Key: n.Key, Window: n.Window, N: total}
	}
	return out, nil
}
