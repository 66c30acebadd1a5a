package ipauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// isolateAWS keeps the SDK away from the developer's AWS files, environment and the
// instance metadata service.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// fastEC2 builds real EC2 clients whose retry backoff is capped at a millisecond.
func fastEC2(ctx context.Context, q *config.SecurityGroupQuery) (EC2API, error) {
	return NewEC2Client(ctx, q, func(o *ec2.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
}

// seedGroups models two VPCs. Only tcp/-1 rules covering port 443 (the default ports
// are 80 and 443) contribute addresses.
func seedGroups(fake *testenv.EC2) {
	fake.PutGroup(testenv.SecurityGroup{
		ID: "sg-0web", Name: "web", VPCID: "vpc-1", Tags: map[string]string{"env": "prod"},
		Ingress: []testenv.Rule{
			{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"203.0.113.0/24"}, IPv6CIDRs: []string{"2001:db8:1::/48"}},
			{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"198.51.100.0/24"}},
			{Protocol: "tcp", FromPort: 0, ToPort: 65535, CIDRs: []string{"192.0.2.0/24"}},
			{Protocol: "-1", CIDRs: []string{"100.64.0.0/16"}, IPv6CIDRs: []string{"2001:db8:2::/48"}},
			{Protocol: "udp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.9.0.0/16"}},
			{Protocol: "icmp", FromPort: -1, ToPort: -1, CIDRs: []string{"10.8.0.0/16"}},
			{Protocol: "6", FromPort: 440, ToPort: 450, CIDRs: []string{"10.7.0.0/16"}},
			{Protocol: "tcp", FromPort: 443, ToPort: 443, GroupIDs: []string{"sg-0admin"}, PrefixListIDs: []string{"pl-123"}},
		},
		Egress: []testenv.Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
	})
	fake.PutGroup(testenv.SecurityGroup{
		ID: "sg-0admin", Name: "admin", VPCID: "vpc-1", Tags: map[string]string{"env": "dev"},
		Ingress: []testenv.Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"10.1.0.0/16"}}},
	})
	fake.PutGroup(testenv.SecurityGroup{
		ID: "sg-0other", Name: "web", VPCID: "vpc-2", Tags: map[string]string{"env": "prod", "team": "b"},
		Ingress: []testenv.Rule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.2.0.0/16"}}},
	})
}

func sgAuth(t *testing.T, fake *testenv.EC2, q config.SecurityGroupQuery) (*Authenticator, *logBuffer) {
	t.Helper()
	q.Region, q.Endpoint = "eu-west-1", fake.URL
	if q.AccessKeyID == "" && q.Profile == "" {
		q.AccessKeyID, q.SecretAccessKey = "AKIDTEST", "secret"
	}
	if q.Refresh == 0 {
		q.Refresh = time.Hour
	}
	return newAuth(t, &config.IPAuth{SecurityGroups: []*config.SecurityGroupQuery{&q}}, Options{NewEC2: fastEC2})
}

