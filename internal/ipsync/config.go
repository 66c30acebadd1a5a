package ipsync

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// Defaults and fixed names.
const (
	// DefaultSourceURL is where AWS publishes ip-ranges.json.
	DefaultSourceURL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
	// AmazonIPSpaceChangedTopic is the SNS topic AWS notifies on every change of
	// ip-ranges.json; the default and usually the only allowed topic.
	AmazonIPSpaceChangedTopic = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"
	// ManagedByTag is the tag that marks a security group or prefix list as owned by a
	// sync; its value is the sync's name. Resources without it are never changed.
	ManagedByTag = "gatehouse:managed-by"
	// DefaultRulesPerGroup is AWS's default quota of inbound rules per security group
	// (counted separately for IPv4 and IPv6).
	DefaultRulesPerGroup = 60
	// DefaultGroupsPerInterface is AWS's default quota of security groups per network
	// interface.
	DefaultGroupsPerInterface = 5
	// DefaultPoll is how often serve re-reads the list when no notification came.
	DefaultPoll = time.Hour
)

// Config is a sync configuration file (see docs/ip-range-sync.md and
// examples/ipranges-sync.yaml). At least one target, security_groups or prefix_list,
// is required. Parse fills in the defaults documented on each field.
type Config struct {
	// Name identifies the sync: it is the value of the ManagedByTag on everything the
	// sync owns, so two syncs with different names never touch each other's groups.
	Name   string `yaml:"name"`
	Source Source `yaml:"source"`
	AWS    AWS    `yaml:"aws"`
	// SecurityGroups is the security group target: the ranges become inbound rules of
	// as many managed groups as the quota needs.
	SecurityGroups *SecurityGroups `yaml:"security_groups"`
	// PrefixList is the customer-managed prefix list target: one list per address
	// family, which the user's own groups reference.
	PrefixList *PrefixList `yaml:"prefix_list"`
	// SNS configures `gatehouse ipranges serve`.
	SNS SNS `yaml:"sns"`
	// Debug logs every API call decision at debug level.
	Debug bool `yaml:"debug"`
}

// Source says which list to read and which of its ranges to keep.
type Source struct {
	// URL of an ip-ranges.json; default DefaultSourceURL. Exclusive with File.
	URL string `yaml:"url"`
	// File reads a local copy instead (tests, air-gapped runs).
	File string `yaml:"file"`
	// Services to keep; default [CLOUDFRONT]. CLOUDFRONT_ORIGIN_FACING is the smaller
	// set CloudFront uses to reach origins.
	Services []string `yaml:"services"`
	// Regions to keep (e.g. GLOBAL); default all.
	Regions []string `yaml:"regions"`
	// IPv4 and IPv6 select the families; both default to true.
	IPv4 *bool `yaml:"ipv4"`
	IPv6 *bool `yaml:"ipv6"`
	// Aggregate merges adjacent and nested ranges into the fewest CIDRs covering the
	// same addresses (default true): fewer rules, same clients.
	Aggregate *bool `yaml:"aggregate"`
}

