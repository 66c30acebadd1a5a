package ipsync

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExampleValidates keeps examples/ipranges-sync.yaml valid.
func TestExampleValidates(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "ipranges-sync.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(path, data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("example does not validate:\n%v", err)
	}
	if c.SecurityGroups == nil || !slices.Equal(c.SecurityGroups.PortRanges(), []PortRange{{"tcp", 443, 443}}) || c.SNS.Topics[0] != AmazonIPSpaceChangedTopic {
		t.Errorf("parsed %+v", c)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := testConfig(t, "name: cf\naws: {region: eu-west-1}\nsecurity_groups: {vpc_id: "+testVPC+"}\nprefix_list: {}\n")
	g := c.SecurityGroups
	if c.Source.URL != DefaultSourceURL || !slices.Equal(c.Source.Services, []string{"CLOUDFRONT"}) || !*c.Source.IPv6 || !*c.Source.Aggregate ||
		g.NamePrefix != "gatehouse-cf" || g.RulesPerGroup != 60 || g.GroupsPerInterface != 5 || len(g.Ingress) != 1 ||
		c.PrefixList.Name != "gatehouse-cf" || c.SNS.Path != "/sns" || c.SNS.Poll != DefaultPoll {
		t.Errorf("defaults: %+v %+v", c, g)
	}
}

func TestConfigErrors(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "SECRET" {
			return "s3cret", true
		}
		return "", false
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"no target", "name: cf\naws: {region: eu-west-1}\n", []string{"security_groups: no target"}},
		{"bad name and region", "name: 'a b'\naws: {region: Ireland}\nprefix_list: {}\n", []string{"test.yaml:1: name: want 1-63", "test.yaml:2: aws.region: want a region"}},
		{"unknown key with line", "name: cf\naws: {region: eu-west-1}\nprefix_list: {}\nsns:\n  lisen: x\n", []string{"test.yaml:5: sns.lisen: unknown key"}},
		{"unset env", "name: cf\naws: {region: eu-west-1, access_key_id: AKID, secret_access_key: '${NOPE}'}\nprefix_list: {}\n", []string{"environment variable NOPE is not set"}},
		{"keys go together", "name: cf\naws: {region: eu-west-1, access_key_id: AKID}\nprefix_list: {}\n", []string{"aws.secret_access_key: access_key_id and secret_access_key go together"}},
		{"security groups", `name: cf
aws: {region: eu-west-1}
security_groups:
  vpc_id: vpc-xyz
  name_prefix: sg-bad
  ingress: [{protocol: icmp, ports: 1}, {ports: 443}, {ports: 400-500}, {ports: 9-1}]
  rules_per_group: 0
  groups_per_interface: 17
  network_interfaces: [eth0]
  tags: {Name: x, "aws:x": y, "gatehouse:managed-by": z}
`, []string{
			"security_groups.vpc_id: want a VPC ID",
			"security_groups.name_prefix: want at most 240",
			"security_groups.ingress[0]: protocol: want tcp or udp",
			"security_groups.ingress[2]: tcp 400-500 overlaps tcp 443",
			"security_groups.ingress[3]: ports: want a port",
			"security_groups.groups_per_interface: want 1 to 16",
			"security_groups.network_interfaces[0]: want an interface ID",
			"security_groups.tags.Name: Name is set by gatehouse",
			"security_groups.tags.aws:x: want a key",
			"security_groups.tags.gatehouse:managed-by: gatehouse:managed-by is set by gatehouse",
		}},
		{"source", "name: cf\naws: {region: eu-west-1}\nprefix_list: {ipv4_max_entries: 2000}\nsource: {url: 'ftp://x', file: y, ipv4: false, ipv6: false}\n", []string{
			"source.file: set url or file, not both", "source.ipv6: ipv4 and ipv6 are both false", "prefix_list.ipv4_max_entries: want 0"}},
		{"sns", "name: cf\naws: {region: eu-west-1}\nprefix_list: {}\nsns: {topics: [arn:aws:sqs:us-east-1:1:x], path: sns, tls_cert: c, poll: 10s}\n", []string{
			"sns.topics[0]: want an SNS topic ARN", "sns.path: want a path", "sns.tls_key: tls_cert and tls_key go together", "sns.poll: want at least 1m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.yaml), env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("errors lack %q:\n%v", w, err)
				}
			}
		})
	}
	c, err := Parse("test.yaml", []byte("name: cf\naws: {region: eu-west-1, access_key_id: AKID, secret_access_key: '${SECRET}'}\nprefix_list: {}\n"), env)
	if err != nil || c.AWS.SecretAccessKey != "s3cret" {
		t.Errorf("env: %v", err)
	}
}
