package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/ipsync"
)

// Exit statuses of plan (and sync): 0 nothing to do (or done), 1 error or a change the
// plan cannot make, 2 changes pending.
const exitChangesPending = 2

type iprangesPlanFlags struct {
	syncFlags
	json    bool
	verbose bool
	dryRun  bool
}

func newIPRangesPlan(std IO) *cobra.Command {
	var f iprangesPlanFlags
	cmd := &cobra.Command{
		Use:   "plan --config FILE",
		Short: "Show what a sync would change, without changing anything (exit 0: nothing to do, 2: changes pending)",
		Long: `plan fetches the list, reads the managed security groups, interfaces and prefix lists
(Describe and Get calls only) and prints the write calls a sync would make, in order:
groups to create and tag, rules to authorize and revoke, interfaces to attach groups to,
prefix list changes. Exit status: 0 nothing to do, 2 changes pending, 1 an error or a
change the sync cannot make (listed as "cannot:"), for cron and CI.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.plan(cmd, std)
			if err != nil {
				return err
			}
			if err := writePlan(std.Stdout, p, f.json, f.verbose); err != nil {
				return err
			}
			return planStatus(p, true)
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&f.json, "json", false, "print the plan as JSON")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "list every rule and entry added or removed")
	return cmd
}

func newIPRangesSync(std IO) *cobra.Command {
	var f iprangesPlanFlags
	cmd := &cobra.Command{
		Use:   "sync --config FILE [--dry-run]",
		Short: "Apply the plan: bring the security groups and prefix lists to the published ranges",
		Long: `sync plans as plan does and makes the calls: rules are authorized before stale ones are
revoked, and a call that fails stops the run with a report of what was and was not
applied (running sync again completes it). When another writer changes a target during
the run, sync reads it again and re-plans. Exit status 0 when everything was applied, 1
otherwise. --dry-run prints the plan instead and exits 0 (1 if it cannot be applied).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.dryRun {
				p, err := f.plan(cmd, std)
				if err != nil {
					return err
				}
				if err := writePlan(std.Stdout, p, f.json, f.verbose); err != nil {
					return err
				}
				return planStatus(p, false)
			}
			s, err := f.syncer(cmd.Context(), std.Stderr)
			if err != nil {
				return err
			}
			snap, err := s.Read(cmd.Context())
			if err != nil {
				return err
			}
			out, syncErr := s.Sync(cmd.Context(), snap)
			if f.json {
				enc := json.NewEncoder(std.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else if err := ipsync.WriteReport(std.Stdout, out); err != nil {
				return err
			}
			if syncErr != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("sync stopped: %v (%d call(s) applied; run sync again to complete)", syncErr, len(out.Applied))}
			}
			if n := len(out.Problems()); n > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d change(s) could not be made (see \"cannot:\")", n)}
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the plan, change nothing")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the outcome (or the plan) as JSON")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "with --dry-run: list every rule and entry")
	return cmd
}

func (f *iprangesPlanFlags) plan(cmd *cobra.Command, std IO) (*ipsync.Plan, error) {
	s, err := f.syncer(cmd.Context(), std.Stderr)
	if err != nil {
		return nil, err
	}
	snap, err := s.Read(cmd.Context())
	if err != nil {
		return nil, err
	}
	return s.Plan(cmd.Context(), snap)
}

func writePlan(w io.Writer, p *ipsync.Plan, asJSON, verbose bool) error {
	if !asJSON {
		return ipsync.WritePlan(w, p, verbose)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// planStatus maps a plan to the exit status: problems 1, pending changes 2 (when
// pendingIsTwo), else 0.
func planStatus(p *ipsync.Plan, pendingIsTwo bool) error {
	if n := len(p.Problems); n > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d change(s) cannot be made (see \"cannot:\")", n)}
	}
	if pendingIsTwo && !p.Empty() {
		return &exitError{code: exitChangesPending, msg: fmt.Sprintf("%d change(s) pending", len(p.Steps))}
	}
	return nil
}