func TestSecurityGroups(t *testing.T) {
	isolateAWS(t)
	fake := testenv.NewEC2(t)
	seedGroups(fake)
	type verdicts map[string]string
	for _, tc := range []struct {
		name string
		q    config.SecurityGroupQuery
		want verdicts
	}{
		{"by vpc", config.SecurityGroupQuery{VPCID: "vpc-1"}, verdicts{
			"203.0.113.9": "allow", "2001:db8:1::5": "allow", // tcp 443, IPv4 and IPv6
			"192.0.2.5":  "allow",                           // tcp 0-65535
			"100.64.1.1": "allow", "2001:db8:2::1": "allow", // protocol -1
			"10.7.0.1":     "allow",     // protocol "6", 440-450
			"10.1.2.3":     "allow",     // admin group, tcp 80
			"198.51.100.1": "forbidden", // port 22 only
			"10.9.0.1":     "forbidden", // udp
			"10.8.0.1":     "forbidden", // icmp
			"10.2.0.1":     "forbidden", // other VPC
			"0.0.0.1":      "forbidden", // egress rules do not count
		}},
		{"by vpc and name", config.SecurityGroupQuery{VPCID: "vpc-1", GroupNames: []string{"web"}}, verdicts{
			"203.0.113.9": "allow", "10.1.2.3": "forbidden", "10.2.0.1": "forbidden",
		}},
		{"by id", config.SecurityGroupQuery{GroupIDs: []string{"sg-0other", "sg-0admin"}}, verdicts{
			"10.2.0.1": "allow", "10.1.2.3": "allow", "203.0.113.9": "forbidden",
		}},
		{"by tag", config.SecurityGroupQuery{Tags: map[string]string{"env": "prod"}}, verdicts{
			"203.0.113.9": "allow", "10.2.0.1": "allow", "10.1.2.3": "forbidden",
		}},
		{"by two tags", config.SecurityGroupQuery{Tags: map[string]string{"env": "prod", "team": "b"}}, verdicts{
			"10.2.0.1": "allow", "203.0.113.9": "forbidden",
		}},
		{"port 22", config.SecurityGroupQuery{VPCID: "vpc-1", Ports: []int{22}}, verdicts{
			"198.51.100.1": "allow", "192.0.2.5": "allow", "100.64.1.1": "allow",
			"203.0.113.9": "forbidden", "10.1.2.3": "forbidden",
		}},
		{"no group matches", config.SecurityGroupQuery{VPCID: "vpc-9"}, verdicts{"203.0.113.9": "forbidden"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := sgAuth(t, fake, tc.q)
			if err := a.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			for client, want := range tc.want {
				check(t, a, client, want)
			}
		})
	}
	t.Run("request shape", func(t *testing.T) {
		before := len(fake.Requests())
		a, logs := sgAuth(t, fake, config.SecurityGroupQuery{VPCID: "vpc-1", GroupNames: []string{"web"}, Tags: map[string]string{"env": "prod"}})
		if err := a.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		req := fake.Requests()[before]
		p := req.Params
		got := []string{p.Get("Action"), p.Get("MaxResults"), req.AccessKeyID, req.Region,
			p.Get("Filter.1.Name"), p.Get("Filter.1.Value.1"), p.Get("Filter.2.Name"), p.Get("Filter.2.Value.1"), p.Get("Filter.3.Name"), p.Get("Filter.3.Value.1")}
		want := []string{"DescribeSecurityGroups", "1000", "AKIDTEST", "eu-west-1", "vpc-id", "vpc-1", "group-name", "web", "tag:env", "prod"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("request %v\nwant %v", got, want)
		}
		mustContain(t, "debug log", logs.String(), "skipping security group references")
	})
}

func TestSecurityGroupsPagination(t *testing.T) {
	isolateAWS(t)
	fake := testenv.NewEC2(t)
	for i := range 12 {
		fake.PutGroup(testenv.SecurityGroup{
			ID: "sg-" + string(rune('a'+i)), Name: "g", VPCID: "vpc-1",
			Ingress: []testenv.Rule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.50." + itoa(i) + ".0/24"}}},
		})
	}
	fake.SetPageSize(5)
	a, _ := sgAuth(t, fake, config.SecurityGroupQuery{VPCID: "vpc-1"})
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("DescribeSecurityGroups"); n != 3 {
		t.Errorf("%d calls, want 3 pages", n)
	}
	for i := range 12 {
		check(t, a, "10.50."+itoa(i)+".1", "allow")
	}
	reqs := fake.Requests()
	if reqs[0].Params.Get("NextToken") != "" || reqs[1].Params.Get("NextToken") == "" || reqs[2].Params.Get("Filter.1.Value.1") != "vpc-1" {
		t.Errorf("pages not chained by token with the same filters: %v", reqs)
	}
}

