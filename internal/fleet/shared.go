package fleet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse-dev/gatehouse/internal/auth/basicauth"
	"github.com/gatehouse-dev/gatehouse/internal/auth/loginauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// Basic failure counts: each failure is added to a sorted set per (credential set,
// client group) by one script, which also trims the set to the last minute and to the
// largest max_failures, and publishes the set's times on the stream; every replica
// merges them into its own Limiter (basicauth.Limiter.Merge), so the check on a request
// stays local.

const failuresKind = "failures"

var failScript = rueidis.NewLuaScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
redis.call('PEXPIRE', KEYS[1], window)
local ts = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 2, #ts, 2 do out[#out + 1] = ts[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'r', ARGV[5], 'k', 'failures', 'd', ARGV[6] .. '\n' .. table.concat(out, ','))
return out
`)

// failureWindow matches basicauth's: failures older than a minute do not count.
const failureWindow = time.Minute

// failures is the fleet's basicauth.FailureSync.
type failures struct {
	f *Fleet
	// failedAt is when the last Failed call got an error (Unix nanoseconds; 0 after a
	// success): Redis may answer and still refuse the script (OOM under noeviction,
	// READONLY after a failover), which leaves the counts unshared all the same.
	failedAt *atomic.Int64
}

func newFailures(f *Fleet) failures { return failures{f: f, failedAt: new(atomic.Int64)} }

// unsharedFor is how long after a failed Failed call the limits stay divided, unless a
// later call succeeds.
const unsharedFor = 10 * time.Second

// ShareFailures makes l count Basic failures across the fleet: its failures go to Redis
// and the fleet's come back over the stream. Call before Start.
func (f *Fleet) ShareFailures(l *basicauth.Limiter) {
	l.Share(newFailures(f))
	f.Handle(failuresKind, func(e Event) {
		if e.Mine {
			return // merged from the script's answer already
		}
		key, list, ok := strings.Cut(string(e.Data), "\n")
		if !ok {
			return
		}
		var times []time.Time
		for _, s := range strings.Split(list, ",") {
			if ms, err := strconv.ParseFloat(s, 64); err == nil {
				times = append(times, time.UnixMilli(int64(ms)))
			}
		}
		l.Merge(key, times, f.now())
	})
}

// Failed implements basicauth.FailureSync.
func (s failures) Failed(ctx context.Context, key string, t time.Time, keep int) ([]time.Time, error) {
	f := s.f
	c := f.c()
	if c == nil {
		s.failedAt.Store(time.Now().UnixNano())
		return nil, errNotConnected
	}
	b := make([]byte, 8)
	rand.Read(b)
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	ms := t.UnixMilli()
	res, err := failScript.Exec(ctx, c, []string{f.keys.prefix + "fail:" + key, f.keys.events},
		[]string{strconv.FormatInt(ms, 10), strconv.FormatInt(failureWindow.Milliseconds(), 10), strconv.Itoa(max(keep, 1)),
			strconv.FormatInt(ms, 10) + "-" + hex.EncodeToString(b), f.id, key, strconv.Itoa(streamMaxLen)}).ToArray()
	f.observe(err)
	if err != nil {
		s.failedAt.Store(time.Now().UnixNano())
		return nil, err
	}
	s.failedAt.Store(0)
	out := make([]time.Time, 0, len(res))
	for _, m := range res {
		s, err := m.ToString()
		if err != nil {
			continue
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			out = append(out, time.UnixMilli(int64(v)))
		}
	}
	return out, nil
}

// Degraded implements basicauth.FailureSync: the shared counts cannot be reached, or
// the last attempt to add to them failed within unsharedFor.
func (s failures) Degraded() bool {
	at := s.failedAt.Load()
	return !s.f.Connected() || at != 0 && time.Since(time.Unix(0, at)) < unsharedFor
}

// Replicas implements basicauth.FailureSync.
func (s failures) Replicas() int { return s.f.cfg.Replicas }

// spent is the fleet's loginauth.SpentStates: a state or code is spent once for the
// whole fleet (SET NX with the state's expiry), and also in this process, so a replay
// to this replica is refused even while Redis is unreachable.
type spent struct {
	f     *Fleet
	local *loginauth.Spent
}

// Spent returns the fleet's record of spent sign-in states, backed by local.
func (f *Fleet) Spent(local *loginauth.Spent) loginauth.SpentStates { return spent{f, local} }

// Use implements loginauth.SpentStates. With Redis unreachable, on_outage decides:
// deny (the default) refuses the sign-in with an error; allow checks this replica only.
func (s spent) Use(state string, expires, now time.Time) (bool, error) {
	if !s.local.UseLocal(state, expires, now) {
		return false, nil
	}
	h := sha256.Sum256([]byte(state))
	key := s.f.keys.prefix + "spent:" + hex.EncodeToString(h[:16])
	ttl := max(expires.Sub(now), time.Second)
	_, err := s.f.do(context.Background(), func(c rueidis.Client) rueidis.Completed {
		return c.B().Set().Key(key).Value("1").Nx().Px(ttl).Build()
	})
	switch {
	case err == nil:
		return true, nil
	case rueidis.IsRedisNil(err):
		return false, nil // spent on another replica
	}
	if s.f.cfg.OnOutage == config.RedisOutageAllow {
		return true, nil
	}
	return false, err
}
