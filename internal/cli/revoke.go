package cli

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// revokeFlags are shared by every revoke subcommand.
type revokeFlags struct {
	adminFlags
	json   bool
	reason string
}

func newRevoke(std IO) *cobra.Command {
	f := &revokeFlags{}
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke signed URLs, cookies, tokens and sign-ins before they expire",
		Long: `revoke asks a running gatehouse, through its admin listener, to revoke something before it
expires: a signed URL or cookie policy, everything a key signed (or signed before a time),
a JWT, a subject's JWTs issued before a time, or a login user's cookies. The revocation
is stored in Redis and reaches every replica; it needs a redis section in the
configuration. Each command prints the revocation's ID on stdout (lift undoes it).
Times are RFC 3339 (2026-05-01T10:00:00Z) or now. The admin token is read from the
environment variable named by --token-env. See docs/revocation.md.`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	f.register(pf)
	pf.BoolVar(&f.json, "json", false, "print the server's JSON answer")
	cmd.AddCommand(f.urlCmd(std), f.cookieCmd(std), f.policyCmd(std), f.keyCmd(std), f.jwtCmd(std),
		f.subjectCmd(std), f.userCmd(std), f.listCmd(std), f.liftCmd(std))
	return cmd
}

// addReason adds --reason to a command that makes a revocation.
func (f *revokeFlags) addReason(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().StringVar(&f.reason, "reason", "", "why, for the list (at most 256 bytes)")
	return cmd
}

func (f *revokeFlags) urlCmd(std IO) *cobra.Command {
	return f.addReason(&cobra.Command{
		Use:   "url SIGNED-URL",
		Short: "Revoke one signed URL's policy (until it expires)",
		Long: `url revokes the policy a signed URL carries: its Policy parameter, or for a canned policy
(Expires) the policy rebuilt from the URL as gatehouse verifies it. The URL is not
verified. Other URLs signed with the same policy (a custom policy's wildcard) are
revoked with it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hash, exp, err := urlPolicy(args[0])
			if err != nil {
				return usagef(cmd, "%v", err)
			}
			return f.add(cmd, std, revoke.Revocation{Kind: revoke.KindPolicy, Value: hash, Expires: exp})
		},
	})
}

func (f *revokeFlags) cookieCmd(std IO) *cobra.Command {
	var header string
	cmd := f.addReason(&cobra.Command{
		Use:   "cookie [POLICY-VALUE]",
		Short: "Revoke a signed cookie set's policy (until it expires)",
		Long: `cookie revokes the custom policy of a signed cookie set: give the CloudFront-Policy cookie's
value, or the whole request header with --header 'Cookie: ...'. Cookies with a canned
policy (CloudFront-Expires) name no resource: revoke their key instead.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (header != "") {
				return usagef(cmd, "give the CloudFront-Policy value or --header, not both")
			}
			value := ""
			if len(args) == 1 {
				value = args[0]
			} else {
				h := http.Header{"Cookie": {strings.TrimSpace(strings.TrimPrefix(header, "Cookie:"))}}
				// The first one, as the verifier reads it (cfsign.CookieCredentials).
				for _, c := range (&http.Request{Header: h}).Cookies() {
					if c.Name == cfsign.CookiePolicy {
						value = c.Value
						break
					}
				}
				if value == "" {
					return usagef(cmd, "--header has no %s cookie (canned-policy cookies are revoked by key)", cfsign.CookiePolicy)
				}
			}
			hash, exp, err := customPolicy(value)
			if err != nil {
				return usagef(cmd, "%v", err)
			}
			return f.add(cmd, std, revoke.Revocation{Kind: revoke.KindPolicy, Value: hash, Expires: exp})
		},
	})
	cmd.Flags().StringVar(&header, "header", "", "a Cookie request header holding the signed cookies")
	return cmd
}

func (f *revokeFlags) policyCmd(std IO) *cobra.Command {
	var expires string
	cmd := f.addReason(&cobra.Command{
		Use:   "policy HASH",
		Short: "Revoke a policy by its SHA-256 (hex)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exp, err := optionalTime(cmd, "expires", expires)
			if err != nil {
				return err
			}
			return f.add(cmd, std, revoke.Revocation{Kind: revoke.KindPolicy, Value: strings.ToLower(args[0]), Expires: exp})
		},
	})
	cmd.Flags().StringVar(&expires, "expires", "", "the policy's DateLessThan: the record is forgotten then (default: kept until lifted)")
	return cmd
}

