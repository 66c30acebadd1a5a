package s3origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// startMinIO returns the shared MinIO, skipping the test without one.
func startMinIO(t *testing.T) *testenv.MinIO {
	t.Helper()
	minioOnce.Do(func() { minio, minioErr = testenv.StartMinIO() })
	if errors.Is(minioErr, testenv.ErrNoMinIO) {
		t.Skip(minioErr)
	}
	if minioErr != nil {
		t.Fatal(minioErr)
	}
	return minio
}

// probeOf builds a Bucket from c (one attempt, timeout d) and probes it.
func probeOf(t *testing.T, c config.S3Origin, d time.Duration) error {
	t.Helper()
	c.PathStyle, c.MaxAttempts = true, 1
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	b, err := New(context.Background(), &c, d)
	if err != nil {
		t.Fatal(err)
	}
	return b.Probe(context.Background())
}

// wantReason checks a probe's classification and that its message has each of want.
func wantReason(t *testing.T, err error, reason string, want ...string) {
	t.Helper()
	pe, ok := probe.Of(err)
	if !ok {
		t.Fatalf("probe error %v is not classified (want %s)", err, reason)
	}
	if pe.Reason != reason {
		t.Fatalf("reason %q (%s), want %q; cause: %v", pe.Reason, pe.Message, reason, err)
	}
	for _, w := range want {
		if !strings.Contains(pe.Message, w) {
			t.Errorf("message %q lacks %q", pe.Message, w)
		}
	}
	if !errors.Is(err, origin.ErrUnavailable) && !errors.Is(err, origin.ErrTimeout) {
		t.Errorf("%v wraps neither ErrUnavailable nor ErrTimeout", err)
	}
}

