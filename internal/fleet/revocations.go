package fleet

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// Revocations live in one Redis hash (ID -> the record's JSON) and every change is also
// an event on the stream, in one script, so a replica that reads the hash after fixing
// its stream position (OnSync) and then applies the events misses nothing. Each replica
// holds the whole list in its revoke.Set: the check on a request is local, and the list
// is known current as of the last stream read (about every second), which is what
// redis.max_staleness is measured against. If Redis comes back without its data, each
// replica writes back the records it holds (HSETNX, publishing each record it restored
// as an event, so that a replica that read the empty list meanwhile learns it too), and
// keeps its own records besides what it reads back: a restart of Redis loses no
// revocation as long as one replica kept running (TestRegression_RestoreRace).

const (
	revokeKind = "revoke"
	liftKind   = "lift"
)

var addScript = rueidis.NewLuaScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'r', ARGV[3], 'k', 'revoke', 'd', ARGV[2])
return 1
`)

// restoreScript writes back records (ARGV: replica, maxlen, then id, json pairs) that
// Redis lacks, each also published as a revoke event.
var restoreScript = rueidis.NewLuaScript(`
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'r', ARGV[1], 'k', 'revoke', 'd', ARGV[i + 1])
    n = n + 1
  end
end
return n
`)

var liftScript = rueidis.NewLuaScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[2], 'k', 'lift', 'd', ARGV[1])
return 1
`)

// revocations is the fleet's revoke.Store.
type revocations struct {
	f   *Fleet
	set *revoke.Set
	// lost is set by OnLost until the records are written back and read again.
	lost atomic.Bool
}

// Revocations keeps set equal to the fleet's revocation list (loaded on every
// (re)connection, then changed by the stream's events; marked current after every
// stream read) and returns the Store that changes the list. Call before Start.
func (f *Fleet) Revocations(set *revoke.Set) revoke.Store {
	s := &revocations{f: f, set: set}
	f.Handle(revokeKind, func(e Event) {
		var r revoke.Revocation
		if err := json.Unmarshal(e.Data, &r); err != nil || r.ID == "" {
			f.log.Warn("redis: unreadable revocation event", "id", e.ID)
			return
		}
		set.Apply(r)
	})
	f.Handle(liftKind, func(e Event) { set.Lift(string(e.Data)) })
	f.OnLost(func(string) { s.lost.Store(true) })
	f.OnSync(func(at time.Time) {
		ctx := context.Background()
		lost := s.lost.Load()
		if lost {
			// A connection that died with the old server may fail the first try.
			var err error
			for range 3 {
				if err = s.restore(ctx); err == nil {
					break
				}
			}
			if err != nil {
				f.log.Warn("redis: writing back the revocation list failed", "error", err.Error())
			}
		}
		all, err := s.List(ctx)
		if err != nil {
			f.log.Warn("redis: loading the revocation list failed", "error", err.Error())
			return
		}
		if lost {
			// Keep what this replica holds whatever Redis says now: another replica may
			// have read the empty list, and this one's write-back may have failed.
			all = union(all, set.List())
			s.lost.Store(false)
		}
		set.Replace(all, at)
	})
	f.onRead = append(f.onRead, set.Synced)
	return s
}

