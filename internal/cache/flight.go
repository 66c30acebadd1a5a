package cache

import (
	"context"
	"sync"
)

// flight makes concurrent calls for one key share one execution (singleflight). The
// function runs on its own goroutine with a context that is not cancelled when the
// first caller goes away, so the callers still waiting get the result; each caller stops
// waiting when its own context ends.
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
// waited for another's execution.
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
