package revoke

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrRevoked is wrapped by a check's error when a revocation matches; the error's
// text names the revocation's ID (errors.As with *RevokedError gives the record).
var ErrRevoked = errors.New("revoked")

// ErrStale: the list of revocations is not known to be complete recently enough (it is
// older than SetOptions.MaxStaleness, or was never loaded), so a check cannot say the
// credential is not revoked. Callers deny as an outage (503).
var ErrStale = errors.New("revocation list is stale")

// RevokedError is the error a check returns for a match.
type RevokedError struct{ Revocation Revocation }

func (e *RevokedError) Error() string {
	return "revoked (" + string(e.Revocation.Kind) + " revocation " + e.Revocation.ID + ")"
}

// Is makes errors.Is(err, ErrRevoked) true.
func (e *RevokedError) Is(target error) bool { return target == ErrRevoked }

// SetOptions tune a Set.
type SetOptions struct {
	// MaxStaleness is how old the list may be (since the last Replace or Synced)
	// before checks fail with ErrStale; zero never considers it stale once loaded.
	MaxStaleness time.Duration
	// AllowStale makes checks use the last list (the empty list when none was ever
	// loaded) instead of failing with ErrStale: on_outage: allow.
	AllowStale bool
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
}

// Set is one replica's view of every revocation. Checks read an immutable snapshot
// through an atomic pointer: no lock, and no allocation unless something matches.
// Writers (Replace, Apply, Lift) build a new snapshot under a mutex; records past their
// Expires are ignored by checks at once and dropped by the next write. A nil *Set is
// revocation switched off: every check returns nil.
type Set struct {
	opts SetOptions
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[snapshot]
}

// snapshot is immutable once published.
type snapshot struct {
	all     []Revocation // by ID, unexpired when built
	policy  map[[32]byte][]Revocation
	key     map[string][]Revocation
	jwt     map[string][]Revocation
	subject map[string][]Revocation
	user    map[string][]Revocation
	synced  time.Time // the list was complete as of this time; zero: never loaded
}

// NewSet returns an empty Set that has never loaded a list: until the first Replace or
// Synced its checks fail with ErrStale (unless opts.AllowStale).
func NewSet(opts SetOptions) *Set {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Set{opts: opts}
	s.snap.Store(&snapshot{})
	return s
}

// Replace makes all the complete list as of at.
func (s *Set) Replace(all []Revocation, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Store(build(all, at, s.opts.Now()))
}

// Apply adds or replaces one record (by ID; an empty ID is computed).
func (s *Set) Apply(r Revocation) {
	if r.ID == "" {
		r.ID = r.ComputeID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	all := make([]Revocation, 0, len(old.all)+1)
	for _, x := range old.all {
		if x.ID != r.ID {
			all = append(all, x)
		}
	}
	s.snap.Store(build(append(all, r), old.synced, s.opts.Now()))
}

// Lift removes the record with this ID, if the Set holds it.
func (s *Set) Lift(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	all := make([]Revocation, 0, len(old.all))
	for _, x := range old.all {
		if x.ID != id {
			all = append(all, x)
		}
	}
	s.snap.Store(build(all, old.synced, s.opts.Now()))
}

// Synced records that the list is known complete as of at (a Store reachable, every
// change pushed so far applied). An earlier time than the last one is ignored.
func (s *Set) Synced(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	if !at.After(old.synced) {
		return
	}
	next := *old
	next.synced = at
	s.snap.Store(&next)
}

// LastSynced is when the list was last known complete; zero if never.
func (s *Set) LastSynced() time.Time {
	if s == nil {
		return time.Time{}
	}
	return s.snap.Load().synced
}

// Len is the number of unexpired records.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	now, n := s.opts.Now(), 0
	for _, r := range s.snap.Load().all {
		if !r.Expired(now) {
			n++
		}
	}
	return n
}

// List returns the unexpired records, oldest first (by Created, then ID).
func (s *Set) List() []Revocation {
	if s == nil {
		return nil
	}
	now := s.opts.Now()
	var out []Revocation
	for _, r := range s.snap.Load().all {
		if !r.Expired(now) {
			out = append(out, r)
		}
	}
	return out
}

