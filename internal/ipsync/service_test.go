package ipsync

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/sns"
	"github.com/gatehouse-dev/gatehouse/internal/sns/snstest"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// rangesServer serves an ip-ranges.json that tests replace.
type rangesServer struct {
	*httptest.Server
	mu   sync.Mutex
	body []byte
}

func newRangesServer(t *testing.T) *rangesServer {
	rs := &rangesServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		w.Write(rs.body)
	}))
	t.Cleanup(rs.Close)
	return rs
}

// publish serves a list of CLOUDFRONT ranges with syncToken token and returns the
// notification message announcing it.
func (rs *rangesServer) publish(token int, ps []netip.Prefix) string {
	var items []string
	for _, p := range ps {
		items = append(items, fmt.Sprintf(`{"ip_prefix":%q,"region":"GLOBAL","service":"CLOUDFRONT","network_border_group":"GLOBAL"}`, p))
	}
	body := fmt.Sprintf(`{"syncToken":"%d","createDate":"2026-08-22-15-17-05","prefixes":[%s],"ipv6_prefixes":[]}`, token, strings.Join(items, ","))
	rs.mu.Lock()
	rs.body = []byte(body)
	rs.mu.Unlock()
	sum := md5.Sum([]byte(body))
	return notice(token, hex.EncodeToString(sum[:]))
}

func notice(token int, md5hex string) string {
	return fmt.Sprintf(`{"create-time":"2026-08-22T15:17:05+00:00","synctoken":"%d","md5":"%s","url":"https://ip-ranges.amazonaws.com/ip-ranges.json"}`, token, md5hex)
}

type serviceEnv struct {
	fake    *testenv.EC2
	ranges  *rangesServer
	snsSrv  *snstest.Server
	svc     *Service
	logs    *testenv.SyncBuffer
	results chan Result
	url     string
}

