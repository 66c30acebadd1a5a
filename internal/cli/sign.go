package cli

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

type signFlags struct {
	key       string
	keyID     string
	expires   string
	notBefore string
	ip        string
	resource  string
	hash      string
	json      bool
}

func newSign(std IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sign url|cookies",
		Short: "Sign URLs or cookies in CloudFront's format",
		Long: `sign makes CloudFront signed URLs and signed cookies with a private key, for gatehouse and
CloudFront alike. Times are a duration from now (90s, 1h, 7d), an RFC 3339 time or seconds
since the epoch.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSignURL(std), newSignCookies(std))
	return cmd
}

func (f *signFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "private key PEM file (RSA or ECDSA P-256; PKCS#1, SEC 1 or PKCS#8)")
	fl.StringVar(&f.keyID, "key-id", "", "key ID to send as Key-Pair-Id")
	fl.StringVar(&f.expires, "expires", "", "when the signature stops working (required)")
	fl.StringVar(&f.notBefore, "not-before", "", "when the signature starts working (makes a custom policy)")
	fl.StringVar(&f.ip, "ip", "", "client address range allowed, a CIDR or one address (makes a custom policy)")
	fl.StringVar(&f.hash, "hash", "sha1", "hash algorithm: sha1 (what AWS signers use) or sha256")
	for _, name := range []string{"key", "key-id", "expires"} {
		_ = cmd.MarkFlagRequired(name)
	}
}

// signer reads the key and builds the sign options from the flags.
func (f *signFlags) signer(now time.Time) (crypto.Signer, cfsign.SignOptions, error) {
	var o cfsign.SignOptions
	var err error
	if o.Expires, err = parseWhen("--expires", f.expires, now); err != nil {
		return nil, o, err
	}
	if f.notBefore != "" {
		if o.NotBefore, err = parseWhen("--not-before", f.notBefore, now); err != nil {
			return nil, o, err
		}
	}
	if f.ip != "" {
		if o.IP, err = cfsign.ParsePrefix(f.ip); err != nil {
			return nil, o, fmt.Errorf("--ip: %w", err)
		}
	}
	switch strings.ToLower(f.hash) {
	case "sha1":
		o.Hash = crypto.SHA1
	case "sha256":
		o.Hash = crypto.SHA256
	default:
		return nil, o, fmt.Errorf("--hash %q: want sha1 or sha256", f.hash)
	}
	o.Resource = f.resource
	data, err := os.ReadFile(f.key)
	if err != nil {
		return nil, o, fmt.Errorf("--key: %w", err)
	}
	key, err := cfsign.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, o, fmt.Errorf("--key %s: %w", f.key, err)
	}
	return key, o, nil
}

// parseWhen reads a time flag: a duration from now (Go syntax, plus whole days as "7d"),
// an RFC 3339 time, or seconds since the epoch.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want a duration (90s, 1h, 7d), an RFC 3339 time or seconds since the epoch", flag, s)
}

func warnExpired(std IO, o cfsign.SignOptions, now time.Time) {
	if !o.Expires.After(now) {
		fmt.Fprintf(std.Stderr, "gatehouse: warning: already expired (%s)\n", o.Expires.UTC().Format(time.RFC3339))
	}
}

func newSignURL(std IO) *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "url URL --key FILE --key-id ID --expires TIME [--not-before TIME] [--ip CIDR] [--resource PATTERN] [--hash sha1|sha256]",
		Short: "Print URL signed: a canned policy when only --expires is given, a custom policy otherwise",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			now := time.Now()
			key, o, err := f.signer(now)
			if err != nil {
				return err
			}
			signed, err := cfsign.SignURL(args[0], f.keyID, key, o)
			if err != nil {
				return err
			}
			warnExpired(std, o, now)
			fmt.Fprintln(std.Stdout, signed)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.resource, "resource", "", `policy resource pattern covering URL, e.g. "https://host/videos/*" (makes a custom policy)`)
	return cmd
}

// cookieJSON is one cookie in `sign cookies --json` output.
type cookieJSON struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"http_only"`
}

func newSignCookies(std IO) *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "cookies --resource PATTERN --key FILE --key-id ID --expires TIME [--not-before TIME] [--ip CIDR] [--hash sha1|sha256] [--json]",
		Short: "Print a signed cookie set as Set-Cookie lines (Path=/, Secure, HttpOnly) or JSON",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			now := time.Now()
			key, o, err := f.signer(now)
			if err != nil {
				return err
			}
			if o.Resource == "" {
				return errors.New("--resource is required")
			}
			cookies, err := cfsign.SignCookies(f.keyID, key, o)
			if err != nil {
				return err
			}
			warnExpired(std, o, now)
			if !f.json {
				for _, c := range cookies {
					fmt.Fprintln(std.Stdout, "Set-Cookie: "+c.String())
				}
				return nil
			}
			out := struct {
				Resource string       `json:"resource"`
				KeyID    string       `json:"key_id"`
				Expires  string       `json:"expires"`
				Cookies  []cookieJSON `json:"cookies"`
			}{Resource: o.Resource, KeyID: f.keyID, Expires: o.Expires.UTC().Format(time.RFC3339)}
			for _, c := range cookies {
				out.Cookies = append(out.Cookies, cookieJSON{c.Name, c.Value, c.Path, c.Secure, c.HttpOnly})
			}
			enc := json.NewEncoder(std.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.resource, "resource", "", `resource pattern the cookies cover, e.g. "https://host/gallery/*" (required)`)
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON instead of Set-Cookie lines")
	return cmd
}
