package ipauth

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// loader fetches one dynamic source. Calls are serialised by the source, so a loader may
// keep state (validators, file identity) without locking.
type loader interface {
	// load returns the source's prefixes, or changed == false with a nil error when
	// the source is known to be unchanged since the last successful load (HTTP 304, an
	// untouched file). force asks for a full re-read where the loader would otherwise
	// skip one.
	load(ctx context.Context, force bool) (prefixes []netip.Prefix, changed bool, err error)
	// interval is the wait between successful loads.
	interval() time.Duration
}

// source is one dynamic source and its last published result.
type source struct {
	name   string
	loader loader
	loadMu sync.Mutex // serialises loads (Start's goroutine and Load)

	// Guarded by Authenticator.mu.
	prefixes []netip.Prefix // normalised, sorted, distinct
	loaded   bool           // has ever loaded
	lastErr  error          // of the latest load; nil after a success
	failures int            // consecutive
	lastOK   time.Time      // of the latest successful load (changed or not); zero: none
}

// run loads s until ctx ends: at once, then after the source's interval, or after a
// backoff (RetryMin doubling, capped at the interval) while loads fail. Waits are
// shortened by up to a tenth at random, so that many gateways started together do not
// refresh in step.
func (a *Authenticator) run(ctx context.Context, s *source) {
	for {
		err := a.loadSource(ctx, s, false)
		if ctx.Err() != nil {
			return
		}
		wait := s.loader.interval()
		if err != nil {
			a.mu.Lock()
			n := s.failures
			a.mu.Unlock()
			wait = min(wait, backoff(a.opts.RetryMin, n))
		}
		wait -= rand.N(wait/10 + 1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff is base·2^(failures-1), saturating.
func backoff(base time.Duration, failures int) time.Duration {
	shift := max(0, failures-1)
	if shift >= 62 || base > time.Duration(1<<62)>>shift {
		return time.Duration(1<<63 - 1)
	}
	return base << shift
}

// loadSource runs one load of s and publishes what changed. It returns the load's error
// prefixed with the source's name.
func (a *Authenticator) loadSource(ctx context.Context, s *source, force bool) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	lctx, cancel := context.WithTimeout(ctx, a.opts.LoadTimeout)
	prefixes, changed, err := s.loader.load(lctx, force)
	cancel()

	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", s.name, ctx.Err()) // shutting down: not a source failure
		}
		s.failures++
		a.refreshErrors++
		if s.lastErr == nil || s.lastErr.Error() != err.Error() || bits.OnesCount(uint(s.failures)) == 1 {
			// First failure, a new error, or the 2nd, 4th, 8th... repeat: enough to notice
			// a lasting failure without a warning on every file poll.
			a.log.Warn("ip source refresh failed", "source", s.name, "error", err.Error(),
				"failures", s.failures, "loaded", s.loaded, "keeping_prefixes", len(s.prefixes))
		}
		s.lastErr = err
		if !s.loaded {
			a.publish(false) // the readiness error names the latest cause
		}
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if s.lastErr != nil && s.loaded {
		a.log.Info("ip source recovered", "source", s.name, "failures", s.failures)
	}
	s.failures, s.lastErr, s.lastOK = 0, nil, time.Now()
	if !changed {
		if !s.loaded { // a loader bug, not a state to publish: treat as a failure
			return fmt.Errorf("%s: reported unchanged before any load", s.name)
		}
		return nil
	}
	for i, p := range prefixes {
		prefixes[i] = normalize(p)
	}
	slices.SortFunc(prefixes, comparePrefix)
	prefixes = slices.Compact(prefixes)
	if s.loaded && slices.Equal(prefixes, s.prefixes) {
		return nil
	}
	first := !s.loaded
	s.prefixes, s.loaded = prefixes, true
	a.publish(true)
	a.log.Info("ip source loaded", "source", s.name, "prefixes", len(prefixes), "first", first)
	return nil
}

func comparePrefix(x, y netip.Prefix) int {
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c
	}
	return x.Bits() - y.Bits()
}

// Freshness reports the dynamic sources for metrics (policy.Fresher): the oldest of
// their last successful loads (zero while one has never loaded), the prefixes loaded
// (static cidrs included) and the failed loads so far. ok is false without dynamic
// sources.
func (a *Authenticator) Freshness() (f policy.Freshness, ok bool) {
	if len(a.sources) == 0 {
		return f, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f = policy.Freshness{Kind: "ipset", Entries: len(a.static), RefreshErrors: a.refreshErrors}
	all := true
	for _, s := range a.sources {
		f.Entries += len(s.prefixes)
		switch {
		case !s.loaded:
			all = false
		case f.LastSuccess.IsZero() || s.lastOK.Before(f.LastSuccess):
			f.LastSuccess = s.lastOK
		}
	}
	if !all {
		f.LastSuccess = time.Time{}
	}
	return f, true
}