func newServiceEnv(t *testing.T) *serviceEnv {
	e := &serviceEnv{fake: testenv.NewEC2(t), ranges: newRangesServer(t), snsSrv: snstest.New(t), results: make(chan Result, 10)}
	c := testConfig(t, sgConfigYAML(60, "")+"source: {url: "+e.ranges.URL+"}\n")
	s, _ := newSyncer(t, e.fake, c)
	e.logs = &testenv.SyncBuffer{}
	s.Log = slog.New(slog.NewTextHandler(e.logs, nil))
	e.svc = &Service{Syncer: s, Verifier: e.snsSrv.Verifier(t, AmazonIPSpaceChangedTopic), Log: s.Log, MD5Attempts: 1,
		OnResult: func(r Result) { e.results <- r }}
	srv := httptest.NewServer(e.svc.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *serviceEnv) result(t *testing.T) Result {
	t.Helper()
	select {
	case r := <-e.results:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no sync result")
		return Result{}
	}
}

func (e *serviceEnv) post(t *testing.T, m *sns.Message) int {
	t.Helper()
	body, _ := json.Marshal(m)
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	req.Header.Set("x-amz-sns-message-type", m.Type)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServiceSNS drives the SNS endpoint end to end: messages signed by a test
// certificate served on loopback, the sync against the fake EC2.
func TestServiceSNS(t *testing.T) {
	e := newServiceEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e.ranges.publish(100, cidrs("10.1.0.0", 20))
	go func() { e.svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if r := e.result(t); r.Trigger != "start" || r.Err != nil || e.svc.Applied() != 100 {
		t.Fatalf("start: %+v, applied %d", r, e.svc.Applied())
	}
	topic := AmazonIPSpaceChangedTopic
	signed := func(msg, version string) *sns.Message {
		m := e.snsSrv.Notification(topic, msg)
		e.snsSrv.Sign(m, version)
		return m
	}

	refusals := []struct {
		name string
		msg  func() *sns.Message
		code int
		log  string
	}{
		{"tampered message", func() *sns.Message {
			m := signed(notice(500, strings.Repeat("0", 32)), "1")
			m.Message = strings.Replace(m.Message, "500", "501", 1)
			return m
		}, 403, "refused SNS message: bad signature"},
		{"wrong topic", func() *sns.Message {
			m := e.snsSrv.Notification("arn:aws:sns:us-east-1:123456789012:NotAmazon", notice(500, strings.Repeat("0", 32)))
			return m
		}, 403, "refused SNS message: topic not allowed"},
		{"old syncToken", func() *sns.Message { return signed(notice(99, strings.Repeat("0", 32)), "2") }, 200, "ignored notification: syncToken not newer than the last applied"},
		{"SignatureVersion 3", func() *sns.Message { return signed(notice(500, strings.Repeat("0", 32)), "3") }, 403, "refused SNS message: unsupported signature version"},
		{"non-https certificate URL", func() *sns.Message {
			m := e.snsSrv.Notification(topic, notice(500, strings.Repeat("0", 32)))
			m.SigningCertURL = strings.Replace(m.SigningCertURL, "https:", "http:", 1)
			e.snsSrv.Sign(m, "1")
			return m
		}, 403, "refused SNS message: untrusted certificate URL"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			reads, writes := e.fake.Calls("DescribeSecurityGroups"), e.fake.WriteCalls()
			if code := e.post(t, tc.msg()); code != tc.code {
				t.Errorf("status %d, want %d", code, tc.code)
			}
			if !strings.Contains(e.logs.String(), tc.log) {
				t.Errorf("no log line %q in:\n%s", tc.log, e.logs)
			}
			if e.fake.Calls("DescribeSecurityGroups") != reads || e.fake.WriteCalls() != writes {
				t.Errorf("a sync ran")
			}
			select {
			case r := <-e.results:
				t.Errorf("a run was queued: %+v", r)
			default:
			}
		})
	}

	t.Run("md5 mismatch", func(t *testing.T) {
		e.ranges.publish(200, cidrs("10.1.0.0", 25))
		writes := e.fake.WriteCalls()
		if code := e.post(t, signed(notice(200, strings.Repeat("a", 32)), "1")); code != 200 {
			t.Errorf("status %d", code)
		}
		r := e.result(t)
		if r.Err == nil || !strings.Contains(r.Err.Error(), "md5 mismatch") || r.Outcome != nil {
			t.Errorf("result %+v", r)
		}
		if e.fake.WriteCalls() != writes || e.svc.Applied() != 100 {
			t.Errorf("synced despite the mismatch")
		}
		if !strings.Contains(e.logs.String(), "refused notification: md5 mismatch") {
			t.Errorf("log:\n%s", e.logs)
		}
	})

	for _, version := range []string{"1", "2"} {
		t.Run("accepted with SignatureVersion "+version, func(t *testing.T) {
			token := 300 + len(version)*10 + int(version[0]-'0')
			msg := e.ranges.publish(token, cidrs("10.1.0.0", 20+token%7))
			if code := e.post(t, signed(msg, version)); code != 200 {
				t.Fatalf("status %d", code)
			}
			r := e.result(t)
			if r.Err != nil || r.Trigger != "notification" || len(r.Outcome.Applied) == 0 {
				t.Fatalf("result %+v", r)
			}
			if e.svc.Applied() != int64(token) {
				t.Errorf("applied %d", e.svc.Applied())
			}
		})
	}

	t.Run("subscription confirmed for the allowed topic only", func(t *testing.T) {
		e.post(t, e.snsSrv.Confirmation("arn:aws:sns:us-east-1:123456789012:NotAmazon"))
		if code := e.post(t, e.snsSrv.Confirmation(topic)); code != 200 {
			t.Errorf("status %d", code)
		}
		if c := e.snsSrv.Confirmations(); len(c) != 1 || c[0] != topic {
			t.Errorf("confirmations %v", c)
		}
	})
	if e.snsSrv.CertFetches() != 1 {
		t.Errorf("certificate fetched %d times", e.snsSrv.CertFetches())
	}
}

func TestLambdaHandler(t *testing.T) {
	e := newServiceEnv(t)
	msg := e.ranges.publish(100, cidrs("10.1.0.0", 10))
	m := e.snsSrv.Notification(AmazonIPSpaceChangedTopic, msg)
	record := func(m *sns.Message) json.RawMessage {
		b, _ := json.Marshal(m)
		// Lambda's spelling of two fields.
		b = bytes.Replace(b, []byte(`"SigningCertURL"`), []byte(`"SigningCertUrl"`), 1)
		return json.RawMessage(fmt.Sprintf(`{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","Sns":%s}]}`, b))
	}
	ctx := context.Background()
	if err := e.svc.LambdaHandler(ctx, record(m)); err != nil {
		t.Fatal(err)
	}
	if r := e.result(t); r.Err != nil || e.svc.Applied() != 100 || len(managed(e.fake, "cf")) != 1 {
		t.Fatalf("result %+v", r)
	}
	if err := e.svc.LambdaHandler(ctx, record(m)); err != nil {
		t.Errorf("a repeated notification is not an error: %v", err)
	}
	tampered := *m
	tampered.Message = notice(101, strings.Repeat("0", 32))
	if err := e.svc.LambdaHandler(ctx, record(&tampered)); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("tampered record: %v", err)
	}
	e.ranges.publish(101, cidrs("10.1.0.0", 12))
	if err := e.svc.LambdaHandler(ctx, json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event"}`)); err != nil {
		t.Errorf("scheduled poll: %v", err)
	}
	if r := e.result(t); r.Trigger != "schedule" || r.Err != nil || e.svc.Applied() != 101 {
		t.Errorf("poll result %+v", r)
	}
	if err := e.svc.LambdaHandler(ctx, json.RawMessage(`{"hello":1}`)); err == nil {
		t.Error("unknown event accepted")
	}
}

func TestParseNotification(t *testing.T) {
	n, err := ParseNotification(notice(1787411825, "63431D35877FA5386DED1A7DF9CFA971"))
	if err != nil || n.Token() != 1787411825 || n.MD5 != "63431d35877fa5386ded1a7df9cfa971" {
		t.Fatalf("%+v, %v", n, err)
	}
	for _, bad := range []string{``, `[]`, `{"synctoken":"x","md5":"63431d35877fa5386ded1a7df9cfa971"}`, `{"synctoken":"-1","md5":"63431d35877fa5386ded1a7df9cfa971"}`,
		`{"synctoken":"1","md5":"63431d"}`, `{"synctoken":"1","md5":"63431d35877fa5386ded1a7df9cfa971"} {}`} {
		if _, err := ParseNotification(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add(notice(1787411825, "63431d35877fa5386ded1a7df9cfa971"))
	f.Add(`{"synctoken":"1","md5":"00000000000000000000000000000000","extra":[1,2]}`)
	f.Fuzz(func(t *testing.T, msg string) {
		n, err := ParseNotification(msg)
		if err != nil {
			return
		}
		if n.Token() <= 0 || len(n.MD5) != 32 || strings.ToLower(n.MD5) != n.MD5 {
			t.Fatalf("accepted %+v", n)
		}
	})
}
