package gateway

import (
	"errors"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// buildAuthenticator constructs one configured authenticator. Constructors must not touch
// the network: `gatehouse check` builds without starting.
func buildAuthenticator(m *config.AuthMethod, log *slog.Logger) (policy.Authenticator, error) {
	log = log.With("authenticator", m.Name)
	switch {
	}
	return nil, errors.New("no authenticator kind set")
}
