package gateway

import (
	"fmt"

	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// Authenticators come from one of three places, in this order: the login authenticator
// already built for the same login path (routes sharing a sign-in share its
// authenticator and endpoints), the previous State's ip or jwt authenticator with the
// same settings (carryover.go), or authbuild.New.

// builtLogin is a login authenticator built for this State, seen both as an
// authenticator (for policies) and as its endpoints (for serving).
type builtLogin struct {
	auth policy.Authenticator
	ep   LoginEndpoint
}

// buildAuthShared takes over the previous State's Basic failure counts and spent
// sign-in states, or starts new ones: a reload resets neither.
func (b *builder) buildAuthShared() {
	if b.prev != nil && b.prev.authShared != nil {
		b.st.authShared = b.prev.authShared
		return
	}
	if b.shared != nil {
		b.st.authShared = b.shared
		return
	}
	b.st.authShared = authbuild.NewShared()
}

// buildPolicy builds routes[i]'s policy and returns its first login endpoint (where
// browsers it denies are sent), nil when it has none.
func (b *builder) buildPolicy(i int, rc *config.Route) (*policy.Policy, LoginEndpoint) {
	pol := &policy.Policy{Public: rc.Public}
	if rc.Auth == nil {
		return pol, nil
	}
	if rc.Auth.Mode == "all" {
		pol.Mode = policy.All
	}
	var login LoginEndpoint
	for j, m := range rc.Auth.Methods {
		a, ep := b.buildAuthenticator(fmt.Sprintf("routes[%d].auth.methods[%d]", i, j), m)
		if a == nil {
			continue
		}
		pol.Authenticators = append(pol.Authenticators, a)
		if login == nil {
			login = ep
		}
	}
	return pol, login
}

// buildAuthenticator returns the authenticator for method m (field path mp) and, for a
// login method, its endpoints; a nil authenticator when building failed (the problem is
// recorded).
func (b *builder) buildAuthenticator(mp string, m *config.AuthMethod) (policy.Authenticator, LoginEndpoint) {
	if m.Login != nil {
		if l, ok := b.logins[m.Login.LoginPath]; ok {
			return b.sharedLogin(mp, m.Login, l)
		}
	}
	if a := b.st.carryOver(b.prev, m); a != nil { // unchanged: keep what it loaded
		return a, nil
	}
	a, err := authbuild.New(m, authbuild.Env{Groups: b.cfg.KeyGroups, Log: b.log, Pages: b.st.pages, Shared: b.st.authShared})
	if err != nil {
		b.errorf(mp, "%v", err)
		return nil, nil
	}
	b.st.warnings = append(b.st.warnings, authbuild.Warnings(b.cfg, mp, a)...)
	b.st.auths = append(b.st.auths, a)
	b.st.hold(a, m)
	if m.Login == nil {
		return a, nil
	}
	return a, b.addLogin(mp, m.Login, a)
}

// sharedLogin returns the login authenticator already built for l's login path.
//
// Configuration validation refuses two different login blocks on one login path
// ("whose settings differ"), and every configuration the gateway builds comes from
// config.Load or config.Parse, which validate, so l has the settings that authenticator
// was built from and keying logins by login path needs no deep comparison. A
// configuration assembled some other way could break that; as a guard, a block whose
// callback or logout path that authenticator does not serve is refused here.
func (b *builder) sharedLogin(mp string, l *config.LoginAuth, shared builtLogin) (policy.Authenticator, LoginEndpoint) {
	for _, p := range []string{l.CallbackPath, l.LogoutPath} {
		if b.st.endpoints[p] != shared.ep {
			b.errorf(mp+".login.login_path", "%s is already the login path of another login block, whose settings differ", l.LoginPath)
			return nil, nil
		}
	}
	return shared.auth, shared.ep
}

// addLogin registers a new login authenticator's endpoints and, when they are free,
// makes it the one for its login path. It returns the endpoints even when they clash
// (the build fails then anyway).
func (b *builder) addLogin(mp string, l *config.LoginAuth, a policy.Authenticator) LoginEndpoint {
	ep, ok := a.(LoginEndpoint)
	if !ok { // authbuild.New builds login methods as loginauth.Authenticator, which is one
		b.errorf(mp+".login", "authenticator %s serves no login endpoints", a.Name())
		return nil
	}
	if err := b.st.addEndpoints(ep); err != nil {
		b.errorf(mp+".login", "%v", err)
		return ep
	}
	b.logins[l.LoginPath] = builtLogin{auth: a, ep: ep}
	return ep
}

// addEndpoints registers a login authenticator's paths.
func (s *State) addEndpoints(a LoginEndpoint) error {
	for _, p := range a.Paths() {
		if s.endpoints[p] != nil {
			return fmt.Errorf("path %s is already served by another login authenticator with a different configuration", p)
		}
	}
	for _, p := range a.Paths() {
		s.endpoints[p] = a
	}
	return nil
}

// Warnings lists what in the configuration works but should be changed (today: basic
// users whose hashes have different costs, which makes every refused check cost all of
// them), each with the file, line and field path, in route order. `gatehouse check`
// prints them; they never stop a configuration from loading.
func (s *State) Warnings() config.Errors { return s.warnings }
