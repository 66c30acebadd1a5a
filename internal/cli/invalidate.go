package cli

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

type invalidateFlags struct {
	adminFlags
	json bool
}

func newInvalidate(std IO) *cobra.Command {
	var f invalidateFlags
	cmd := &cobra.Command{
		Use:   "invalidate [flags] PATH...",
		Short: "Remove paths from a running gatehouse's cache",
		Long: `invalidate asks a running gatehouse, through its admin listener, to drop cached objects.
A PATH is exact (/docs/a.html) or a prefix ending in '*' (/www/*, /*); quote it so the
shell does not expand it. The admin token is read from the environment variable named by
--token-env, never from the command line. Without a redis section each replica has its
own cache: invalidate every one of them. With one (docs/fleet.md), the replica asked
sends the invalidation to every other and waits up to 2 seconds until all live replicas
have applied it; invalidate exits 1 when some had not, or it could not be sent.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, std, args)
		},
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.BoolVar(&f.json, "json", false, "print the server's JSON answer")
	return cmd
}

func (f *invalidateFlags) run(cmd *cobra.Command, std IO, paths []string) error {
	ans, err := f.call(cmd, http.MethodPost, "/cache/invalidate", map[string][]string{"paths": paths})
	if err != nil {
		return err
	}
	raw := ans.body
	if f.json && json.Valid(raw) { // the whole answer, a refusal's JSON (fleet_error) too
		if _, err := std.Stdout.Write(raw); err != nil {
			return err
		}
	}
	if ans.status != http.StatusOK {
		return ans.refused()
	}
	if f.json {
		return fleetStragglers(raw)
	}
	var out struct {
		Results []struct {
			Path    string `json:"path"`
			Removed int    `json:"removed"`
		} `json:"results"`
		Removed int `json:"removed"`
		Fleet   *struct {
			Replicas int `json:"replicas"`
			Applied  int `json:"applied"`
		} `json:"fleet"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return &exitError{code: 1, msg: "unexpected answer: " + err.Error()}
	}
	for _, r := range out.Results {
		fmt.Fprintf(std.Stdout, "%s\t%d\n", r.Path, r.Removed)
	}
	fmt.Fprintf(std.Stderr, "removed %d cache entries\n", out.Removed)
	if fl := out.Fleet; fl != nil {
		fmt.Fprintf(std.Stderr, "applied by %d of %d live replicas\n", fl.Applied, fl.Replicas)
	}
	return fleetStragglers(raw)
}

// fleetStragglers is the exit status of an invalidation a fleet answered: an error when
// some live replicas had not applied it within the server's wait.
func fleetStragglers(raw []byte) error {
	var out struct {
		Fleet *struct {
			Replicas int `json:"replicas"`
			Applied  int `json:"applied"`
		} `json:"fleet"`
	}
	if json.Unmarshal(raw, &out) != nil || out.Fleet == nil || out.Fleet.Applied >= out.Fleet.Replicas {
		return nil
	}
	return &exitError{code: 1, msg: fmt.Sprintf("%d live replicas had not applied the invalidation within 2 seconds (they apply it when they next read the stream)", out.Fleet.Replicas-out.Fleet.Applied)}
}
