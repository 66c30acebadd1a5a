package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/ipsync"
)

// newIPRanges is `gatehouse ipranges`: the published address ranges of AWS services,
// shown in several formats or kept in sync with security groups and prefix lists.
func newIPRanges(std IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipranges",
		Short: "Show AWS's published ranges, or keep security groups and prefix lists in sync with them",
		Long: `ipranges reads AWS's ip-ranges.json (CloudFront's ranges by default) and either prints
them (show) or keeps an origin's security groups or a customer-managed prefix list equal
to them (plan, sync, serve), so that the origin accepts traffic only from the edge.
See docs/ip-range-sync.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newIPRangesShow(std), newIPRangesPlan(std), newIPRangesSync(std), newIPRangesServe(std))
	return cmd
}

// syncFlags are shared by plan, sync and serve.
type syncFlags struct {
	config string
	debug  bool
}

func (f *syncFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.config, "config", "c", "ipranges-sync.yaml", "sync configuration file")
	cmd.Flags().BoolVar(&f.debug, "debug", false, "log every decision and API call at debug level (also: debug: true in the file)")
}

// syncer loads the configuration and builds a Syncer logging to w.
func (f *syncFlags) syncer(ctx context.Context, w io.Writer) (*ipsync.Syncer, error) {
	c, err := ipsync.Load(f.config)
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if f.debug || c.Debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	return ipsync.NewSyncer(ctx, c, log)
}
