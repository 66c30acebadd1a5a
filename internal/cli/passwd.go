package cli

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse-dev/gatehouse/internal/auth/basicauth"
)

// passwd's bounds: bcrypt costs 10-14 (each step doubles the time of a check: about
// 60 ms at 10, 250 ms at 12, 1 s at 14 on a current server core; below 10 is cheap to
// brute-force, above 14 makes every uncached request wait seconds) and a password
// length that fits a Basic header.
const (
	passwdDefaultCost = 12
	passwdMinCost     = 10
	passwdMaxCost     = 14
	passwdMaxLen      = 1024
)

// hashBcrypt is basicauth.HashBcrypt; a test of the default cost replaces it, since a
// cost-12 hash takes seconds under the race detector (TestPasswdCost hashes for real).
var hashBcrypt = basicauth.HashBcrypt

type passwdFlags struct {
	cost     int
	argon2id bool
}

func newPasswd(std IO) *cobra.Command {
	var f passwdFlags
	cmd := &cobra.Command{
		Use:   "passwd USER",
		Short: "Hash a password for a basic authenticator: prints one htpasswd line",
		Long: `passwd prints USER:HASH, a line for an htpasswd file (or, the part after the colon, a
value for a basic authenticator's users). The password is read from the terminal without
echo, twice; when standard input is not a terminal, its first line is the password. It is
never taken from arguments or the environment, where other users and logs can see it.

The hash is bcrypt (cost 12 unless --cost says otherwise) or, with --argon2id, argon2id
with 64 MiB of memory, 3 passes and 2 lanes (RFC 9106's second recommendation with 2
lanes), written in PHC form.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.argon2id && cmd.Flags().Changed("cost") {
				return errors.New("--cost applies to bcrypt; argon2id uses fixed parameters")
			}
			return runPasswd(std, args[0], f)
		},
	}
	cmd.Flags().IntVar(&f.cost, "cost", passwdDefaultCost, fmt.Sprintf("bcrypt cost (%d-%d); each step doubles the time a check takes", passwdMinCost, passwdMaxCost))
	cmd.Flags().BoolVar(&f.argon2id, "argon2id", false, "hash with argon2id (m=64MiB, t=3, p=2) instead of bcrypt")
	return cmd
}

func runPasswd(std IO, user string, f passwdFlags) error {
	switch {
	case user == "":
		return errors.New("empty user name")
	case strings.Contains(user, ":"):
		return errors.New("a user name must not contain ':' (it separates user and password in Basic credentials)")
	case !utf8.ValidString(user) || strings.ContainsFunc(user, isControl):
		return errors.New("a user name must be UTF-8 without control characters")
	}
	if !f.argon2id && (f.cost < passwdMinCost || f.cost > passwdMaxCost) {
		return fmt.Errorf("--cost must be between %d and %d, got %d", passwdMinCost, passwdMaxCost, f.cost)
	}
	password, err := readPassword(std)
	if err != nil {
		return err
	}
	defer clear(password)
	switch {
	case len(password) == 0:
		return errors.New("empty password")
	case len(password) > passwdMaxLen:
		return fmt.Errorf("password longer than %d bytes", passwdMaxLen)
	case bytes.ContainsFunc(password, isControl):
		// Basic credentials with control characters are refused, so such a password
		// could never be used.
		return errors.New("the password contains a control character (tab, escape, ...)")
	}
	var h string
	if f.argon2id {
		h, err = basicauth.HashArgon2id(password, basicauth.DefaultArgon2Params)
	} else {
		h, err = hashBcrypt(password, f.cost)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(std.Stdout, "%s:%s\n", user, h)
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// readPassword reads the password: from the terminal without echo, asking twice, when
// stdin is one; otherwise the first line of stdin (without its line ending).
func readPassword(std IO) ([]byte, error) {
	if f, ok := std.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(std.Stderr, "Password: ")
		p1, err := term.ReadPassword(fd)
		fmt.Fprintln(std.Stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(std.Stderr, "Retype password: ")
		p2, err := term.ReadPassword(fd)
		fmt.Fprintln(std.Stderr)
		defer clear(p2)
		if err != nil {
			clear(p1)
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		if subtle.ConstantTimeCompare(p1, p2) != 1 {
			clear(p1)
			return nil, errors.New("the passwords do not match")
		}
		return p1, nil
	}
	if std.Stdin == nil {
		return nil, errors.New("no password: standard input is closed")
	}
	// Read at most one byte more than allowed, so an over-long line is refused rather
	// than cut.
	r := bufio.NewReaderSize(io.LimitReader(std.Stdin, passwdMaxLen+2), passwdMaxLen+2)
	line, err := r.ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return bytes.Clone(line), nil
}
