package cli

import (
	"context"
	"log/slog"
	"strings"

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

// configFileArg lets cmd take its configuration file as its one argument as well as
// with --config (`gatehouse check FILE`); both at once must name the same file.
func configFileArg(cmd *cobra.Command) *cobra.Command {
	cmd.Use = strings.Replace(cmd.Use, "--config FILE", "[FILE | --config FILE]", 1)
	cmd.Args = cobra.MaximumNArgs(1)
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		fl := c.Flags().Lookup("config")
		if fl.Changed && fl.Value.String() != args[0] {
			return usagef(c, "two configuration files: --config %s and %s", fl.Value, args[0])
		}
		return fl.Value.Set(args[0])
	}
	return cmd
}