func TestSecurityGroupsRetriesAndFailures(t *testing.T) {
	isolateAWS(t)
	for _, tc := range []struct {
		name      string
		faults    func(f *testenv.EC2)
		wantErr   string // "" = the load succeeds
		wantCalls int
	}{
		{"throttled 503 twice", func(f *testenv.EC2) { f.FailNext(2, "DescribeSecurityGroups", testenv.Throttled(503)) }, "", 3},
		{"throttled 400 three times", func(f *testenv.EC2) { f.FailNext(3, "", testenv.Throttled(400)) }, "", 4},
		{"internal error once", func(f *testenv.EC2) {
			f.FailNext(1, "", testenv.EC2Error{Status: 500, Code: "InternalError", Message: "boom"})
		}, "", 2},
		{"throttled past max attempts", func(f *testenv.EC2) { f.FailNext(EC2MaxAttempts, "", testenv.Throttled(503)) }, "RequestLimitExceeded", EC2MaxAttempts},
		{"unauthorized is not retried", func(f *testenv.EC2) {
			f.FailNext(1, "", testenv.EC2Error{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})
		}, "UnauthorizedOperation", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := testenv.NewEC2(t)
			seedGroups(fake)
			a, logs := sgAuth(t, fake, config.SecurityGroupQuery{VPCID: "vpc-1"})
			if tc.wantErr != "" {
				// Load once cleanly, so that the failure is a refresh failure.
				if err := a.Load(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			before := fake.Calls("DescribeSecurityGroups")
			tc.faults(fake)
			err := a.Load(context.Background())
			if calls := fake.Calls("DescribeSecurityGroups") - before; calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if err == nil {
					t.Fatal("Load succeeded")
				}
				mustContain(t, "error", err.Error(), tc.wantErr)
				mustContain(t, "log", logs.String(), "ip source refresh failed")
				mustContain(t, "log", logs.String(), "security_groups[0] (eu-west-1 vpc-1)")
			}
			check(t, a, "203.0.113.9", "allow") // loaded, or the last good set kept
			if err := a.Ready(); err != nil {
				t.Errorf("Ready() = %v", err)
			}
		})
	}
	t.Run("group change and deletion", func(t *testing.T) {
		fake := testenv.NewEC2(t)
		seedGroups(fake)
		a, logs := sgAuth(t, fake, config.SecurityGroupQuery{GroupIDs: []string{"sg-0admin"}})
		if err := a.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, a, "10.1.2.3", "allow")
		g, _ := fake.Group("sg-0admin")
		g.Ingress[0].CIDRs = []string{"10.3.0.0/16"}
		fake.PutGroup(g)
		if err := a.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, a, "10.1.2.3", "forbidden")
		check(t, a, "10.3.0.1", "allow")
		// A deleted group allows nothing: keeping its addresses would allow what the
		// owner removed.
		fake.DeleteGroup("sg-0admin")
		if err := a.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, a, "10.3.0.1", "forbidden")
		mustContain(t, "log", logs.String(), "matched no groups")
	})
	t.Run("background refresh", func(t *testing.T) {
		// In a synctest bubble, with the fake EC2 (and its listener) made outside it and
		// a client that keeps no idle connection, whose reader would never count as
		// blocked: the refresh interval and the retry backoff are on the fake clock.
		fake := testenv.NewEC2(t)
		seedGroups(fake)
		synctest.Test(t, func(t *testing.T) { testSGBackgroundRefresh(t, fake) })
	})
}

