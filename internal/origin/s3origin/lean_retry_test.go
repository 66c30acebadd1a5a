package s3origin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// scripted is an HTTP client that answers from a script, one step per request: a status
// with an S3 error code ("" for a 200 with a body), or a transport failure.
type scripted struct {
	mu    sync.Mutex
	steps []step
	sent  int
	// onSend, when set, runs as each request is sent (a test cancels its caller there).
	onSend func(n int)
}

type step struct {
	status int
	code   string
	fail   error
}

func (s *scripted) Do(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	n := s.sent
	s.sent++
	st := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	if s.onSend != nil {
		s.onSend(n)
	}
	if st.fail != nil {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: st.fail}
	}
	resp := &http.Response{StatusCode: st.status, Header: http.Header{}, Request: req, ProtoMajor: 1, ProtoMinor: 1}
	body := "ok"
	if st.code != "" {
		body = errDoc(st.code, "scripted "+st.code)
		resp.Header.Set("Content-Type", "application/xml")
	}
	resp.Header.Set("Content-Length", "2")
	resp.Body = io.NopCloser(strings.NewReader(body))
	return resp, nil
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// TestLeanRetries: the lean path retries what the SDK retries (5xx, throttling, a
// connection reset), as often as max_attempts allows, and nothing else; each attempt is
// observed. Both paths run the same script under a fake clock (the SDK's backoff
// sleeps), and must agree on the outcome and the number of attempts.
func TestLeanRetries(t *testing.T) {
	reset := step{fail: syscall.ECONNRESET}
	for _, tc := range []struct {
		name        string
		maxAttempts int
		steps       []step
		attempts    int
		status      int // origin.StatusOf
		observed    []int
	}{
		{"slow down twice, then the object", 3, []step{{503, "SlowDown", nil}, {503, "SlowDown", nil}, {200, "", nil}}, 3, 200, []int{503, 503, 200}},
		{"slow down past max_attempts", 3, []step{{503, "SlowDown", nil}}, 3, 500, []int{503, 503, 503}},
		{"internal error, max_attempts 1", 1, []step{{500, "InternalError", nil}}, 1, 500, []int{500}},
		{"bad gateway, then the object", 2, []step{{502, "BadGateway", nil}, {200, "", nil}}, 2, 200, []int{502, 200}},
		{"connection reset, then the object", 3, []step{reset, {200, "", nil}}, 2, 200, []int{0, 200}},
		{"no such key is not retried", 3, []step{{404, "NoSuchKey", nil}}, 1, 404, []int{404}},
		{"access denied is not retried", 3, []step{{403, "AccessDenied", nil}}, 1, 404, []int{403}},
		{"precondition failed is not retried", 3, []step{{412, "PreconditionFailed", nil}}, 1, 412, []int{412}},
		{"request timeout is retried", 2, []step{{400, "RequestTimeout", nil}, {200, "", nil}}, 2, 200, []int{400, 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var outcomes [2]outcome
			var attempts [2]int
			for i, lean := range []bool{true, false} {
				synctest.Test(t, func(t *testing.T) {
					b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: "http://s3.test", PathStyle: true,
						MaxAttempts: tc.maxAttempts, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 5*time.Minute)
					if err != nil {
						t.Fatal(err)
					}
					c := &calls{}
					b.SetObserver(c)
					fake := &scripted{steps: tc.steps}
					useClient(b, fake, lean)
					obj, err := b.Get(context.Background(), "k", origin.GetOptions{})
					outcomes[i] = outcomeOf(obj, origin.Info{}, err, c.get())
					attempts[i] = fake.count()
				})
			}
			if attempts[0] != tc.attempts || outcomes[0].Status != tc.status || !reflect.DeepEqual(outcomes[0].Observed, tc.observed) {
				t.Errorf("lean path: %d attempts, status %d, observed %v; want %d, %d, %v",
					attempts[0], outcomes[0].Status, outcomes[0].Observed, tc.attempts, tc.status, tc.observed)
			}
			if attempts[0] != attempts[1] || !reflect.DeepEqual(outcomes[0], outcomes[1]) {
				t.Errorf("lean path: %d attempts\n%+v\nSDK: %d attempts\n%+v", attempts[0], outcomes[0], attempts[1], outcomes[1])
			}
		})
	}
}

// TestLeanRetryCanceled: a caller that gives up while the lean path waits to retry gets
// context.Canceled at once, and no further attempt is made.
func TestLeanRetryCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: "http://s3.test", PathStyle: true,
			MaxAttempts: 5, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		fake := &scripted{steps: []step{{503, "SlowDown", nil}}, onSend: func(int) { cancel() }}
		useClient(b, fake, true)
		_, err = b.Get(ctx, "k", origin.GetOptions{})
		if !errors.Is(err, context.Canceled) || origin.StatusOf(err) != origin.StatusCanceled {
			t.Errorf("err %v, want context.Canceled", err)
		}
		if n := fake.count(); n != 1 {
			t.Errorf("%d attempts after the caller left, want 1", n)
		}
	})
}

// useClient makes b send through client: on the lean path, or (lean false) on the SDK's
// with the same options as New gave it.
func useClient(b *Bucket, client httpDoer, lean bool) {
	if lean {
		b.lean.http = client
		return
	}
	b.lean = nil
	b.client = s3.New(b.client.Options(), func(o *s3.Options) { o.HTTPClient = tracedClient{next: client} })
}

// skewedS3 is an S3 whose clock is an hour ahead: it refuses requests signed more than
// 5 minutes from its time with RequestTimeTooSkewed, and dates every answer by its clock.
type skewedS3 struct {
	mu   sync.Mutex
	sent int
}

func (s *skewedS3) Do(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.sent++
	s.mu.Unlock()
	now := time.Now().Add(time.Hour)
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: req, Body: io.NopCloser(strings.NewReader("ok"))}
	resp.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	signed, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	if err != nil || signed.Sub(now).Abs() > 5*time.Minute {
		resp.StatusCode = 403
		resp.Body = io.NopCloser(strings.NewReader(errDoc("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")))
	}
	return resp, nil
}

func (s *skewedS3) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// TestLeanClockSkew: against an S3 whose clock is an hour off, the lean path, as the
// SDK's, retries the refused first request signed at the server's time, and signs the
// next call at that time from the start.
func TestLeanClockSkew(t *testing.T) {
	for _, lean := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: "http://s3.test", PathStyle: true,
				MaxAttempts: 3, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			fake := &skewedS3{}
			useClient(b, fake, lean)
			for call, want := range []int{2, 3} { // attempts so far: two for the first call, one more for the second
				obj, err := b.Get(context.Background(), "k", origin.GetOptions{})
				if err != nil {
					t.Fatalf("lean %v, call %d: %v", lean, call, err)
				}
				obj.Body.Close()
				if n := fake.count(); n != want {
					t.Errorf("lean %v, call %d: %d attempts so far, want %d", lean, call, n, want)
				}
			}
		})
	}
}