// Add implements revoke.Store. A record with the same ID keeps the later expiry (zero
// being never).
func (s *revocations) Add(ctx context.Context, r revoke.Revocation) (revoke.Revocation, error) {
	r.ID = r.ComputeID()
	if old, ok, err := s.get(ctx, r.ID); err != nil {
		return r, err
	} else if ok {
		if old.Expires.IsZero() || !r.Expires.IsZero() && old.Expires.After(r.Expires) {
			r.Expires = old.Expires
		}
		if r.Created.IsZero() || !old.Created.IsZero() && old.Created.Before(r.Created) {
			r.Created = old.Created
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	if err := s.exec(ctx, addScript, r.ID, string(data), s.f.id, strconv.Itoa(streamMaxLen)); err != nil {
		return r, err
	}
	s.set.Apply(r) // at once here; the event confirms it
	return r, nil
}

// Lift implements revoke.Store.
func (s *revocations) Lift(ctx context.Context, id string) error {
	c := s.f.c()
	if c == nil {
		return errNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, s.f.cfg.Timeout)
	defer cancel()
	n, err := liftScript.Exec(ctx, c, []string{s.f.keys.revocations, s.f.keys.events}, []string{id, s.f.id, strconv.Itoa(streamMaxLen)}).AsInt64()
	s.f.observe(err)
	if err != nil {
		return err
	}
	if n == 0 {
		return revoke.ErrNotFound
	}
	s.set.Lift(id)
	return nil
}

// List implements revoke.Store: every unexpired record. Expired ones are removed.
func (s *revocations) List(ctx context.Context) ([]revoke.Revocation, error) {
	res, err := s.f.do(ctx, func(c rueidis.Client) rueidis.Completed {
		return c.B().Hgetall().Key(s.f.keys.revocations).Build()
	})
	if err != nil {
		return nil, err
	}
	m, err := res.AsStrMap()
	if err != nil {
		return nil, err
	}
	now := s.f.now()
	out := make([]revoke.Revocation, 0, len(m))
	var expired []string
	for id, v := range m {
		var r revoke.Revocation
		if json.Unmarshal([]byte(v), &r) != nil || r.ID != id {
			continue
		}
		if r.Expired(now) {
			expired = append(expired, id)
			continue
		}
		out = append(out, r)
	}
	if len(expired) > 0 {
		s.f.do(ctx, func(c rueidis.Client) rueidis.Completed {
			return c.B().Hdel().Key(s.f.keys.revocations).Field(expired...).Build()
		})
	}
	return out, nil
}

func (s *revocations) get(ctx context.Context, id string) (revoke.Revocation, bool, error) {
	res, err := s.f.do(ctx, func(c rueidis.Client) rueidis.Completed {
		return c.B().Hget().Key(s.f.keys.revocations).Field(id).Build()
	})
	if rueidis.IsRedisNil(err) {
		return revoke.Revocation{}, false, nil
	}
	if err != nil {
		return revoke.Revocation{}, false, err
	}
	v, err := res.ToString()
	if err != nil {
		return revoke.Revocation{}, false, err
	}
	var r revoke.Revocation
	if json.Unmarshal([]byte(v), &r) != nil {
		return revoke.Revocation{}, false, nil
	}
	return r, true, nil
}

func (s *revocations) exec(ctx context.Context, script *rueidis.Lua, args ...string) error {
	c := s.f.c()
	if c == nil {
		return errNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, s.f.cfg.Timeout)
	defer cancel()
	err := script.Exec(ctx, c, []string{s.f.keys.revocations, s.f.keys.events}, args).Error()
	s.f.observe(err)
	return err
}

// restore writes back the records this replica holds that Redis lacks (after Redis
// lost its data), publishing each one it wrote.
func (s *revocations) restore(ctx context.Context) error {
	all := s.set.List()
	if len(all) == 0 {
		return nil
	}
	args := []string{s.f.id, strconv.Itoa(streamMaxLen)}
	for _, r := range all {
		data, err := json.Marshal(r)
		if err != nil {
			continue
		}
		args = append(args, r.ID, string(data))
	}
	c := s.f.c()
	if c == nil {
		return errNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, s.f.cfg.Timeout)
	defer cancel()
	n, err := restoreScript.Exec(ctx, c, []string{s.f.keys.revocations, s.f.keys.events}, args).AsInt64()
	s.f.observe(err)
	if err != nil {
		return err
	}
	s.f.log.Info("redis: revocation list written back after Redis lost its data", "held", len(all), "restored", n)
	return nil
}

// union is a and the records of b whose IDs a lacks.
func union(a, b []revoke.Revocation) []revoke.Revocation {
	seen := make(map[string]bool, len(a))
	for _, r := range a {
		seen[r.ID] = true
	}
	for _, r := range b {
		if !seen[r.ID] {
			a = append(a, r)
		}
	}
	return a
}
