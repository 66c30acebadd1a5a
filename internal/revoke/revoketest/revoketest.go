// Package revoketest holds an in-memory revoke.Store for tests. It is never used in
// production: a fleet's store is the Redis one in internal/fleet.
package revoketest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

var _ revoke.Store = (*Store)(nil)

// Store keeps revocations in memory and applies every change to Sets, as the fleet's
// store pushes changes to every replica. Err, when set, is returned by every call (a
// store that cannot be reached).
type Store struct {
	mu      sync.Mutex
	records map[string]revoke.Revocation
	Sets    []*revoke.Set
	Err     error
}

// New returns an empty store that pushes its changes to sets.
func New(sets ...*revoke.Set) *Store {
	return &Store{records: map[string]revoke.Revocation{}, Sets: sets}
}

// Add stores r under its computed ID; adding one that exists keeps one record with the
// later expiry (zero, meaning until lifted, is the latest).
func (s *Store) Add(_ context.Context, r revoke.Revocation) (revoke.Revocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return revoke.Revocation{}, s.Err
	}
	r.ID = r.ComputeID()
	if old, ok := s.records[r.ID]; ok {
		if old.Expires.IsZero() || !r.Expires.IsZero() && old.Expires.After(r.Expires) {
			r.Expires = old.Expires
		}
		r.Created = old.Created
	}
	s.records[r.ID] = r
	for _, set := range s.Sets {
		set.Apply(r)
	}
	return r, nil
}

// Lift removes a record, or answers revoke.ErrNotFound.
func (s *Store) Lift(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.records[id]; !ok {
		return revoke.ErrNotFound
	}
	delete(s.records, id)
	for _, set := range s.Sets {
		set.Lift(id)
	}
	return nil
}

// List returns every record, by ID (it has no clock: expired records stay until lifted).
func (s *Store) List(context.Context) ([]revoke.Revocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	out := make([]revoke.Revocation, 0, len(s.records))
	for _, r := range s.records {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b revoke.Revocation) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
