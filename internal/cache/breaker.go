package cache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// breaker is one origin's circuit breaker, shared by every decorator of that origin in a
// Store. After a call to the origin fails for want of an answer (unreachable, 5xx, timed
// out) the breaker is open for Policy.Breaker: a request holding a stale copy inside its
// stale-if-error window is served that copy at once instead of waiting on the origin,
// and one such request at a time starts a probe, a background revalidation of its
// object. The breaker stays open while the probe runs (an origin's calls are bounded by
// its own timeout). Any answer from the origin (a success, but also 304, 404 or 412)
// closes it; another failure opens it for the full interval again.
//
// The breaker never refuses a request: one without a stale copy to serve still goes to
// the origin. It only decides whether a stale copy may be served without asking first.
//
// It is a few lines rather than a library (sony/gobreaker and the like): those count
// failures to refuse calls, while this one only remembers the last outcome and lets one
// probe through.
type breaker struct {
	mu        sync.Mutex
	openUntil time.Time
	probing   bool
}

// breakerFor returns the breaker of the origin named name, shared by every decorator of
// that origin in s (and kept across reloads with s).
func (s *Store) breakerFor(name string) *breaker {
	b, _ := s.breakers.LoadOrStore(name, &breaker{})
	return b.(*breaker)
}

// record notes the outcome of one origin call made at now: a failure (ErrUnavailable,
// ErrTimeout) opens the breaker for d (d <= 0: never opens); an answer closes it; a
// call cut short by its caller's context says nothing about the origin.
func (b *breaker) record(err error, now time.Time, d time.Duration) {
	switch {
	case failed(err):
		if d > 0 {
			b.mu.Lock()
			b.openUntil = now.Add(d)
			b.mu.Unlock()
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
	default:
		b.mu.Lock()
		b.openUntil = time.Time{}
		b.mu.Unlock()
	}
}

// check reports whether the breaker is open at now and, when it is and no probe is
// running, makes the caller the prober: probe is then true and the caller must start a
// probe and call probed when it ends.
func (b *breaker) check(now time.Time) (open, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.probing && !now.Before(b.openUntil) {
		return false, false
	}
	if !b.probing {
		b.probing = true
		return true, true
	}
	return true, false
}

// probed ends a probe started after check; its outcome was recorded by the call itself.
func (b *breaker) probed() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// failed reports whether err means the origin gave no answer: unreachable, a 5xx, or no
// answer in time. 404, 304, 412 and the like are answers.
func failed(err error) bool {
	return errors.Is(err, origin.ErrUnavailable) || errors.Is(err, origin.ErrTimeout)
}

// retriable reports whether a caller that joined a fetch which ended in err should run
// the fetch again itself: its own ctx is still live, and the fetch ended without a
// definitive answer from the origin (it failed, or the leader's context ended it).
func retriable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (failed(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
