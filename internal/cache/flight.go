package cache

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
)

// flight makes concurrent calls for one key share one execution, with
// golang.org/x/sync/singleflight. The function runs on its own goroutine with a context
// that is not cancelled when the first caller goes away (and has no deadline from it), so
// the callers still waiting get the result; each caller stops waiting when its own
// context ends.
//
// singleflight decides alone which caller's function runs, and a caller learns it only
// when that function starts, possibly after the caller stopped waiting. The cache must
// know at once: a joined caller's function never runs, so it must release what the
// function would have (encoded closes the body it would have compressed), and a joined
// caller counts as a collapse. So flight keeps its own set of keys in progress, changed
// under mu together with the singleflight.Group, and forgets a key (Forget) before the
// function returns: the set and the Group then always agree, and a caller arriving after
// the execution ended starts a new one instead of joining the finished one.
type flight struct {
	mu     sync.Mutex
	group  singleflight.Group
	active map[string]bool // keys with an execution in progress; guarded by mu
}

// do runs fn once for all concurrent callers of key. joined reports whether this caller
// waited for another's execution (its fn then does not run). A call is forgotten before
// its waiters are woken, so a caller arriving after it ended (or retrying after its
// failure) starts a new one.
func (f *flight) do(ctx context.Context, key string, fn func(ctx context.Context) (any, error)) (v any, err error, joined bool) {
	f.mu.Lock()
	joined = f.active[key]
	if !joined {
		if f.active == nil {
			f.active = map[string]bool{}
		}
		f.active[key] = true
	}
	ch := f.group.DoChan(key, func() (any, error) {
		defer func() {
			f.mu.Lock()
			delete(f.active, key)
			f.group.Forget(key)
			f.mu.Unlock()
		}()
		return fn(context.WithoutCancel(ctx))
	})
	f.mu.Unlock()
	select {
	case r := <-ch:
		return r.Val, r.Err, joined
	case <-ctx.Done():
		return nil, ctx.Err(), joined
	}
}

// shared runs fn through the Store's flight for key and counts a collapse when the caller
// joined another's execution. With retry set, a caller that joined an execution which
// then failed without a definitive answer from the origin (unreachable, timed out, or
// ended by the leader's context; see retriable) runs it again, once, while its own ctx
// is live: a request must not inherit the failure of a fetch that began before it, perhaps
// on a connection that had hung while the origin answered others. The second run may
// itself join an execution that began after the failure, never the failed one. joined
// reports whether the result came from another caller's execution (fn of this caller
// then did not run).
func (o *Origin) shared(ctx context.Context, key string, retry bool, fn func(context.Context) (any, error)) (v any, err error, joined bool) {
	v, err, joined = o.flight.do(ctx, key, fn)
	if joined {
		o.store.Stats.Collapses.Add(1)
		if retry && err != nil && retriable(ctx, err) {
			o.store.Stats.Retries.Add(1)
			v, err, joined = o.flight.do(ctx, key, fn)
			if joined {
				o.store.Stats.Collapses.Add(1)
			}
		}
	}
	return v, err, joined
}
