package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

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

// configArg lets a command take its configuration file as its one argument as well as
// --config: `gatehouse check FILE`. Both at once must agree.
func configArg(cmd *cobra.Command, config *string, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.Flags().Changed("config") && *config != args[0] {
		return usagef(cmd, "two configuration files: --config %s and %s", *config, args[0])
	}
	*config = args[0]
	return nil
}
