package ipranges

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const awsSample = `{"syncToken":"1787411825","createDate":"2026-08-22-15-17-05",
 "prefixes":[
  {"ip_prefix":"3.2.34.0/26","region":"af-south-1","service":"AMAZON","network_border_group":"af-south-1"},
  {"ip_prefix":"3.2.34.0/26","region":"af-south-1","service":"EC2","network_border_group":"af-south-1"},
  {"ip_prefix":"13.32.0.0/15","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"},
  {"ip_prefix":"13.32.0.0/15","region":"GLOBAL","service":"AMAZON","network_border_group":"GLOBAL"},
  {"ip_prefix":"3.29.0.0/24","region":"me-central-1","service":"CLOUDFRONT","network_border_group":"me-central-1"}],
 "ipv6_prefixes":[
  {"ipv6_prefix":"2600:1f14::/35","region":"us-west-2","service":"EC2","network_border_group":"us-west-2"},
  {"ipv6_prefix":"2600:9000::/28","region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL","new_field":1}]}`

func TestParseAWS(t *testing.T) {
	r, err := ParseAWS(strings.NewReader(awsSample))
	if err != nil {
		t.Fatal(err)
	}
	if r.SyncToken != "1787411825" || r.CreateDate != "2026-08-22-15-17-05" || len(r.Prefixes) != 7 {
		t.Fatalf("got token %q date %q %d prefixes", r.SyncToken, r.CreateDate, len(r.Prefixes))
	}
	if got, err := r.Created(); err != nil || !got.Equal(time.Date(2026, 8, 22, 15, 17, 5, 0, time.UTC)) {
		t.Errorf("Created() = %v, %v", got, err)
	}
	want := AWSPrefix{Prefix: netip.MustParsePrefix("2600:9000::/28"), Region: "GLOBAL", Service: "CLOUDFRONT", NetworkBorderGroup: "GLOBAL"}
	if r.Prefixes[6] != want {
		t.Errorf("last prefix = %+v, want %+v", r.Prefixes[6], want)
	}
	for _, tc := range []struct {
		name              string
		services, regions []string
		want              []string
	}{
		{"all", nil, nil, []string{"3.2.34.0/26", "13.32.0.0/15", "3.29.0.0/24", "2600:1f14::/35", "2600:9000::/28"}},
		{"cloudfront", []string{"CLOUDFRONT"}, nil, []string{"13.32.0.0/15", "3.29.0.0/24", "2600:9000::/28"}},
		{"cloudfront global, any case", []string{"cloudFront"}, []string{"global"}, []string{"13.32.0.0/15", "2600:9000::/28"}},
		{"two services deduplicated", []string{"EC2", "AMAZON"}, nil, []string{"3.2.34.0/26", "13.32.0.0/15", "2600:1f14::/35"}},
		{"region only", nil, []string{"af-south-1"}, []string{"3.2.34.0/26"}},
		{"no match", []string{"S3"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Filter(tc.services, tc.regions)
			if !slices.Equal(prefixStrings(got), tc.want) {
				t.Errorf("Filter = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseAWSErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", ``, "invalid JSON"},
		{"not an object", `[1,2]`, "line 1: want a JSON object, got JSON array"},
		{"syntax error names line", "{\n\"prefixes\": [\n{,}]}", "line 3: invalid JSON"},
		{"neither array", `{"syncToken":"1"}`, "not an AWS ip-ranges.json"},
		{"missing prefix", `{"prefixes":[{"region":"x"}]}`, "prefixes[0]: ip_prefix: missing prefix"},
		{"v6 in v4 list", `{"prefixes":[{"ip_prefix":"10.0.0.0/8"},{"ip_prefix":"2600::/16"}]}`, "prefixes[1]: ip_prefix: \"2600::/16\" is not an IPv4 prefix"},
		{"v4 in v6 list", `{"ipv6_prefixes":[{"ipv6_prefix":"10.0.0.0/8"}]}`, "ipv6_prefixes[0]: ipv6_prefix: \"10.0.0.0/8\" is not an IPv6 prefix"},
		{"host bits", `{"prefixes":[{"ip_prefix":"10.0.0.1/8"}]}`, "host bits set (network is 10.0.0.0/8)"},
		{"bare address", `{"prefixes":[{"ip_prefix":"10.0.0.1"}]}`, "is not a CIDR"},
		{"wrong type", "{\"prefixes\":[{\"ip_prefix\":\n 5}]}", "line 2: prefixes.ip_prefix: want string"},
		{"trailing garbage", `{"prefixes":[]} x`, "invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAWS(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestParseAWSRealFile checks the parser against a real published list; the counts are
// those documented in shared/reference/aws-formats.md.
func TestParseAWSRealFile(t *testing.T) {
	f, err := os.Open(testenv.SharedTestdata(t, "aws", "ip-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ParseAWS(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.SyncToken != "1787411825" {
		t.Errorf("syncToken %q", r.SyncToken)
	}
	var v4, v6 int
	for _, p := range r.Prefixes {
		if p.Prefix.Addr().Is4() {
			v4++
		} else {
			v6++
		}
	}
	if v4 != 10668 || v6 != 6160 {
		t.Errorf("%d IPv4 and %d IPv6 entries, want 10668 and 6160", v4, v6)
	}
	for _, tc := range []struct {
		name           string
		regions        []string
		wantV4, wantV6 int
	}{
		{"CLOUDFRONT", nil, 211, 32},
		{"CLOUDFRONT GLOBAL", []string{"GLOBAL"}, 118, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Filter([]string{"CLOUDFRONT"}, tc.regions)
			var n4, n6 int
			for _, p := range got {
				if p.Addr().Is4() {
					n4++
				} else {
					n6++
				}
			}
			if n4 != tc.wantV4 || (tc.wantV6 >= 0 && n6 != tc.wantV6) {
				t.Errorf("%d IPv4 and %d IPv6, want %d and %d", n4, n6, tc.wantV4, tc.wantV6)
			}
		})
	}
	regional := 0
	for _, p := range r.Prefixes {
		if p.Service == "CLOUDFRONT" && p.Region != "GLOBAL" && p.Prefix.Addr().Is4() {
			regional++
		}
	}
	if regional != 93 {
		t.Errorf("%d regional CLOUDFRONT IPv4 entries, want 93", regional)
	}
}

func prefixStrings(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