func testSGBackgroundRefresh(t *testing.T, fake *testenv.EC2) {
	q := &config.SecurityGroupQuery{GroupIDs: []string{"sg-0admin"}, Refresh: 10 * time.Millisecond,
		Region: "eu-west-1", Endpoint: fake.URL, AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	a, _ := newAuth(t, &config.IPAuth{SecurityGroups: []*config.SecurityGroupQuery{q}}, Options{NewEC2: func(ctx context.Context, q *config.SecurityGroupQuery) (EC2API, error) {
		return NewEC2Client(ctx, q, func(o *ec2.Options) {
			o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
			o.HTTPClient = noKeepAlive
		})
	}})
	fake.FailNext(EC2MaxAttempts, "", testenv.Throttled(503)) // the first load fails
	a.Start(context.Background())
	eventually(t, "a failed first load", func() bool {
		err := a.Ready()
		return err != nil && strings.Contains(err.Error(), "RequestLimitExceeded")
	})
	eventually(t, "a retried load", func() bool { return a.Ready() == nil })
	check(t, a, "10.1.2.3", "allow")
	g, _ := fake.Group("sg-0admin")
	g.Ingress[0].CIDRs = append(g.Ingress[0].CIDRs, "10.4.0.0/16")
	fake.PutGroup(g)
	eventually(t, "refreshed set", func() bool { return a.Contains(mustAddr("10.4.0.1")) })
}

// TestSecurityGroupsCredentials goes through the default client builder: explicit keys,
// and a named profile from the shared credentials file.
func TestSecurityGroupsCredentials(t *testing.T) {
	isolateAWS(t)
	fake := testenv.NewEC2(t)
	seedGroups(fake)
	creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if err := os.WriteFile(creds, []byte("[gate]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		q        config.SecurityGroupQuery
		wantAKID string
	}{
		{"explicit keys", config.SecurityGroupQuery{AccessKeyID: "AKIDEXPLICIT", SecretAccessKey: "s"}, "AKIDEXPLICIT"},
		{"profile", config.SecurityGroupQuery{Profile: "gate"}, "AKIDPROFILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Region, q.Endpoint, q.VPCID, q.Refresh = "us-east-2", fake.URL, "vpc-1", time.Hour
			a, _ := newAuth(t, &config.IPAuth{SecurityGroups: []*config.SecurityGroupQuery{&q}}, Options{}) // default NewEC2
			if err := a.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests()
			if last := reqs[len(reqs)-1]; last.AccessKeyID != tc.wantAKID || last.Region != "us-east-2" {
				t.Errorf("signed with %s in %s, want %s in us-east-2", last.AccessKeyID, last.Region, tc.wantAKID)
			}
			check(t, a, "203.0.113.9", "allow")
		})
	}
	t.Run("unknown profile is a load failure, not a New failure", func(t *testing.T) {
		q := config.SecurityGroupQuery{Region: "us-east-2", Endpoint: fake.URL, VPCID: "vpc-1", Profile: "nope", Refresh: time.Hour}
		a, _ := newAuth(t, &config.IPAuth{SecurityGroups: []*config.SecurityGroupQuery{&q}}, Options{})
		err := a.Load(context.Background())
		if err == nil {
			t.Fatal("Load succeeded")
		}
		mustContain(t, "error", err.Error(), "EC2 client")
		check(t, a, "203.0.113.9", "outage")
	})
}

// TestRegression_StaticCIDRsDeniedWhileSourceMissing: with cidrs, a loaded url list and a
// security_groups source whose credentials are refused, the cidrs and the url list allow
// (the union of the loaded sources); an address only the missing source could allow is
// an outage (503), one no source could allow is too (the missing source might), Ready
// names the missing source, and nothing is allowed that no loaded list holds. Once the
// groups load, the outage becomes a plain 403.
func TestRegression_StaticCIDRsDeniedWhileSourceMissing(t *testing.T) {
	isolateAWS(t)
	fake := testenv.NewEC2(t)
	seedGroups(fake)
	list := &listServer{body: "198.51.100.0/24\n"}
	srv := httptest.NewServer(list)
	defer srv.Close()
	q := &config.SecurityGroupQuery{Region: "eu-west-1", Endpoint: fake.URL, VPCID: "vpc-1", Refresh: time.Hour,
		AccessKeyID: "AKIDBROKEN", SecretAccessKey: "wrong"}
	a, _ := newAuth(t, &config.IPAuth{
		CIDRs:          []string{"192.0.2.0/24"},
		URLs:           []*config.IPRangeURL{{URL: srv.URL, Format: "plain", Refresh: time.Hour}},
		SecurityGroups: []*config.SecurityGroupQuery{q},
	}, Options{NewEC2: fastEC2})
	fake.FailNext(1, "DescribeSecurityGroups", testenv.EC2Error{Status: 401, Code: "AuthFailure",
		Message: "AWS was not able to validate the provided access credentials"})
	if err := a.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "AuthFailure") {
		t.Fatalf("Load = %v, want the security group source's AuthFailure", err)
	}
	err := a.Ready()
	if !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Ready() = %v, want ErrNotLoaded", err)
	}
	mustContain(t, "Ready()", err.Error(), "security_groups[0]")
	if strings.Contains(err.Error(), "url ") {
		t.Errorf("Ready() names the loaded url source: %v", err)
	}
	pol := &policy.Policy{Authenticators: []policy.Authenticator{a}}
	for _, tc := range []struct {
		client string
		want   string
		status int
	}{
		{"192.0.2.7", "allow", 0},           // cidrs
		{"::ffff:192.0.2.7", "allow", 0},    // cidrs, IPv4-mapped
		{"198.51.100.7", "allow", 0},        // the loaded url list
		{"203.0.113.9", "outage", 503},      // only the missing groups would allow it
		{"10.0.0.1", "outage", 503},         // no source holds it, but one is missing
		{"2001:db8:ffff::1", "outage", 503}, // nor this
	} {
		check(t, a, tc.client, tc.want)
		d := pol.Decide(context.Background(), &policy.Request{Client: mustAddr(tc.client)})
		if d.Allow != (tc.want == "allow") || (!d.Allow && d.Status != tc.status) {
			t.Errorf("%s: decision %+v, want %s", tc.client, d, tc.want)
		}
	}
	// The credentials work again: the groups load and the union is complete.
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(); err != nil {
		t.Fatalf("Ready() = %v", err)
	}
	check(t, a, "192.0.2.7", "allow")
	check(t, a, "198.51.100.7", "allow")
	check(t, a, "203.0.113.9", "allow")
	check(t, a, "10.0.0.1", "forbidden")
}
