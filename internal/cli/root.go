// Package cli is gatehouse's command line: one file per subcommand, flags bound to
// structs, results on stdout, logs and errors on stderr, non-zero exit with a reason on
// failure.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// exitError carries an exit status; its message (if any) is printed to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Main runs the command line and returns the exit status.
func Main(ctx context.Context, args []string, std IO) int {
	root := newRoot(std)
	if args == nil {
		args = []string{} // cobra would read os.Args instead
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	var ce config.Errors
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(std.Stderr, "gatehouse:", ee.msg)
		}
		return ee.code
	case errors.As(err, &ce):
		for _, e := range ce {
			fmt.Fprintln(std.Stderr, e.Error())
		}
		fmt.Fprintf(std.Stderr, "gatehouse: %d configuration error(s)\n", len(ce))
		return 1
	}
	fmt.Fprintln(std.Stderr, "gatehouse:", err)
	return 1
}

func newRoot(std IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "An authenticating, caching edge in front of private object storage",
		Long: `gatehouse serves objects from private S3-compatible buckets and local folders through
ordered routes, each with its own authorization policy. Nothing is served unless a route
says how.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(std.Stdin)
	root.SetOut(std.Stdout)
	root.SetErr(std.Stderr)
	root.AddCommand(newServe(std), newDemo(std), newCheck(std), newExplain(std), newPasswd(std), newKeygen(std), newSign(std), newVersion(std), newIPRanges(std), newInvalidate(std))
	return root
}
