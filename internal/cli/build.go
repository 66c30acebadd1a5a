package cli

import (
	"context"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// loadAndBuild loads and validates the file at path and builds its State without
// starting anything, and without opening the cache's disk tier (gateway.Inspect): what
// `check` and `explain` share. The caller closes the State.
func loadAndBuild(ctx context.Context, path string) (*config.Config, *gateway.State, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := gateway.Inspect(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}