func (f *revokeFlags) keyCmd(std IO) *cobra.Command {
	var before, lifetime, until string
	cmd := f.addReason(&cobra.Command{
		Use:   "key KEY-PAIR-ID",
		Short: "Revoke everything a key signed, or signed before a time",
		Long: `key revokes every signed URL and cookie made with a key pair ID; with --signed-before, only
those signed before that time. CloudFront policies carry no signing time, so
--max-lifetime (the longest lifetime the key's policies are given) is required with it:
a policy counts as signed before T when its expiry minus max-lifetime is not after T. The
login authenticator's own cookies are judged by their exact issue time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := revoke.Revocation{Kind: revoke.KindKey, Value: args[0]}
			var err error
			if r.Before, err = optionalTime(cmd, "signed-before", before); err != nil {
				return err
			}
			if (before == "") != (lifetime == "") {
				return usagef(cmd, "--signed-before and --max-lifetime go together")
			}
			if lifetime != "" {
				d, err := revoke.ParseDuration(lifetime)
				if err != nil {
					return usagef(cmd, "--max-lifetime: %v", err)
				}
				r.MaxLifetime = revoke.Duration(d)
			}
			if r.Expires, err = optionalTime(cmd, "until", until); err != nil {
				return err
			}
			return f.add(cmd, std, r)
		},
	})
	fl := cmd.Flags()
	fl.StringVar(&before, "signed-before", "", "only what the key signed before this time")
	fl.StringVar(&lifetime, "max-lifetime", "", "the longest lifetime of the key's policies (168h, 7d)")
	fl.StringVar(&until, "until", "", "forget the revocation then (default: signed-before + max-lifetime, else kept until lifted)")
	return cmd
}

func (f *revokeFlags) jwtCmd(std IO) *cobra.Command {
	var jti, expires string
	cmd := f.addReason(&cobra.Command{
		Use:   "jwt [TOKEN|-]",
		Short: "Revoke one JWT by its jti",
		Long: `jwt revokes one JSON Web Token by its jti claim, until its exp. Give the token (- reads it
from standard input, which keeps it out of the shell's history); it is decoded, not
verified. Or give --jti and --expires.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := revoke.Revocation{Kind: revoke.KindJWT}
			switch {
			case len(args) == 1 && (jti != "" || expires != ""):
				return usagef(cmd, "give a token or --jti and --expires, not both")
			case len(args) == 1:
				tok := args[0]
				if tok == "-" {
					b, err := io.ReadAll(io.LimitReader(std.Stdin, 64<<10))
					if err != nil {
						return err
					}
					tok = strings.TrimSpace(string(b))
				}
				var err error
				if r.Value, r.Expires, err = jwtClaims(tok); err != nil {
					return usagef(cmd, "%v", err)
				}
			case jti == "" || expires == "":
				return usagef(cmd, "give a token, or --jti and --expires")
			default:
				var err error
				if r.Expires, err = optionalTime(cmd, "expires", expires); err != nil {
					return err
				}
				r.Value = jti
			}
			return f.add(cmd, std, r)
		},
	})
	cmd.Flags().StringVar(&jti, "jti", "", "the token's jti claim")
	cmd.Flags().StringVar(&expires, "expires", "", "the token's exp")
	return cmd
}

func (f *revokeFlags) subjectCmd(std IO) *cobra.Command {
	var before, until string
	cmd := f.addReason(&cobra.Command{
		Use:   "subject SUB --before TIME",
		Short: "Revoke a JWT subject's tokens issued before a time",
		Long: `subject revokes the JWTs whose sub is SUB and whose iat is before --before (tokens without
iat count as issued before it). Tokens issued later pass.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if before == "" {
				return usagef(cmd, "--before is required")
			}
			r := revoke.Revocation{Kind: revoke.KindSubject, Value: args[0]}
			var err error
			if r.Before, err = optionalTime(cmd, "before", before); err != nil {
				return err
			}
			if r.Expires, err = optionalTime(cmd, "until", until); err != nil {
				return err
			}
			return f.add(cmd, std, r)
		},
	})
	cmd.Flags().StringVar(&before, "before", "", "tokens issued before this time (now for all so far)")
	cmd.Flags().StringVar(&until, "until", "", "forget the revocation then, when every such token has expired (default: kept until lifted)")
	return cmd
}

func (f *revokeFlags) userCmd(std IO) *cobra.Command {
	var before, until string
	cmd := f.addReason(&cobra.Command{
		Use:   "user NAME",
		Short: "Sign a login user out everywhere (cookies issued before a time)",
		Long: `user revokes the login cookies of NAME (the email address the provider gave, else its
subject) issued before --before (default: now on the server). Signing in again works.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := revoke.Revocation{Kind: revoke.KindUser, Value: args[0]}
			var err error
			if r.Before, err = optionalTime(cmd, "before", before); err != nil {
				return err
			}
			if r.Expires, err = optionalTime(cmd, "until", until); err != nil {
				return err
			}
			return f.add(cmd, std, r)
		},
	})
	cmd.Flags().StringVar(&before, "before", "", "cookies issued before this time (default: now)")
	cmd.Flags().StringVar(&until, "until", "", "forget the revocation then (default: before + the longest cookie_lifetime)")
	return cmd
}

