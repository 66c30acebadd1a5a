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

// buildAuthenticator constructs one configured authenticator. Constructors must not touch
// the network: `gatehouse check` builds without starting.
func buildAuthenticator(m *config.AuthMethod, groups map[string]*config.KeyGroup, log *slog.Logger, pg *pages.Set) (policy.Authenticator, error) {
	log = log.With("authenticator", m.Name)
	switch {
	case m.IP != nil:
		return ipauth.New(m.Name, m.IP, ipauth.Options{Logger: log})
	case m.Basic != nil:
		return basicauth.New(m.Name, m.Basic, basicauth.Options{Logger: log})
	case m.JWT != nil:
		return jwtauth.New(m.Name, m.JWT, jwtauth.Options{Logger: log})
	case m.Signed != nil:
		return signedauth.New(m.Name, m.Signed, groups, signedauth.Options{})
	case m.Login != nil:
		return loginauth.New(m.Name, m.Login, groups, loginauth.Options{Logger: log, Pages: pg})
	}
	return nil, errors.New("no authenticator kind set")
}
