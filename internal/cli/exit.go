package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// Exit statuses, the same for every command (docs/configuration.md, "Exit statuses").
// Scripts can tell a refused invocation (64) and a bad configuration (78) from a
// failure while running (1) and from a negative answer (2). 64 and 78 are EX_USAGE and
// EX_CONFIG of sysexits.h; the systemd unit does not restart on them.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitFailure: something failed while running (an origin, the network, a probe,
	// a listener that cannot bind, a sync that was cut short).
	ExitFailure = 1
	// ExitNo: the command ran and its answer is no: explain's "denied", and
	// `ipranges plan`'s "changes pending".
	ExitNo = 2
	// ExitUsage: the command line is wrong (an unknown command or flag, a missing or
	// extra argument, a flag value that cannot be right, a required environment
	// variable that is empty). A hint to --help follows the message.
	ExitUsage = 64
	// ExitConfig: the configuration file cannot be read, decoded, validated or built.
	ExitConfig = 78
)

// exitError carries an exit status; its message (if any) is printed to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError is a command line that cannot be run as written. cmd is the command it
// was given to, for the hint to its --help.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usageError for cmd.
func usagef(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd.CommandPath(), err: fmt.Errorf(format, args...)}
}

// markUsageErrors makes the errors cobra finds in a command line (unknown flags and
// flag values, unknown commands, wrong argument counts) usageErrors, for cmd and every
// command under it. A command that only groups others (gatehouse, ipranges, sign) shows
// its help when called alone and refuses an unknown subcommand, where cobra would show
// the help and exit 0.
func markUsageErrors(cmd *cobra.Command) {
	if !cmd.Runnable() && cmd.HasSubCommands() {
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.CommandPath(), err: err}
	})
	args := cmd.Args
	cmd.Args = func(c *cobra.Command, a []string) error {
		var err error
		switch {
		case args != nil:
			err = args(c, a)
		case c.HasSubCommands() && len(a) > 0:
			// What cobra's default (legacyArgs) says for the root command.
			err = fmt.Errorf("unknown command %q for %q", a[0], c.CommandPath())
		}
		if err != nil {
			return &usageError{cmd: c.CommandPath(), err: err}
		}
		return nil
	}
	for _, sub := range cmd.Commands() {
		markUsageErrors(sub)
	}
}

// exitStatus prints err to stderr as its kind asks and returns the exit status.
func exitStatus(err error, stderr io.Writer) int {
	var ee *exitError
	var ue *usageError
	var ce config.Errors
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, "gatehouse:", ee.msg)
		}
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gatehouse: %v\nRun '%s --help' for usage.\n", ue.err, ue.cmd)
		return ExitUsage
	case errors.As(err, &ce):
		for _, e := range ce {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "gatehouse: %d configuration error(s)\n", len(ce))
		return ExitConfig
	}
	fmt.Fprintln(stderr, "gatehouse:", err)
	return ExitFailure
}
