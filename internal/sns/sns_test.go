package sns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/sns"
	"github.com/gatehouse-dev/gatehouse/internal/sns/snstest"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const topic = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"

func TestVerify(t *testing.T) {
	srv := snstest.New(t)
	v := srv.Verifier(t, topic)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		msg    func() *sns.Message
		reason error // nil: accepted
	}{
		{"SignatureVersion 1", func() *sns.Message { return srv.Notification(topic, "hello") }, nil},
		{"SignatureVersion 2", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			srv.Sign(m, "2")
			return m
		}, nil},
		{"no Subject", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.Subject, m.HasSubject = "", false
			srv.Sign(m, "1")
			return m
		}, nil},
		{"subscription confirmation", func() *sns.Message { return srv.Confirmation(topic) }, nil},
		{"tampered message", func() *sns.Message {
			m := srv.Notification(topic, `{"synctoken":"1"}`)
			m.Message = `{"synctoken":"2"}`
			return m
		}, sns.ErrSignature},
		{"tampered subject", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.Subject = "other"
			return m
		}, sns.ErrSignature},
		{"subject removed", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.HasSubject = false
			return m
		}, sns.ErrSignature},
		{"signed as 2, claims 1", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			srv.Sign(m, "2")
			m.SignatureVersion = "1"
			return m
		}, sns.ErrSignature},
		{"wrong topic", func() *sns.Message {
			return srv.Notification("arn:aws:sns:us-east-1:123456789012:Other", "hello")
		}, sns.ErrTopic},
		{"SignatureVersion 3", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			srv.Sign(m, "3")
			return m
		}, sns.ErrSignatureVersion},
		{"non-https certificate URL", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.SigningCertURL = strings.Replace(m.SigningCertURL, "https://", "http://", 1)
			srv.Sign(m, "1")
			return m
		}, sns.ErrCertURL},
		{"certificate URL not .pem", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.SigningCertURL = srv.URL + "/confirm"
			srv.Sign(m, "1")
			return m
		}, sns.ErrCertURL},
		{"certificate on another host", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.SigningCertURL = "https://sns.us-east-1.amazonaws.com.example.net/SimpleNotificationService-x.pem"
			srv.Sign(m, "1")
			return m
		}, sns.ErrCertURL},
		{"signature not base64", func() *sns.Message {
			m := srv.Notification(topic, "hello")
			m.Signature = "!!!"
			return m
		}, sns.ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Verify(ctx, tc.msg())
			if tc.reason == nil && err != nil || tc.reason != nil && !errors.Is(err, tc.reason) {
				t.Errorf("Verify = %v, want %v", err, tc.reason)
			}
		})
	}
	if n := srv.CertFetches(); n != 1 {
		t.Errorf("certificate fetched %d times, want once (cached)", n)
	}
}

