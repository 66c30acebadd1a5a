// Package lifecycle runs the background work of a long-lived component (an
// authenticator's refresh or polling loops): started once, stopped once, and waited for.
//
// It is the one implementation of the Start(ctx)/Close() contract that policy.Starter
// and io.Closer describe for authenticators: Start launches the loops and returns at
// once; the loops stop when Start's context ends or Close is called, whichever is first;
// Close is idempotent, safe without Start, and returns only when every goroutine of the
// Group has returned. Calls to Start after the first or after Close do nothing.
package lifecycle

import (
	"context"
	"sync"
)

// Group is a set of background goroutines that start once and stop together. The zero
// value is ready to use; a Group must not be copied after first use. It is safe for
// concurrent use.
type Group struct {
	mu      sync.Mutex
	started bool
	closed  bool
	ctx     context.Context // cancelled by Close; made on first use
	cancel  context.CancelFunc
	stop    context.CancelFunc // cancels the loops' context; nil before Start
	wg      sync.WaitGroup
}

// init makes g's context. Called with g.mu held.
func (g *Group) init() {
	if g.ctx == nil {
		g.ctx, g.cancel = context.WithCancel(context.Background())
	}
}

// Start runs each of loops on its own goroutine with a context that ends when ctx ends
// or Close is called, and returns at once. Only the first call, and only before Close,
// starts anything; it reports whether this call started the loops.
func (g *Group) Start(ctx context.Context, loops ...func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started || g.closed {
		return false
	}
	g.started = true
	ctx, g.stop = context.WithCancel(ctx)
	for _, loop := range loops {
		g.wg.Go(func() { loop(ctx) })
	}
	return true
}

// Track registers one piece of work that runs outside Start's loops (a fetch on another
// goroutine, say) so that Close waits for it too. It returns done, to be called exactly
// once when the work ends, and false (with a nil done) after Close: the work must then
// not begin. The work should watch Context to stop early on Close.
func (g *Group) Track() (done func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, false
	}
	g.wg.Add(1)
	return g.wg.Done, true
}

// Context returns the context that Close cancels. It is not tied to Start's context.
func (g *Group) Context() context.Context {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	return g.ctx
}

// Started reports whether Start has started the loops.
func (g *Group) Started() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started
}

// Closed reports whether Close has been called.
func (g *Group) Closed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// Close cancels Context (and so every loop's context) and waits for the loops and every
// tracked piece of work to return. It may be called more than once, with or without
// Start; every call waits. It reports whether this call was the first.
func (g *Group) Close() bool {
	g.mu.Lock()
	first := !g.closed
	g.closed = true
	g.init()
	stop := g.stop
	g.mu.Unlock()
	g.cancel()
	if stop != nil {
		stop()
	}
	g.wg.Wait()
	return first
}
