package cli

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

type serveFlags struct {
	config string
}

func newServe(std IO) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Serve with a configuration file (SIGHUP reloads it; SIGTERM/SIGINT stop gracefully)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(f.config)
			if err != nil {
				return err
			}
			return runServer(cmd.Context(), std, cfg, func() (*config.Config, error) { return config.Load(f.config) }, nil)
		},
	}
	cmd.Flags().StringVarP(&f.config, "config", "c", "gatehouse.yaml", "configuration file")
	return cmd
}

// runServer sets up logging and signals and runs until SIGINT or SIGTERM.
func runServer(ctx context.Context, std IO, cfg *config.Config, reload func() (*config.Config, error), listening func(pub, admin string)) error {
	log, access, closer, err := server.Loggers(cfg, std.Stdout, std.Stderr)
	if err != nil {
		return err
	}
	defer closer.Close()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, server.Options{Config: cfg, Reload: reload, Log: log, Access: access, Listening: listening})
}