// TestCheckURL checks the production rules: the test host seam must not loosen them.
func TestCheckURL(t *testing.T) {
	prod, err := sns.NewVerifier(sns.Options{Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	withSeam, err := sns.NewVerifier(sns.Options{Topics: []string{topic}, TestHost: "127.0.0.1:8443"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem", true},
		{"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem", true},
		{"https://sns.us-gov-west-1.amazonaws.com/x.pem", true},
		{"http://sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com/x.crt", false},
		{"https://sns.us-east-1.amazonaws.com:8443/x.pem", false},
		{"https://user@sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com.evil.example/x.pem", false},
		{"https://evil.example/sns.us-east-1.amazonaws.com/x.pem", false},
		{"https://sqs.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.ab.amazonaws.com/x.pem", false},
		{"https://sns.us_east.amazonaws.com/x.pem", false},
		{"https://127.0.0.1:8443/x.pem", false}, // only the verifier with the seam
		{"not a url\x7f", false},
	} {
		if err := prod.CheckURL(tc.url, true); (err == nil) != tc.ok {
			t.Errorf("production CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		want := tc.ok || tc.url == "https://127.0.0.1:8443/x.pem"
		if err := withSeam.CheckURL(tc.url, true); (err == nil) != want {
			t.Errorf("test CheckURL(%q) = %v, want ok=%v", tc.url, err, want)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8443/x.pem", "https://127.0.0.1:9999/x.pem", "https://127.0.0.1:8443/x.txt"} {
		if withSeam.CheckURL(u, true) == nil {
			t.Errorf("the test seam accepted %q", u)
		}
	}
	for _, host := range []string{"10.0.0.1:443", "example.com:443", "127.0.0.1", "localhost:443", "[::1]"} {
		if _, err := sns.NewVerifier(sns.Options{Topics: []string{topic}, TestHost: host}); err == nil {
			t.Errorf("TestHost %q accepted", host)
		}
	}
}

func TestParse(t *testing.T) {
	data, err := os.ReadFile(testenv.SharedTestdata(t, "aws", "sns-ipspacechanged-notification.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sns.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != sns.TypeNotification || m.TopicARN != topic || !m.HasSubject || !strings.Contains(m.Message, "63431d35877fa5386ded1a7df9cfa971") {
		t.Errorf("parsed %+v", m)
	}
	want := "Message\n" + m.Message + "\nMessageId\n" + m.MessageID + "\nSubject\n" + m.Subject + "\nTimestamp\n" + m.Timestamp + "\nTopicArn\n" + topic + "\nType\nNotification\n"
	if got := m.StringToSign(); got != want {
		t.Errorf("StringToSign:\n%q\nwant\n%q", got, want)
	}
	lambda := `{"Type":"Notification","MessageId":"1","TopicArn":"t","Subject":null,"Message":"m","Timestamp":"x",
		"SignatureVersion":"1","Signature":"s","SigningCertUrl":"https://sns.us-east-1.amazonaws.com/a.pem","UnsubscribeUrl":"u",
		"MessageAttributes":{"a":{"Type":"String","Value":"b"}}}`
	if m, err := sns.Parse([]byte(lambda)); err != nil || m.HasSubject || m.SigningCertURL == "" || m.UnsubscribeURL != "u" {
		t.Errorf("Lambda spelling: %+v, %v", m, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"not an object", `[]`, "not a JSON object"},
		{"number field", `{"Type":1}`, "Type: want a string"},
		{"both spellings", `{"SigningCertURL":"a","SigningCertUrl":"b"}`, "given twice"},
		{"duplicate", `{"Message":"a","Message":"b"}`, "given twice"},
		{"trailing data", `{"Type":"Notification"} {}`, "data after the object"},
		{"unknown type", `{"Type":"Other","MessageId":"1"}`, "unknown Type"},
		{"missing signature", `{"Type":"Notification","MessageId":"1","TopicArn":"t","Message":"m","Timestamp":"x","SignatureVersion":"1","SigningCertURL":"u"}`, "missing Signature"},
		{"confirmation without token", `{"Type":"SubscriptionConfirmation","MessageId":"1","TopicArn":"t","Message":"m","Timestamp":"x","SignatureVersion":"1","Signature":"s","SigningCertURL":"u","SubscribeURL":"s"}`, "missing Token"},
		{"too large", `{"Message":"` + strings.Repeat("a", sns.MaxMessageSize) + `"}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sns.Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	srv := snstest.New(t)
	logs := &testenv.SyncBuffer{}
	var got []*sns.Message
	h := &sns.Handler{
		Verifier: srv.Verifier(t, topic),
		Notify: func(_ context.Context, m *sns.Message) error {
			got = append(got, m)
			if m.Message == "fail" {
				return errors.New("boom")
			}
			return nil
		},
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	}
	post := func(m *sns.Message, header string) int {
		body, _ := json.Marshal(m)
		r := httptest.NewRequest(http.MethodPost, "/sns", bytes.NewReader(body))
		if header != "" {
			r.Header.Set("x-amz-sns-message-type", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, tc := range []struct {
		name   string
		msg    *sns.Message
		header string
		code   int
		log    string
	}{
		{"notification", srv.Notification(topic, "ok"), sns.TypeNotification, 200, ""},
		{"notification that fails: SNS retries", srv.Notification(topic, "fail"), "", 500, "notification not processed"},
		{"confirmation", srv.Confirmation(topic), sns.TypeSubscriptionConfirmation, 200, "confirmed the SNS subscription"},
		{"confirmation of another topic", srv.Confirmation("arn:aws:sns:us-east-1:123456789012:Other"), "", 403, "refused SNS message: topic not allowed"},
		{"header disagrees", srv.Notification(topic, "ok"), sns.TypeSubscriptionConfirmation, 400, "header and body disagree"},
		{"tampered", func() *sns.Message { m := srv.Notification(topic, "ok"); m.Message = "ko"; return m }(), "", 403, "refused SNS message: bad signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := post(tc.msg, tc.header); code != tc.code {
				t.Errorf("status %d, want %d", code, tc.code)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, logs)
			}
		})
	}
	if len(got) != 2 || got[0].Message != "ok" {
		t.Errorf("notified %d messages", len(got))
	}
	if c := srv.Confirmations(); len(c) != 1 || c[0] != topic {
		t.Errorf("confirmations %v, want one for the allowed topic", c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sns", nil))
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/sns", strings.NewReader("hello")))
	if w.Code != 400 {
		t.Errorf("garbage: %d", w.Code)
	}
}

// TestCertificateExpiry: an expired certificate is refused, and a cached one is
// fetched again once it expires.
func TestCertificateExpiry(t *testing.T) {
	srv := snstest.New(t)
	now := time.Now()
	v, err := sns.NewVerifier(sns.Options{Topics: []string{topic}, HTTPClient: srv.Client(), TestHost: srv.TestHost(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(context.Background(), srv.Notification(topic, "a")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	if err := v.Verify(context.Background(), srv.Notification(topic, "a")); !errors.Is(err, sns.ErrCertificate) {
		t.Errorf("expired certificate: %v", err)
	}
	if srv.CertFetches() != 2 {
		t.Errorf("%d fetches", srv.CertFetches())
	}
}
