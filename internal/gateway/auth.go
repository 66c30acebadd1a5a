package gateway

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
)

// authShared is what a State's authenticators share, and what they report about
// themselves while being built.
type authShared struct {
	// basicFailures counts failed Basic attempts for every basic authenticator of every
	// route, per client and credential set (see basicauth.Limiter), so that N routes
	// sharing one htpasswd file do not give a client N times the guesses. BuildFrom
	// carries it over from the previous State: a reload does not reset the counts.
	basicFailures *basicauth.Limiter
	// loginSpent remembers the sign-in states every login authenticator has consumed,
	// carried over like basicFailures: a callback used before a reload stays used.
	loginSpent *loginauth.Spent
	// warnings are things that work but should change, with field paths (see Warnings).
	warnings config.Errors
}

// newAuthShared returns prev's failure counts and spent sign-in states, or new ones when
// prev is nil.
func newAuthShared(prev *State) *authShared {
	if prev != nil && prev.authShared != nil && prev.authShared.basicFailures != nil {
		return &authShared{basicFailures: prev.authShared.basicFailures, loginSpent: prev.authShared.loginSpent}
	}
	return &authShared{basicFailures: basicauth.NewLimiter(), loginSpent: loginauth.NewSpent()}
}

// noteWarnings records a built authenticator's warnings under its field path mp
// (routes[i].auth.methods[j]).
func (sh *authShared) noteWarnings(cfg *config.Config, mp string, a policy.Authenticator) {
	if ba, ok := a.(*basicauth.Authenticator); ok {
		for _, w := range ba.Warnings() {
			p := mp + ".basic"
			if w.Field != "" {
				p += "." + w.Field
			}
			sh.warnings = append(sh.warnings, cfg.Errorf(p, "%s", w.Msg))
		}
	}
}

// Warnings lists what in the configuration works but should be changed (today: basic
// users whose hashes have different costs, which makes every refused check cost all of
// them), each with the file, line and field path, in route order. `gatehouse check`
// prints them; they never stop a configuration from loading.
func (s *State) Warnings() config.Errors {
	if s.authShared == nil {
		return nil
	}
	return s.authShared.warnings
}

// buildAuthenticator constructs one configured authenticator. Constructors must not touch
// the network: `gatehouse check` builds without starting.
func buildAuthenticator(m *config.AuthMethod, groups map[string]*config.KeyGroup, log *slog.Logger, pg *pages.Set, sh *authShared) (policy.Authenticator, error) {
	log = log.With("authenticator", m.Name)
	switch {
	case m.IP != nil:
		return ipauth.New(m.Name, m.IP, ipauth.Options{Logger: log})
	case m.Basic != nil:
		return basicauth.New(m.Name, m.Basic, basicauth.Options{Logger: log, Failures: sh.basicFailures})
	case m.JWT != nil:
		return jwtauth.New(m.Name, m.JWT, jwtauth.Options{Logger: log})
	case m.Signed != nil:
		return signedauth.New(m.Name, m.Signed, groups, signedauth.Options{})
	case m.Login != nil:
		return loginauth.New(m.Name, m.Login, groups, loginauth.Options{Logger: log, Pages: pg, Spent: sh.loginSpent})
	}
	return nil, errors.New("no authenticator kind set")
}
