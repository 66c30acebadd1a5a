package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/fleet"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

type checkFlags struct {
	config string
	probe  bool
}

func newCheck(std IO) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a configuration: build everything except the listeners, report every error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := loadAndBuild(cmd.Context(), f.config)
			if err != nil {
				return err
			}
			// Warnings go to stderr as "file:line: path: warning: message" and do not
			// change the exit status.
			for _, w := range st.Warnings() {
				w.Msg = "warning: " + w.Msg
				fmt.Fprintln(std.Stderr, w.Error())
			}
			// Open the access log as serve would (this creates the file if it is missing).
			_, _, closer, err := server.Loggers(cfg, io.Discard, io.Discard)
			if err != nil {
				st.Close()
				return err
			}
			closer.Close()
			defer st.Close()
			if f.probe {
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				defer cancel()
				st.ProbeAll(ctx, slog.New(slog.DiscardHandler))
				st.LoadAuthenticators(ctx) // failures show in Ready below
				ready, res := st.Ready()
				names := make([]string, 0, len(res))
				for n := range res {
					names = append(names, n)
				}
				// Origins first, then authenticators ("auth:..."), each by name.
				sort.Slice(names, func(i, j int) bool {
					ai, aj := strings.HasPrefix(names[i], "auth:"), strings.HasPrefix(names[j], "auth:")
					if ai != aj {
						return aj
					}
					return names[i] < names[j]
				})
				// One line each: "origin NAME: ok", or "origin NAME: FAILED (reason): message"
				// (authenticators: "auth:ROUTE/NAME: ...").
				for _, n := range names {
					status := "ok"
					if r := res[n]; !r.OK {
						status = fmt.Sprintf("FAILED (%s): %s", r.Reason, r.Message)
					}
					kind := "origin "
					if strings.HasPrefix(n, "auth:") {
						kind = ""
					}
					fmt.Fprintf(std.Stdout, "%s%s: %s\n", kind, n, status)
				}
				if cfg.Redis != nil {
					status := "ok"
					if err := fleet.Probe(ctx, cfg.Redis); err != nil {
						ready = false
						reason, msg := probe.Describe(err, probe.Other)
						status = fmt.Sprintf("FAILED (%s): %s", reason, msg)
					}
					fmt.Fprintf(std.Stdout, "redis: %s\n", status)
				}
				if !ready {
					return &exitError{code: 1, msg: "some origins, authenticator sources or Redis did not answer the probe"}
				}
			}
			fmt.Fprintf(std.Stdout, "%s: OK (%d routes, %d origins)\n", f.config, len(cfg.Routes), len(cfg.Origins))
			return nil
		},
	}
	cmd.Flags().StringVarP(&f.config, "config", "c", "gatehouse.yaml", "configuration file")
	cmd.Flags().BoolVar(&f.probe, "probe", false, "also contact every origin (bucket exists, credentials work) and load every authenticator's address lists and keys")
	return cmd
}