// build indexes the unexpired records of all.
func build(all []Revocation, synced, now time.Time) *snapshot {
	sn := &snapshot{synced: synced}
	add := func(m *map[string][]Revocation, r Revocation) {
		if *m == nil {
			*m = map[string][]Revocation{}
		}
		(*m)[r.Value] = append((*m)[r.Value], r)
	}
	seen := map[string]bool{}
	for _, r := range all {
		if r.ID == "" {
			r.ID = r.ComputeID()
		}
		if r.Expired(now) || seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		switch r.Kind {
		case KindPolicy:
			var h [32]byte
			if n, err := hex.Decode(h[:], []byte(r.Value)); err != nil || n != len(h) {
				continue // not a policy hash: matches nothing (Validate refuses it)
			}
			if sn.policy == nil {
				sn.policy = map[[32]byte][]Revocation{}
			}
			sn.policy[h] = append(sn.policy[h], r)
		case KindKey:
			add(&sn.key, r)
		case KindJWT:
			add(&sn.jwt, r)
		case KindSubject:
			add(&sn.subject, r)
		case KindUser:
			add(&sn.user, r)
		default:
			continue // an unknown kind (a newer replica's) is kept out of the checks
		}
		sn.all = append(sn.all, r)
	}
	slices.SortFunc(sn.all, func(a, b Revocation) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return sn
}

// load returns the snapshot to check against, or ErrStale.
func (s *Set) load(now time.Time) (*snapshot, error) {
	sn := s.snap.Load()
	if s.opts.AllowStale {
		return sn, nil
	}
	if sn.synced.IsZero() || s.opts.MaxStaleness > 0 && now.Sub(sn.synced) > s.opts.MaxStaleness {
		return nil, ErrStale
	}
	return sn, nil
}

func revoked(r Revocation) error { return &RevokedError{Revocation: r} }

// CheckSigned checks a verified signed URL or cookie set: the key that signed it, its
// policy (policyHash is called only when some policy revocation exists) and its
// DateLessThan (expires). A key revocation with Before matches when expires minus its
// MaxLifetime is before Before.
func (s *Set) CheckSigned(keyID string, policyHash func() [32]byte, expires time.Time) error {
	return s.CheckSignedIssued(keyID, policyHash, expires, time.Time{})
}

// CheckSignedIssued is CheckSigned for a policy whose issue time is known exactly
// (issued, non-zero: a login authenticator's cookies, DateLessThan minus its
// cookie_lifetime): a key revocation with Before then matches when issued is not after
// Before.
//
// "Before" is inclusive throughout: issue times are whole seconds (JWT iat, the login
// cookie's), so something issued in the same second as a revocation made "now" may
// have been issued before it, and is revoked (TestRegression_RevokedInTheSameSecond).
func (s *Set) CheckSignedIssued(keyID string, policyHash func() [32]byte, expires, issued time.Time) error {
	if s == nil {
		return nil
	}
	now := s.opts.Now()
	sn, err := s.load(now)
	if err != nil {
		return err
	}
	for _, r := range sn.key[keyID] {
		if r.Expired(now) {
			continue
		}
		switch {
		case r.Before.IsZero(),
			!issued.IsZero() && !issued.After(r.Before),
			issued.IsZero() && !expires.Add(-time.Duration(r.MaxLifetime)).After(r.Before):
			return revoked(r)
		}
	}
	if len(sn.policy) > 0 && policyHash != nil {
		for _, r := range sn.policy[policyHash()] {
			if !r.Expired(now) {
				return revoked(r)
			}
		}
	}
	return nil
}

// CheckJWT checks a verified JWT: its jti (when it has one), and its sub with iat
// (hasIat false: the token has no iat and counts as issued before any subject
// revocation).
func (s *Set) CheckJWT(jti, sub string, iat time.Time, hasIat bool) error {
	if s == nil {
		return nil
	}
	now := s.opts.Now()
	sn, err := s.load(now)
	if err != nil {
		return err
	}
	if jti != "" {
		for _, r := range sn.jwt[jti] {
			if !r.Expired(now) {
				return revoked(r)
			}
		}
	}
	for _, r := range sn.subject[sub] {
		if !r.Expired(now) && (!hasIat || !iat.After(r.Before)) {
			return revoked(r)
		}
	}
	return nil
}

// CheckUser checks a login user's cookies issued at issued.
func (s *Set) CheckUser(user string, issued time.Time) error {
	if s == nil {
		return nil
	}
	now := s.opts.Now()
	sn, err := s.load(now)
	if err != nil {
		return err
	}
	for _, r := range sn.user[user] {
		if !r.Expired(now) && !issued.After(r.Before) {
			return revoked(r)
		}
	}
	return nil
}
