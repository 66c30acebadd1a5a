package gateway

import (
	"errors"
	"io"
	"reflect"
	"sync"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// A reload used to build every authenticator anew and load each one synchronously before
// the swap (server.reload: LoadAuthenticators, up to 10 s), refusing the reload unless
// all of them loaded. So an identity provider or address list that was down blocked
// every reload, even one that changed only a route, and a successful reload fetched
// every key set and list again. Now BuildFrom hands an ip or jwt authenticator whose
// settings (name included) are unchanged over to the new State as it is, with its loaded
// key set or address lists and its background refreshes; only new or changed
// authenticators are loaded before the swap.
//
// Lifecycle: the old State is closed a grace period after the swap while the new one
// keeps using what it took over, so an authenticator is shared by counting the States
// that hold it, and only the last one to close stops it.

// carriable reports whether an authenticator of m's kind is taken over by a reload that
// keeps its settings. basic and signed hold nothing loaded from the network; login
// authenticators are shared by login path (see build_auth.go).
func carriable(m *config.AuthMethod) bool { return m.IP != nil || m.JWT != nil }

// authRef counts the States holding one authenticator. n == 0 means it was closed and
// must never be taken over again.
type authRef struct {
	cfg *config.AuthMethod // what it was built from; configurations are not modified after loading
	mu  sync.Mutex
	n   int
}

// acquire adds a holder unless the authenticator was already closed.
func (r *authRef) acquire() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return false
	}
	r.n++
	return true
}

// release drops a holder and reports whether it was the last one.
func (r *authRef) release() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n--
	return r.n == 0
}

// authRefs are a State's holds on shareable authenticators.
type authRefs struct {
	mu       sync.Mutex
	refs     map[policy.Authenticator]*authRef
	carried  map[policy.Authenticator]bool // taken over from the previous State
	released bool
}

// hold records that s built a (from m) and, when its kind is carriable, counts s as its
// first holder.
func (s *State) hold(a policy.Authenticator, m *config.AuthMethod) {
	if !carriable(m) {
		return
	}
	s.authRefs.mu.Lock()
	defer s.authRefs.mu.Unlock()
	if s.authRefs.refs == nil {
		s.authRefs.refs = map[policy.Authenticator]*authRef{}
	}
	s.authRefs.refs[a] = &authRef{cfg: m, n: 1}
}

// carryOver returns prev's authenticator built from settings equal to m, now also held
// by s (and listed in s.auths once, however many routes use it), or nil when there is
// none: prev is nil, m's kind is not carriable, the settings differ, or prev's one was
// already closed.
func (s *State) carryOver(prev *State, m *config.AuthMethod) policy.Authenticator {
	if prev == nil || !carriable(m) {
		return nil
	}
	prev.authRefs.mu.Lock()
	var found policy.Authenticator
	var ref *authRef
	for _, a := range prev.auths { // file order, so the choice is deterministic
		if r := prev.authRefs.refs[a]; r != nil && reflect.DeepEqual(r.cfg, m) {
			found, ref = a, r
			break
		}
	}
	prev.authRefs.mu.Unlock()
	if found == nil {
		return nil
	}
	s.authRefs.mu.Lock()
	defer s.authRefs.mu.Unlock()
	if s.authRefs.refs[found] != nil {
		return found // a second route with the same settings
	}
	if !ref.acquire() {
		return nil
	}
	if s.authRefs.refs == nil {
		s.authRefs.refs = map[policy.Authenticator]*authRef{}
	}
	if s.authRefs.carried == nil {
		s.authRefs.carried = map[policy.Authenticator]bool{}
	}
	s.authRefs.refs[found] = ref
	s.authRefs.carried[found] = true
	s.auths = append(s.auths, found)
	return found
}

// carried reports whether a was taken over from the previous State (and so needs no
// load: it already loaded, or keeps retrying on its own).
func (s *State) carried(a policy.Authenticator) bool {
	s.authRefs.mu.Lock()
	defer s.authRefs.mu.Unlock()
	return s.authRefs.carried[a]
}

// closeAuths stops every authenticator s holds that no other State holds. Only the first
// call does anything.
func (s *State) closeAuths() error {
	s.authRefs.mu.Lock()
	if s.authRefs.released {
		s.authRefs.mu.Unlock()
		return nil
	}
	s.authRefs.released = true
	var closers []io.Closer
	for _, a := range s.auths {
		if r := s.authRefs.refs[a]; r != nil && !r.release() {
			continue // still used by another State
		}
		if c, ok := a.(io.Closer); ok {
			closers = append(closers, c)
		}
	}
	s.authRefs.mu.Unlock()
	var errs []error
	for _, c := range closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
