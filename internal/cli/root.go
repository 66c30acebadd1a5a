// Package cli is gatehouse's command line: one file per subcommand, flags bound to
// structs, results on stdout, logs and errors on stderr, non-zero exit with a reason on
// failure.
package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/version"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Main runs the command line and returns the exit status (exit.go lists them).
func Main(ctx context.Context, args []string, std IO) int {
	root := newRoot(std)
	if args == nil {
		args = []string{} // cobra would read os.Args instead
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		return exitStatus(err, std.Stderr)
	}
	return ExitOK
}

func newRoot(std IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "An authenticating, caching edge in front of private object storage",
		Long: `gatehouse serves objects from private S3-compatible buckets and local folders through
ordered routes, each with its own authorization policy. Nothing is served unless a route
says how.

Exit status: 0 done; 1 failed while running; 2 the answer is no (explain: denied;
ipranges plan: changes pending); 64 usage error (see the command's --help); 78
configuration error (the file cannot be read, decoded, validated or built).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --version is handled here rather than with cobra's Version field: that one prints
	// through text/template, whose reflection keeps every exported method in the binary
	// (about 48 MB more).
	showVersion := root.Flags().BoolP("version", "v", false, "print the version (as gatehouse version does)")
	root.RunE = func(c *cobra.Command, _ []string) error {
		if *showVersion {
			fmt.Fprintln(std.Stdout, version.String())
			return nil
		}
		return c.Help()
	}
	root.SetIn(std.Stdin)
	root.SetOut(std.Stdout)
	root.SetErr(std.Stderr)
	root.AddCommand(newServe(std), newDemo(std), configFileArg(newCheck(std)), newExplain(std), newPasswd(std), newKeygen(std), newSign(std), newVersion(std), newIPRanges(std), newInvalidate(std), newRevoke(std))
	markUsageErrors(root)
	return root
}
