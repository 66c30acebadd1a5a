package policy

import "time"

// Freshness is how current the source an authenticator loads is (an address list, a key
// set): what metrics report as its staleness.
type Freshness struct {
	// Kind is "ipset" (an ip authenticator's dynamic address lists) or "jwks" (a jwt
	// authenticator's key set).
	Kind string
	// LastSuccess is when the source last loaded (for several sources, the oldest of
	// their last loads); zero until every source has loaded once.
	LastSuccess time.Time
	// Entries is what is loaded now: address prefixes, or keys.
	Entries int
	// RefreshErrors counts the failed loads since the authenticator was built.
	RefreshErrors uint64
}

// Fresher is implemented by authenticators that load a source in the background.
// Freshness reports it; ok is false when there is nothing loaded in the background (an
// ip authenticator with static cidrs only).
type Fresher interface {
	Freshness() (f Freshness, ok bool)
}
