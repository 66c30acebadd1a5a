package cli

import (
	"context"
	"net"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

type serveFlags struct {
	config        string
	listen, admin string
}

func newServe(std IO) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --config FILE [--listen ADDR] [--admin ADDR]",
		Short: "Serve with a configuration file (SIGHUP reloads it; SIGTERM/SIGINT stop gracefully)",
		Long: `serve runs gatehouse with a configuration file until SIGTERM or SIGINT, which stop it
gracefully; SIGHUP reloads the file (a bad file is refused and the running
configuration kept).

--listen and --admin replace the file's server.listen and admin.listen (also on each
reload), so that a busy port does not mean editing the file; --admin "" turns the admin
listener off.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.checkAddrs(cmd); err != nil {
				return err
			}
			load := func() (*config.Config, error) {
				cfg, err := config.Load(f.config)
				if err != nil {
					return nil, err
				}
				f.override(cmd, cfg)
				return cfg, nil
			}
			cfg, err := load()
			if err != nil {
				return err
			}
			if cfg.Admin.Listen != "" && cfg.Admin.Listen == cfg.Server.Listen && !strings.HasSuffix(cfg.Server.Listen, ":0") {
				return usagef(cmd, "the public and admin listeners are both %s: give --listen or --admin another address", cfg.Server.Listen)
			}
			return runServer(cmd.Context(), std, cfg, load, nil)
		},
	}
	cmd.Flags().StringVarP(&f.config, "config", "c", "gatehouse.yaml", "configuration file")
	cmd.Flags().StringVar(&f.listen, "listen", "", "public listen address host:port (default: the file's server.listen)")
	cmd.Flags().StringVar(&f.admin, "admin", "", "admin listen address host:port, or \"\" for none (default: the file's admin.listen)")
	return cmd
}

// checkAddrs refuses a --listen or --admin that is not host:port with a port a TCP
// listener can take (0 to 65535, or a service name such as http).
func (f *serveFlags) checkAddrs(cmd *cobra.Command) error {
	for _, fl := range []struct{ name, addr string }{{"listen", f.listen}, {"admin", f.admin}} {
		if !cmd.Flags().Changed(fl.name) || (fl.name == "admin" && fl.addr == "") {
			continue
		}
		_, port, err := net.SplitHostPort(fl.addr)
		if err != nil || port == "" {
			return usagef(cmd, "--%s: want host:port such as 127.0.0.1:8080, got %q", fl.name, fl.addr)
		}
		if _, err := net.LookupPort("tcp", port); err != nil {
			return usagef(cmd, "--%s: port %q is not a port number from 0 to 65535", fl.name, port)
		}
	}
	return nil
}

// override puts the --listen and --admin given into cfg.
func (f *serveFlags) override(cmd *cobra.Command, cfg *config.Config) {
	if cmd.Flags().Changed("listen") {
		cfg.Server.Listen = f.listen
	}
	if cmd.Flags().Changed("admin") {
		cfg.Admin.Listen = f.admin
	}
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