func (f *revokeFlags) listCmd(std IO) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the revocations in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ans, err := f.call(cmd, http.MethodGet, "/revocations", nil)
			if err != nil {
				return err
			}
			if ans.status != http.StatusOK {
				return ans.refused()
			}
			if f.json {
				_, err := std.Stdout.Write(ans.body)
				return err
			}
			var list struct {
				Revocations []revoke.Revocation `json:"revocations"`
			}
			if err := json.Unmarshal(ans.body, &list); err != nil {
				return &exitError{code: ExitFailure, msg: "unexpected answer: " + err.Error()}
			}
			tw := tabwriter.NewWriter(std.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tVALUE\tBEFORE\tEXPIRES\tREASON")
			for _, r := range list.Revocations {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Value, timeOrDash(r.Before), timeOrDash(r.Expires), r.Reason)
			}
			return tw.Flush()
		},
	}
}

func (f *revokeFlags) liftCmd(std IO) *cobra.Command {
	return &cobra.Command{
		Use:   "lift ID",
		Short: "Lift a revocation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ans, err := f.call(cmd, http.MethodDelete, "/revocations/"+url.PathEscape(args[0]), nil)
			if err != nil {
				return err
			}
			if ans.status != http.StatusNoContent {
				return ans.refused()
			}
			fmt.Fprintf(std.Stderr, "lifted %s\n", args[0])
			return nil
		},
	}
}

// add sends one revocation and prints its ID (stdout) and a summary (stderr).
func (f *revokeFlags) add(cmd *cobra.Command, std IO, r revoke.Revocation) error {
	r.Reason = f.reason
	ans, err := f.call(cmd, http.MethodPost, "/revocations", r)
	if err != nil {
		return err
	}
	if ans.status != http.StatusCreated {
		return ans.refused()
	}
	if f.json {
		_, err := std.Stdout.Write(ans.body)
		return err
	}
	var got revoke.Revocation
	if err := json.Unmarshal(ans.body, &got); err != nil {
		return &exitError{code: ExitFailure, msg: "unexpected answer: " + err.Error()}
	}
	fmt.Fprintln(std.Stdout, got.ID)
	until := "until lifted"
	if !got.Expires.IsZero() {
		until = "until " + got.Expires.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(std.Stderr, "revoked %s %s %s\n", got.Kind, got.Value, until)
	return nil
}

// optionalTime reads a time flag: "" is zero, "now" is now, else RFC 3339.
func optionalTime(cmd *cobra.Command, flag, s string) (time.Time, error) {
	switch s {
	case "":
		return time.Time{}, nil
	case "now":
		return time.Now().UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef(cmd, "--%s: want an RFC 3339 time (2026-05-01T10:00:00Z) or now, got %q", flag, s)
	}
	return t, nil
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// urlPolicy is the SHA-256 (hex) of the policy a signed URL's signature covers, and
// its expiry, computed as the verifier does (no signature check).
func urlPolicy(raw string) (string, time.Time, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", time.Time{}, fmt.Errorf("want an absolute http or https URL")
	}
	c, err := cfsign.QueryCredentials(u.RawQuery)
	if err != nil {
		return "", time.Time{}, err
	}
	switch {
	case c.Policy != "" && c.Expires != "":
		return "", time.Time{}, fmt.Errorf("the URL has both Policy and Expires")
	case c.Policy != "":
		return customPolicy(c.Policy)
	case c.Expires != "":
		n, err := strconv.ParseInt(c.Expires, 10, 64)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("expires %q is not a whole number of seconds", c.Expires)
		}
		exp := time.Unix(n, 0).UTC()
		resource := u.Scheme + "://" + config.NormalHost(u.Host, u.Scheme) + u.EscapedPath()
		if u.EscapedPath() == "" {
			resource += "/"
		}
		if q := cfsign.StripQuery(u.RawQuery); q != "" {
			resource += "?" + q
		}
		sum := sha256.Sum256(cfsign.CannedPolicyJSON(resource, exp))
		return hex.EncodeToString(sum[:]), exp, nil
	}
	return "", time.Time{}, fmt.Errorf("the URL has no Policy or Expires parameter: not a signed URL")
}

// customPolicy is the SHA-256 (hex) and DateLessThan of a base64 Policy value.
func customPolicy(value string) (string, time.Time, error) {
	b, err := cfsign.DecodeBase64(value)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("policy: %v", err)
	}
	p, err := cfsign.ParsePolicy(b)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("policy: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), p.DateLessThan, nil
}

// jwtClaims reads a JWT's jti and exp without verifying it.
func jwtClaims(tok string) (string, time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", time.Time{}, fmt.Errorf("not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("JWT payload: %v", err)
	}
	var c struct {
		JTI string   `json:"jti"`
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", time.Time{}, fmt.Errorf("JWT claims: %v", err)
	}
	if c.JTI == "" {
		return "", time.Time{}, fmt.Errorf("the token has no jti claim: revoke its subject instead (gatehouse revoke subject)")
	}
	if c.Exp == nil {
		return "", time.Time{}, fmt.Errorf("the token has no exp claim")
	}
	return c.JTI, time.Unix(int64(*c.Exp), 0).UTC(), nil
}
