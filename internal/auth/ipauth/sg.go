package ipauth

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/logging"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// EC2API is the part of the EC2 client a security_groups source uses; *ec2.Client
// implements it.
type EC2API = ec2.DescribeSecurityGroupsAPIClient

// EC2MaxAttempts is how many times NewEC2Client's clients try a call: throttling
// (RequestLimitExceeded) and 5xx answers are retried by the SDK's standard retryer with
// jittered exponential backoff.
const EC2MaxAttempts = 5

// NewEC2Client builds an EC2 client for q, as New does by default. Credentials are q's
// explicit keys when set, else the SDK's default chain (environment, the shared files
// with q.Profile, web identity, instance role); q.Endpoint overrides the endpoint (VPC
// endpoints, tests). Building reads the shared AWS configuration files, which is why New
// never calls it. optFns adjust the client last (tests shorten retry backoff).
func NewEC2Client(ctx context.Context, q *config.SecurityGroupQuery, optFns ...func(*ec2.Options)) (*ec2.Client, error) {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 10 * time.Second }).
		WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = 30 * time.Second
			t.MaxIdleConnsPerHost = 2
		}).
		WithTimeout(time.Minute)
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithRegion(q.Region),
		awsconfig.WithRetryMaxAttempts(EC2MaxAttempts),
		awsconfig.WithLogger(logging.Nop{}),
	}
	if q.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(q.Profile))
	}
	if q.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(q.AccessKeyID, q.SecretAccessKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if q.Endpoint != "" {
			o.BaseEndpoint = aws.String(q.Endpoint)
		}
		for _, fn := range optFns {
			fn(o)
		}
	}), nil
}

// sgLoader reads the ingress CIDRs of the security groups a query selects. A rule
// counts when its protocol is TCP ("tcp" or "6") and its port range covers one of the
// query's ports, or its protocol is "-1" (all traffic, all ports). Its IPv4 and IPv6
// ranges are taken; references to other groups and to prefix lists cannot be turned
// into addresses here and are skipped (logged at debug level). A query that matches no
// group loads as an empty set, with a warning: groups are deleted on purpose, and
// keeping their old addresses would allow what the owner removed.
type sgLoader struct {
	q         *config.SecurityGroupQuery
	ports     []int
	refresh   time.Duration
	newClient func(context.Context, *config.SecurityGroupQuery) (EC2API, error)
	log       *slog.Logger

	client EC2API // built on first load
}

func newSGLoader(q *config.SecurityGroupQuery, newClient func(context.Context, *config.SecurityGroupQuery) (EC2API, error), log *slog.Logger) *sgLoader {
	ports := q.Ports
	if len(ports) == 0 {
		ports = config.DefaultSGPorts
	}
	return &sgLoader{q: q, ports: ports, refresh: orDefault(q.Refresh, config.DefaultSGRefresh), newClient: newClient, log: log}
}

func (l *sgLoader) interval() time.Duration { return l.refresh }

func (l *sgLoader) load(ctx context.Context, _ bool) ([]netip.Prefix, bool, error) {
	if l.client == nil {
		c, err := l.newClient(ctx, l.q)
		if err != nil {
			return nil, false, fmt.Errorf("EC2 client: %w", err)
		}
		l.client = c
	}
	in := &ec2.DescribeSecurityGroupsInput{Filters: sgFilters(l.q)}
	pages := ec2.NewDescribeSecurityGroupsPaginator(l.client, in, func(o *ec2.DescribeSecurityGroupsPaginatorOptions) {
		o.Limit = 1000
		o.StopOnDuplicateToken = true
	})
	var out []netip.Prefix
	groups := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("DescribeSecurityGroups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			groups++
			out = l.groupPrefixes(out, g)
		}
	}
	if groups == 0 {
		l.log.Warn("security group query matched no groups: allowing none of its addresses")
	}
	return out, true, nil
}

// sgFilters selects groups matching every criterion set in q.
func sgFilters(q *config.SecurityGroupQuery) []types.Filter {
	var fs []types.Filter
	add := func(name string, values ...string) {
		fs = append(fs, types.Filter{Name: aws.String(name), Values: values})
	}
	if q.VPCID != "" {
		add("vpc-id", q.VPCID)
	}
	if len(q.GroupIDs) > 0 {
		add("group-id", q.GroupIDs...)
	}
	if len(q.GroupNames) > 0 {
		add("group-name", q.GroupNames...)
	}
	for _, k := range slices.Sorted(maps.Keys(q.Tags)) {
		add("tag:"+k, q.Tags[k])
	}
	return fs
}

// groupPrefixes appends the CIDRs of g's qualifying ingress rules to out.
func (l *sgLoader) groupPrefixes(out []netip.Prefix, g types.SecurityGroup) []netip.Prefix {
	gid := aws.ToString(g.GroupId)
	for _, perm := range g.IpPermissions {
		proto := aws.ToString(perm.IpProtocol)
		if !l.covers(proto, perm.FromPort, perm.ToPort) {
			continue
		}
		if n := len(perm.UserIdGroupPairs) + len(perm.PrefixListIds); n > 0 {
			l.log.Debug("skipping security group references in rule", "group", gid,
				"protocol", proto, "group_refs", len(perm.UserIdGroupPairs), "prefix_lists", len(perm.PrefixListIds))
		}
		for _, r := range perm.IpRanges {
			out = l.appendCIDR(out, gid, aws.ToString(r.CidrIp))
		}
		for _, r := range perm.Ipv6Ranges {
			out = l.appendCIDR(out, gid, aws.ToString(r.CidrIpv6))
		}
	}
	return out
}

// covers reports whether a rule with this protocol and port range admits TCP traffic
// to one of the ports.
func (l *sgLoader) covers(proto string, from, to *int32) bool {
	switch strings.ToLower(proto) {
	case "-1":
		return true
	case "tcp", "6":
	default:
		return false
	}
	if from == nil || to == nil {
		return false
	}
	for _, p := range l.ports {
		if int32(p) >= *from && int32(p) <= *to {
			return true
		}
	}
	return false
}

func (l *sgLoader) appendCIDR(out []netip.Prefix, gid, s string) []netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		l.log.Warn("skipping unparseable CIDR in security group rule", "group", gid, "cidr", s)
		return out
	}
	// EC2 applies a rule to the whole network, so host bits carry no meaning.
	return append(out, p.Masked())
}

// cloneQuery copies q deeply, so the authenticator does not share the caller's slices
// and map.
func cloneQuery(q *config.SecurityGroupQuery) *config.SecurityGroupQuery {
	c := *q
	c.GroupIDs, c.GroupNames, c.Ports = slices.Clone(q.GroupIDs), slices.Clone(q.GroupNames), slices.Clone(q.Ports)
	c.Tags = maps.Clone(q.Tags)
	return &c
}

// describeQuery summarises q for source names in logs and readiness errors.
func describeQuery(q *config.SecurityGroupQuery) string {
	parts := []string{q.Region}
	if q.VPCID != "" {
		parts = append(parts, q.VPCID)
	}
	parts = append(parts, q.GroupIDs...)
	parts = append(parts, q.GroupNames...)
	for _, k := range slices.Sorted(maps.Keys(q.Tags)) {
		parts = append(parts, "tag:"+k+"="+q.Tags[k])
	}
	return "(" + strings.Join(parts, " ") + ")"
}
