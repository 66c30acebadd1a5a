package ipranges

import (
	"slices"
	"strings"
	"testing"
)

const googleCloudSample = `{
  "syncToken": "1787391165402",
  "creationTime": "2026-08-22T09:12:45.40207",
  "prefixes": [{
    "ipv4Prefix": "34.80.0.0/15",
    "service": "Google Cloud",
    "scope": "asia-east1"
  }, {
    "ipv6Prefix": "2600:1900:4030::/44",
    "service": "Google Cloud",
    "scope": "asia-east1"
  }, {
    "ipv4Prefix": "34.1.208.0/20",
    "service": "Google Cloud",
    "scope": "us-central1"
  }]
}`

const googSample = `{"syncToken":"1787391165402","creationTime":"2026-08-22T09:12:45.40207",
 "prefixes":[{"ipv4Prefix":"8.8.4.0/24"},{"ipv4Prefix":"8.8.8.0/24"},{"ipv6Prefix":"2001:4860::/32"},{"ipv4Prefix":"8.8.8.0/24"}]}`

func TestParseGoogle(t *testing.T) {
	cloud, err := ParseGoogle(strings.NewReader(googleCloudSample))
	if err != nil {
		t.Fatal(err)
	}
	if cloud.SyncToken != "1787391165402" || cloud.CreationTime != "2026-08-22T09:12:45.40207" || len(cloud.Prefixes) != 3 {
		t.Fatalf("got %+v", cloud)
	}
	goog, err := ParseGoogle(strings.NewReader(googSample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		r                *GoogleRanges
		services, scopes []string
		want             []string
	}{
		{"cloud all", cloud, nil, nil, []string{"34.80.0.0/15", "2600:1900:4030::/44", "34.1.208.0/20"}},
		{"cloud scope", cloud, nil, []string{"ASIA-EAST1"}, []string{"34.80.0.0/15", "2600:1900:4030::/44"}},
		{"cloud service and scope", cloud, []string{"google cloud"}, []string{"us-central1"}, []string{"34.1.208.0/20"}},
		{"goog deduplicated", goog, nil, nil, []string{"8.8.4.0/24", "8.8.8.0/24", "2001:4860::/32"}},
		{"goog has no service", goog, []string{"Google Cloud"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prefixStrings(tc.r.Filter(tc.services, tc.scopes)); !slices.Equal(got, tc.want) {
				t.Errorf("Filter = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseGoogleErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no prefixes", `{"syncToken":"1"}`, "not a Google cloud.json"},
		{"null prefixes", `{"prefixes":null}`, "not a Google cloud.json"},
		{"neither family", `{"prefixes":[{"ipv4Prefix":"8.8.8.0/24"},{"service":"x"}]}`, "prefixes[1]: no ipv4Prefix or ipv6Prefix"},
		{"both families", `{"prefixes":[{"ipv4Prefix":"8.8.8.0/24","ipv6Prefix":"2001::/16"}]}`, "prefixes[0]: both"},
		{"wrong family", `{"prefixes":[{"ipv6Prefix":"8.8.8.0/24"}]}`, "prefixes[0]: \"8.8.8.0/24\" is not an IPv6 prefix"},
		{"host bits", `{"prefixes":[{"ipv4Prefix":"8.8.8.8/24"}]}`, "host bits set"},
		{"syntax", "{\"prefixes\":[\n\n}", "line 3: invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGoogle(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