// AWS says how to reach EC2.
type AWS struct {
	Region string `yaml:"region"`
	// Endpoint overrides the EC2 endpoint (VPC endpoints; tests).
	Endpoint string `yaml:"endpoint"`
	Profile  string `yaml:"profile"`
	// Explicit keys; empty uses the SDK's default chain (environment, shared files,
	// web identity, instance or Lambda role).
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// SecurityGroups configures the security group target.
type SecurityGroups struct {
	// VPCID is the VPC the managed groups live in (required).
	VPCID string `yaml:"vpc_id"`
	// NamePrefix names created groups NamePrefix-1, NamePrefix-2...; default
	// "gatehouse-" + name.
	NamePrefix string `yaml:"name_prefix"`
	// Description of created groups.
	Description string `yaml:"description"`
	// Ingress lists the protocol and ports each range is allowed on; default tcp 443.
	Ingress []Ingress `yaml:"ingress"`
	// RulesPerGroup is the account's quota of inbound rules per group and family;
	// default 60. Set it to the raised quota if the account has one.
	RulesPerGroup int `yaml:"rules_per_group"`
	// GroupsPerInterface is the account's quota of groups per network interface;
	// default 5.
	GroupsPerInterface int `yaml:"groups_per_interface"`
	// NetworkInterfaces get every managed group attached (in addition to the interfaces
	// that already have one attached, which always get new groups).
	NetworkInterfaces []string `yaml:"network_interfaces"`
	// Tags are set on every managed group, besides ManagedByTag and Name.
	Tags map[string]string `yaml:"tags"`
}

// Ingress is one protocol and port range.
type Ingress struct {
	// Protocol is tcp (default) or udp.
	Protocol string `yaml:"protocol"`
	// Ports is a port ("443") or an inclusive range ("8000-8100").
	Ports string `yaml:"ports"`
}

// PrefixList configures the prefix list target.
type PrefixList struct {
	// Name of the lists: Name-ipv4 and Name-ipv6; default "gatehouse-" + name.
	Name string `yaml:"name"`
	// IPv4MaxEntries and IPv6MaxEntries size the lists; 0 (default) sizes them to the
	// ranges plus 10% headroom. A security group rule that references a list counts as
	// MaxEntries rules, so keep them tight.
	IPv4MaxEntries int `yaml:"ipv4_max_entries"`
	IPv6MaxEntries int `yaml:"ipv6_max_entries"`
	// Tags are set on created lists, besides ManagedByTag and Name.
	Tags map[string]string `yaml:"tags"`
}

// SNS configures the notification endpoint of `gatehouse ipranges serve`.
type SNS struct {
	// Listen is the address to listen on; default ":8080".
	Listen string `yaml:"listen"`
	// Path is the endpoint's path, as subscribed; default "/sns".
	Path string `yaml:"path"`
	// Topics are the topic ARNs accepted; default [AmazonIPSpaceChangedTopic].
	Topics []string `yaml:"topics"`
	// TLSCert and TLSKey serve HTTPS (SNS requires a publicly trusted certificate for
	// https endpoints); empty serves plain HTTP, e.g. behind a load balancer.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Poll re-reads the list this often in case a notification is lost; default 1h,
	// at least 1m.
	Poll time.Duration `yaml:"poll"`
	// StateFile keeps the last applied syncToken across restarts; empty keeps it in
	// memory only.
	StateFile string `yaml:"state_file"`
}

// PortRange is an Ingress entry after parsing.
type PortRange struct {
	Protocol string `json:"protocol"`
	From     int32  `json:"from"`
	To       int32  `json:"to"`
}

// String formats the range as "tcp 443" or "tcp 8000-8100".
func (p PortRange) String() string {
	if p.From == p.To {
		return fmt.Sprintf("%s %d", p.Protocol, p.From)
	}
	return fmt.Sprintf("%s %d-%d", p.Protocol, p.From, p.To)
}

// Load reads and parses the file at path, taking ${NAME} references from the process
// environment.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, config.Errors{{File: path, Msg: fmt.Sprintf("cannot read: %v", errors.Unwrap(err))}}
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes data strictly (unknown keys, wrong types and unset ${NAME} references
// are errors with their line and field path, as in the main configuration file),
// applies the defaults and validates. It returns a valid Config or config.Errors
// listing every problem.
func Parse(file string, data []byte, env config.LookupEnv) (*Config, error) {
	var c Config
	pos, err := config.DecodeStrict(file, data, env, &c)
	if err != nil {
		return nil, err
	}
	c.applyDefaults()
	if errs := c.validate(pos); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b config.FieldError) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Path, b.Path))
		})
		return nil, errs
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	s := &c.Source
	if s.URL == "" && s.File == "" {
		s.URL = DefaultSourceURL
	}
	if len(s.Services) == 0 {
		s.Services = []string{"CLOUDFRONT"}
	}
	t := true
	if s.IPv4 == nil {
		s.IPv4 = &t
	}
	if s.IPv6 == nil {
		s.IPv6 = &t
	}
	if s.Aggregate == nil {
		s.Aggregate = &t
	}
	if g := c.SecurityGroups; g != nil {
		if g.NamePrefix == "" {
			g.NamePrefix = "gatehouse-" + c.Name
		}
		if g.Description == "" {
			g.Description = fmt.Sprintf("Inbound from %s ranges, managed by gatehouse ipranges sync %s", strings.Join(s.Services, " "), c.Name)
		}
		if len(g.Ingress) == 0 {
			g.Ingress = []Ingress{{Protocol: "tcp", Ports: "443"}}
		}
		for i := range g.Ingress {
			if g.Ingress[i].Protocol == "" {
				g.Ingress[i].Protocol = "tcp"
			}
		}
		if g.RulesPerGroup == 0 {
			g.RulesPerGroup = DefaultRulesPerGroup
		}
		if g.GroupsPerInterface == 0 {
			g.GroupsPerInterface = DefaultGroupsPerInterface
		}
	}
	if p := c.PrefixList; p != nil && p.Name == "" {
		p.Name = "gatehouse-" + c.Name
	}
	if c.SNS.Listen == "" {
		c.SNS.Listen = ":8080"
	}
	if c.SNS.Path == "" {
		c.SNS.Path = "/sns"
	}
	if len(c.SNS.Topics) == 0 {
		c.SNS.Topics = []string{AmazonIPSpaceChangedTopic}
	}
	if c.SNS.Poll == 0 {
		c.SNS.Poll = DefaultPoll
	}
}

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	vpcRE      = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	eniRE      = regexp.MustCompile(`^eni-[0-9a-f]{8,17}$`)
	topicRE    = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	sgTextRE   = regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$`) // EC2's charset for VPC group names and descriptions
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	tagKeyRsvd = []string{ManagedByTag, "Name"}
)

// validate checks everything that can be checked without the network.
func (c *Config) validate(pos *config.Positions) config.Errors {
	var errs config.Errors
	add := func(path, format string, args ...any) { errs = append(errs, pos.Errorf(path, format, args...)) }
	if !nameRE.MatchString(c.Name) {
		add("name", "want 1-63 letters, digits, '.', '_' or '-' (it is the %s tag's value), got %q", ManagedByTag, c.Name)
	}
	s := c.Source
	switch {
	case s.URL != "" && s.File != "":
		add("source.file", "set url or file, not both")
	case s.URL != "":
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("source.url", "want an http or https URL, got %q", s.URL)
		}
	}
	if !*s.IPv4 && !*s.IPv6 {
		add("source.ipv6", "ipv4 and ipv6 are both false: nothing to sync")
	}
	for i, v := range s.Services {
		if strings.TrimSpace(v) == "" {
			add(fmt.Sprintf("source.services[%d]", i), "empty service name")
		}
	}
	if c.AWS.Region == "" {
		add("aws.region", "required (the region of the VPC, e.g. eu-west-1)")
	} else if !regionRE.MatchString(c.AWS.Region) {
		add("aws.region", "want a region such as eu-west-1, got %q", c.AWS.Region)
	}
	if (c.AWS.AccessKeyID == "") != (c.AWS.SecretAccessKey == "") {
		add("aws.secret_access_key", "access_key_id and secret_access_key go together")
	}
	if c.AWS.Endpoint != "" {
		if u, err := url.Parse(c.AWS.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("aws.endpoint", "want an http or https URL, got %q", c.AWS.Endpoint)
		}
	}
	if c.SecurityGroups == nil && c.PrefixList == nil {
		add("security_groups", "no target: configure security_groups, prefix_list or both")
	}
	if g := c.SecurityGroups; g != nil {
		c.validateSG(g, add)
	}
	if p := c.PrefixList; p != nil {
		if !sgTextRE.MatchString(p.Name) || len(p.Name) > 250 || strings.HasPrefix(strings.ToLower(p.Name), "com.amazonaws") {
			add("prefix_list.name", "want at most 250 characters, not starting with com.amazonaws, got %q", p.Name)
		}
		for _, f := range []struct {
			key string
			n   int
		}{{"ipv4_max_entries", p.IPv4MaxEntries}, {"ipv6_max_entries", p.IPv6MaxEntries}} {
			if f.n < 0 || f.n > 1000 {
				add("prefix_list."+f.key, "want 0 (automatic) to 1000, got %d", f.n)
			}
		}
		validateTags("prefix_list.tags", p.Tags, add)
	}
	for i, t := range c.SNS.Topics {
		if !topicRE.MatchString(t) {
			add(fmt.Sprintf("sns.topics[%d]", i), "want an SNS topic ARN, got %q", t)
		}
	}
	if !strings.HasPrefix(c.SNS.Path, "/") {
		add("sns.path", "want a path starting with /, got %q", c.SNS.Path)
	}
	if (c.SNS.TLSCert == "") != (c.SNS.TLSKey == "") {
		add("sns.tls_key", "tls_cert and tls_key go together")
	}
	if c.SNS.Poll < time.Minute {
		add("sns.poll", "want at least 1m, got %v", c.SNS.Poll)
	}
	return errs
}

func (c *Config) validateSG(g *SecurityGroups, add func(path, format string, args ...any)) {
	if g.VPCID == "" {
		add("security_groups.vpc_id", "required (the VPC of the origin)")
	} else if !vpcRE.MatchString(g.VPCID) {
		add("security_groups.vpc_id", "want a VPC ID such as vpc-0123456789abcdef0, got %q", g.VPCID)
	}
	if !sgTextRE.MatchString(g.NamePrefix) || len(g.NamePrefix) > 240 || strings.HasPrefix(g.NamePrefix, "sg-") {
		add("security_groups.name_prefix", "want at most 240 characters EC2 allows in a group name, not starting with sg-, got %q", g.NamePrefix)
	}
	if !sgTextRE.MatchString(g.Description) || len(g.Description) > 255 {
		add("security_groups.description", "want at most 255 characters EC2 allows in a group description")
	}
	var ranges []PortRange
	for i, in := range g.Ingress {
		p := fmt.Sprintf("security_groups.ingress[%d]", i)
		pr, err := in.parse()
		if err != nil {
			add(p, "%v", err)
			continue
		}
		for _, o := range ranges {
			if o.Protocol == pr.Protocol && o.From <= pr.To && pr.From <= o.To {
				add(p, "%s overlaps %s", pr, o)
			}
		}
		ranges = append(ranges, pr)
	}
	if g.RulesPerGroup < 1 || g.RulesPerGroup > 1000 {
		add("security_groups.rules_per_group", "want 1 to 1000, got %d", g.RulesPerGroup)
	}
	if g.GroupsPerInterface < 1 || g.GroupsPerInterface > 16 {
		add("security_groups.groups_per_interface", "want 1 to 16, got %d", g.GroupsPerInterface)
	}
	for i, id := range g.NetworkInterfaces {
		if !eniRE.MatchString(id) {
			add(fmt.Sprintf("security_groups.network_interfaces[%d]", i), "want an interface ID such as eni-0123456789abcdef0, got %q", id)
		}
	}
	validateTags("security_groups.tags", g.Tags, add)
}

func validateTags(path string, tags map[string]string, add func(path, format string, args ...any)) {
	for k, v := range tags {
		switch {
		case slices.Contains(tagKeyRsvd, k):
			add(path+"."+k, "%s is set by gatehouse", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:") || len(k) > 128 || len(v) > 256:
			add(path+"."+k, "want a key of at most 128 characters not starting with aws: and a value of at most 256")
		}
	}
}

// parse reads "443" or "8000-8100" with the protocol.
func (in Ingress) parse() (PortRange, error) {
	proto := strings.ToLower(in.Protocol)
	if proto != "tcp" && proto != "udp" {
		return PortRange{}, fmt.Errorf("protocol: want tcp or udp, got %q", in.Protocol)
	}
	lo, hi, isRange := strings.Cut(strings.TrimSpace(in.Ports), "-")
	if !isRange {
		hi = lo
	}
	from, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	to, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if err1 != nil || err2 != nil || from > to {
		return PortRange{}, fmt.Errorf("ports: want a port (443) or a range (8000-8100) of 0-65535, got %q", in.Ports)
	}
	return PortRange{Protocol: proto, From: int32(from), To: int32(to)}, nil
}

// PortRanges returns the parsed ingress entries of a valid configuration, sorted.
func (g *SecurityGroups) PortRanges() []PortRange {
	var out []PortRange
	for _, in := range g.Ingress {
		if pr, err := in.parse(); err == nil {
			out = append(out, pr)
		}
	}
	slices.SortFunc(out, comparePorts)
	return out
}

func comparePorts(a, b PortRange) int {
	if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	if a.From != b.From {
		return int(a.From - b.From)
	}
	return int(a.To - b.To)
}