// TestProbeMinIO: each failure a real MinIO (or a real socket) can produce is
// classified, and the message names the bucket, endpoint or access key but no secret.
func TestProbeMinIO(t *testing.T) {
	m := startMinIO(t)
	m.CreateBucket(t, "probe-files")
	good := config.S3Origin{Bucket: "probe-files", Endpoint: m.Endpoint, AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey}

	t.Run("ok", func(t *testing.T) {
		if err := probeOf(t, good, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong secret key", func(t *testing.T) {
		c := good
		c.SecretAccessKey = "not-the-secret-at-all"
		err := probeOf(t, c, 10*time.Second)
		wantReason(t, err, probe.WrongSecretKey, "the secret key is wrong for access key "+m.AccessKey, "SignatureDoesNotMatch")
		if pe, _ := probe.Of(err); strings.Contains(pe.Message, c.SecretAccessKey) {
			t.Errorf("message prints the secret: %s", pe.Message)
		}
	})
	t.Run("unknown access key", func(t *testing.T) {
		c := good
		c.AccessKeyID = "AKIANOBODYKNOWS"
		wantReason(t, probeOf(t, c, 10*time.Second), probe.UnknownAccessKey, "AKIANOBODYKNOWS", m.Endpoint, "InvalidAccessKeyId")
	})
	t.Run("missing bucket", func(t *testing.T) {
		c := good
		c.Bucket = "files"
		wantReason(t, probeOf(t, c, 10*time.Second), probe.BucketMissing, fmt.Sprintf("bucket \"files\" does not exist at %s", m.Endpoint))
	})
	t.Run("connection refused", func(t *testing.T) {
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		c := good
		c.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
		wantReason(t, probeOf(t, c, 10*time.Second), probe.ConnectionRefused, "nothing is listening at "+c.Endpoint)
	})
	t.Run("https to a plain http port", func(t *testing.T) {
		c := good
		c.Endpoint = strings.Replace(m.Endpoint, "http://", "https://", 1)
		wantReason(t, probeOf(t, c, 10*time.Second), probe.TLSError, c.Endpoint, "does not speak TLS")
	})
	t.Run("no credentials", func(t *testing.T) {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
			"AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
			"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"} {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
		c := good
		c.AccessKeyID, c.SecretAccessKey = "", ""
		wantReason(t, probeOf(t, c, 10*time.Second), probe.NoCredentials, `bucket "probe-files"`, "access_key_id")
	})
}

// TestProbeTLSCertificate: an https endpoint whose certificate is not trusted.
func TestProbeTLSCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	err := probeOf(t, config.S3Origin{Bucket: "b", Endpoint: srv.URL, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 10*time.Second)
	wantReason(t, err, probe.TLSError, "the TLS certificate of "+srv.URL+" is not accepted", "unknown authority")
}

// TestProbeTimeout: a listener that accepts connections and never answers.
func TestProbeTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	endpoint := "http://" + l.Addr().String()
	err = probeOf(t, config.S3Origin{Bucket: "b", Endpoint: endpoint, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 300*time.Millisecond)
	wantReason(t, err, probe.Timeout, "no answer from "+endpoint+" within 300ms")
}

// fakeS3 answers every GET with status and an S3 error document, and ListObjectsV2 with
// listStatus (200: an empty listing).
func fakeS3(t *testing.T, status int, code, msg string, header map[string]string, listStatus int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("list-type") {
			if listStatus == http.StatusOK {
				w.Header().Set("Content-Type", "application/xml")
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
				return
			}
			w.WriteHeader(listStatus)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestProbeClassifiesS3Answers: answers MinIO cannot be made to give (AWS's regions and
// its detailed AccessDenied messages) from an in-process fake.
func TestProbeClassifiesS3Answers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		code, msg  string
		header     map[string]string
		listStatus int
		reason     string // "": the probe passes
		want       []string
	}{
		{"permanent redirect", 301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.",
			map[string]string{"X-Amz-Bucket-Region": "eu-west-1"}, 403, probe.WrongRegion, []string{`bucket "b" is in region eu-west-1, not us-east-1`}},
		{"authorization header malformed", 400, "AuthorizationHeaderMalformed", "the region 'us-east-1' is wrong; expecting 'eu-west-1'",
			nil, 403, probe.WrongRegion, []string{"expecting 'eu-west-1'"}},
		{"get denied by policy", 403, "AccessDenied", "User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/.gatehouse-readiness-probe because no identity-based policy allows the s3:GetObject action",
			nil, 403, probe.AccessDenied, []string{"access key AKIAEXAMPLE may not read bucket \"b\"", "AccessDenied"}},
		{"missing key without ListBucket", 403, "AccessDenied", "User: arn:aws:iam::1:user/x is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b because no identity-based policy allows the s3:ListBucket action",
			nil, 200, "", nil},
		{"bare AccessDenied, listing allowed", 403, "AccessDenied", "Access Denied", nil, 200, probe.AccessDenied, []string{"may not read"}},
		{"bare AccessDenied, listing denied too", 403, "AccessDenied", "Access Denied", nil, 403, "", nil},
		{"clock skew", 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", nil, 403, probe.ClockSkew, []string{"clock"}},
		{"expired token", 400, "ExpiredToken", "The provided token has expired.", nil, 403, probe.ExpiredCredentials, []string{"ExpiredToken"}},
		{"other code", 501, "NotImplemented", "A header you provided implies functionality that is not implemented", nil, 403, probe.Other, []string{"NotImplemented", "HTTP 501", `bucket "b"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := fakeS3(t, tc.status, tc.code, tc.msg, tc.header, tc.listStatus)
			err := probeOf(t, config.S3Origin{Bucket: "b", Endpoint: u, AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "sekrit"}, 10*time.Second)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("probe failed: %v", err)
				}
				return
			}
			wantReason(t, err, tc.reason, tc.want...)
			if pe, _ := probe.Of(err); strings.Contains(pe.Message, "sekrit") {
				t.Errorf("message prints the secret: %s", pe.Message)
			}
		})
	}
}

// TestProbeDNSNotFound: a host name that cannot resolve (.invalid is reserved for that,
// RFC 2606); the resolver answers without leaving the machine when it has no network.
func TestProbeDNSNotFound(t *testing.T) {
	err := probeOf(t, config.S3Origin{Bucket: "b", Endpoint: "http://gatehouse-probe.invalid", AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 10*time.Second)
	pe, ok := probe.Of(err)
	if !ok {
		t.Fatalf("unclassified: %v", err)
	}
	if pe.Reason != probe.DNSNotFound && pe.Reason != probe.Unreachable {
		t.Fatalf("reason %q (%s), want dns_not_found", pe.Reason, pe.Message)
	}
	if !strings.Contains(pe.Message, "gatehouse-probe.invalid") {
		t.Errorf("message %q does not name the host", pe.Message)
	}
}
