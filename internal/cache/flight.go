package cache

import (
	"context"
	"sync"
)

// flight makes concurrent calls for one key share one execution (singleflight). The
// function runs on its own goroutine with a context that is not cancelled when the
// first caller goes away (and has no deadline from it), so the callers still waiting get
// the result; each caller stops waiting when its own context ends.
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done chan struct{}
	val  any
	err  error
}

// do runs fn once for all concurrent callers of key. joined reports whether this caller
// waited for another's execution. A call is forgotten before its waiters are woken, so
// a caller arriving after it ended (or retrying after its failure) starts a new one.
func (f *flight) do(ctx context.Context, key string, fn func(ctx context.Context) (any, error)) (v any, err error, joined bool) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*call{}
	}
	c, joined := f.calls[key]
	if !joined {
		c = &call{done: make(chan struct{})}
		f.calls[key] = c
		go func() {
			defer func() {
				f.mu.Lock()
				delete(f.calls, key)
				f.mu.Unlock()
				close(c.done)
			}()
			c.val, c.err = fn(context.WithoutCancel(ctx))
		}()
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err, joined
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
