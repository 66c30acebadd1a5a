package cli

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/ipsync"
)

type iprangesShowFlags struct {
	services  []string
	regions   []string
	ipv4      bool
	ipv6      bool
	source    string
	format    string
	json      bool
	aggregate bool
	setName   string
}

func newIPRangesShow(std IO) *cobra.Command {
	var f iprangesShowFlags
	cmd := &cobra.Command{
		Use:   "show [--service CLOUDFRONT] [--region GLOBAL] [--ipv6] [--source URL|FILE] [--format text|json|nginx|nftables]",
		Short: "Print the filtered, de-duplicated, aggregated ranges with the list's syncToken and createDate",
		Long: `show reads ip-ranges.json (from AWS, or the --source URL or file), keeps the ranges of the
services and regions asked for, merges adjacent and nested ones (unless --aggregate=false)
and prints them:

  text      one CIDR per line after '#' comments (syncToken, createDate, md5)
  json      {"syncToken", "createDate", "md5", "source", "ipv4": [...], "ipv6": [...]}
  nginx     "allow CIDR;" lines: include them, then "deny all;"
  nftables  interval sets NAME_ipv4 and NAME_ipv6 to include inside a table`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.json {
				f.format = "json"
			}
			src := ipsync.Source{Services: f.services, Regions: f.regions, IPv4: &f.ipv4, IPv6: &f.ipv6, Aggregate: &f.aggregate}
			if strings.HasPrefix(f.source, "http://") || strings.HasPrefix(f.source, "https://") {
				src.URL = f.source
			} else {
				src.File = f.source
			}
			if !f.ipv4 && !f.ipv6 {
				return usagef(cmd, "--ipv4=false without --ipv6: nothing to show")
			}
			setName := f.setName
			if setName == "" {
				setName = regexp.MustCompile(`[^a-z0-9_]`).ReplaceAllString(strings.ToLower(f.services[0]), "_")
			}
			snap, err := ipsync.Read(cmd.Context(), &http.Client{Timeout: time.Minute}, src)
			if err != nil {
				return err
			}
			return ipsync.WriteList(std.Stdout, f.format, snap, setName)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.services, "service", []string{"CLOUDFRONT"}, "services to keep (repeat or comma-separate), e.g. CLOUDFRONT_ORIGIN_FACING")
	fl.StringSliceVar(&f.regions, "region", nil, "regions to keep, e.g. GLOBAL (default all)")
	fl.BoolVar(&f.ipv4, "ipv4", true, "include IPv4 ranges")
	fl.BoolVar(&f.ipv6, "ipv6", false, "include IPv6 ranges")
	fl.StringVar(&f.source, "source", ipsync.DefaultSourceURL, "URL or file of an ip-ranges.json")
	fl.StringVar(&f.format, "format", "text", "output format: "+strings.Join(ipsync.ListFormats, ", "))
	fl.BoolVar(&f.json, "json", false, "same as --format json")
	fl.BoolVar(&f.aggregate, "aggregate", true, "merge adjacent and nested ranges (same addresses, fewer entries)")
	fl.StringVar(&f.setName, "set-name", "", "nftables set name prefix (default: the first service, lowercased)")
	cmd.MarkFlagsMutuallyExclusive("json", "format")
	return cmd
}
