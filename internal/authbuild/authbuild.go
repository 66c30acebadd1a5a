// Package authbuild turns one configured auth method into its authenticator: the only
// place that knows every authenticator kind (ip, basic, jwt, signed, login) and how each
// is constructed. The gateway decides which authenticators a State builds, shares and
// carries over across reloads; this package only constructs them.
//
// Constructors must not touch the network: `gatehouse check` builds without starting.
package authbuild

import (
	"errors"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/internal/auth/basicauth"
	"github.com/gatehouse-dev/gatehouse/internal/auth/ipauth"
	"github.com/gatehouse-dev/gatehouse/internal/auth/jwtauth"
	"github.com/gatehouse-dev/gatehouse/internal/auth/loginauth"
	"github.com/gatehouse-dev/gatehouse/internal/auth/signedauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// Shared is what every authenticator of a running gateway shares, whichever route and
// State built it. The gateway keeps one across reloads, so a reload resets neither.
type Shared struct {
	// basicFailures counts failed Basic attempts for every basic authenticator of every
	// route, per client and credential set (see basicauth.Limiter), so that N routes
	// sharing one htpasswd file do not give a client N times the guesses.
	basicFailures *basicauth.Limiter
	// loginSpent remembers the sign-in states every login authenticator has consumed:
	// a callback used before a reload stays used. With a fleet, for every replica.
	loginSpent loginauth.SpentStates
	// revocations are checked by the signed, jwt and login authenticators; nil
	// (no redis section): revocation is off.
	revocations *revoke.Set
}

// Revocations is the process's revocation Set; nil when revocation is off.
func (s *Shared) Revocations() *revoke.Set { return s.revocations }

// Fleet is what a fleet of replicas shares with authenticators (internal/fleet
// implements it on Redis).
type Fleet interface {
	// ShareFailures makes l count Basic failures across the fleet.
	ShareFailures(l *basicauth.Limiter)
	// Spent returns the fleet's record of spent sign-in states, backed by local.
	Spent(local *loginauth.Spent) loginauth.SpentStates
}

// JoinFleet makes s count Basic failures and spend sign-in states across the fleet f.
// Call it once, before any authenticator is built with s.
func (s *Shared) JoinFleet(f Fleet) {
	f.ShareFailures(s.basicFailures)
	s.loginSpent = f.Spent(loginauth.NewSpent())
}

// NewShared returns empty failure counts and spent sign-in states, and no revocations.
func NewShared() *Shared { return NewSharedWith(SharedOptions{}) }

// SharedOptions are what a process gives every authenticator besides the counts and
// states NewShared makes.
type SharedOptions struct {
	// Revocations is the process's revocation Set (internal/revoke), checked by every
	// signed, jwt and login authenticator; nil: revocation is off.
	Revocations *revoke.Set
}

// NewSharedWith is NewShared with the process's revocations.
func NewSharedWith(o SharedOptions) *Shared {
	return &Shared{basicFailures: basicauth.NewLimiter(), loginSpent: loginauth.NewSpent(), revocations: o.Revocations}
}

// Env is what constructing an authenticator needs besides its own settings.
type Env struct {
	// Groups are the configuration's key groups (signed and login authenticators).
	Groups map[string]*config.KeyGroup
	// Log receives the authenticators' logs, each tagged with its name.
	Log *slog.Logger
	// Pages are the built-in pages login authenticators answer with.
	Pages *pages.Set
	// Shared must not be nil.
	Shared *Shared
}

// New constructs the authenticator m configures. A login method's authenticator also
// implements the gateway's login endpoint interface (paths, LoginURL, ServeEndpoint).
func New(m *config.AuthMethod, env Env) (policy.Authenticator, error) {
	// ipauth and jwtauth add the "authenticator" attribute themselves; given log as
	// well, their JSON lines carried the key twice (TestRegression_AuthenticatorKeyTwice).
	log := env.Log.With("authenticator", m.Name)
	switch {
	case m.IP != nil:
		return ipauth.New(m.Name, m.IP, ipauth.Options{Logger: env.Log})
	case m.Basic != nil:
		return basicauth.New(m.Name, m.Basic, basicauth.Options{Logger: log, Failures: env.Shared.basicFailures})
	case m.JWT != nil:
		return jwtauth.New(m.Name, m.JWT, jwtauth.Options{Logger: env.Log, Revocations: env.Shared.revocations})
	case m.Signed != nil:
		return signedauth.New(m.Name, m.Signed, env.Groups, signedauth.Options{Revocations: env.Shared.revocations})
	case m.Login != nil:
		return loginauth.New(m.Name, m.Login, env.Groups, loginauth.Options{Logger: log, Pages: env.Pages, Spent: env.Shared.loginSpent,
			Revocations: env.Shared.revocations})
	}
	return nil, errors.New("no authenticator kind set")
}

// Warnings are what an authenticator New built reports about its settings that works
// but should change (today: basic users whose hashes have different costs), each with
// the file, line and field path under mp, the method's path (routes[i].auth.methods[j]).
func Warnings(cfg *config.Config, mp string, a policy.Authenticator) config.Errors {
	ba, ok := a.(*basicauth.Authenticator)
	if !ok {
		return nil
	}
	var out config.Errors
	for _, w := range ba.Warnings() {
		p := mp + ".basic"
		if w.Field != "" {
			p += "." + w.Field
		}
		out = append(out, cfg.Errorf(p, "%s", w.Msg))
	}
	return out
}
