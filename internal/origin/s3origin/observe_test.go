package s3origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// calls is an origin.Observer that keeps the statuses it was given.
type calls struct {
	mu     sync.Mutex
	status []int
}

func (c *calls) ObserveCall(_ string, status int, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = append(c.status, status)
}

func (c *calls) get() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.status...)
}

// silentS3 is an S3 endpoint that never answers: each request reports on arrived and
// waits until its connection goes.
func silentS3(t *testing.T) (string, chan struct{}) {
	arrived := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, arrived
}

// TestRegression_CanceledCallIsNotAnOriginError: a call whose caller gave up before S3
// answered (a client that disconnected from a slow origin) is reported as
// origin.StatusCanceled, which metrics label "canceled"; before, it was status 0, the
// "error" of an origin that failed, so any client could inflate the origin-error series.
// A call the bucket's own timeout ended is still an error (0).
func TestRegression_CanceledCallIsNotAnOriginError(t *testing.T) {
	bucket := func(t *testing.T, endpoint string, timeout time.Duration) (*Bucket, *calls) {
		b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: endpoint, Region: "us-east-1",
			PathStyle: true, MaxAttempts: 1, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, timeout)
		if err != nil {
			t.Fatal(err)
		}
		c := &calls{}
		b.SetObserver(c)
		return b, c
	}
	for _, op := range []string{"Get", "Head"} {
		t.Run("caller canceled "+op, func(t *testing.T) {
			endpoint, arrived := silentS3(t)
			b, c := bucket(t, endpoint, time.Minute)
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-arrived; cancel() }()
			var err error
			if op == "Get" {
				_, err = b.Get(ctx, "k", origin.GetOptions{})
			} else {
				_, err = b.Head(ctx, "k", origin.HeadOptions{})
			}
			if err == nil {
				t.Fatal("no error from a canceled call")
			}
			if got := c.get(); len(got) != 1 || got[0] != origin.StatusCanceled {
				t.Errorf("observed statuses %v, want [%d] (canceled)", got, origin.StatusCanceled)
			}
		})
	}
	t.Run("origin timeout", func(t *testing.T) {
		endpoint, _ := silentS3(t)
		b, c := bucket(t, endpoint, 100*time.Millisecond) // a real wait: the transport's own timers run too
		if _, err := b.Get(context.Background(), "k", origin.GetOptions{}); err == nil {
			t.Fatal("no error from a call S3 never answered")
		}
		if got := c.get(); len(got) != 1 || got[0] != 0 {
			t.Errorf("observed statuses %v, want [0] (error)", got)
		}
	})
}

// TestRegression_ClientBodyFailureIsNotAnOriginError: a PutObject whose streamed body
// failed on the client's side (the gateway wraps such failures in origin.ErrClientBody)
// was observed as status 0, an origin error, against a real MinIO.
func TestRegression_ClientBodyFailureIsNotAnOriginError(t *testing.T) {
	b := newBucket(t)
	c := &calls{}
	b.SetObserver(c)
	r := io.MultiReader(strings.NewReader("the first bytes"), failingBody{})
	_, err := b.Put(context.Background(), "k", r, origin.PutOptions{Size: 1000})
	if !errors.Is(err, origin.ErrClientBody) {
		t.Fatalf("Put: %v, want origin.ErrClientBody in the chain", err)
	}
	got := c.get()
	if len(got) == 0 {
		t.Fatal("no call observed")
	}
	for _, s := range got {
		if s != origin.StatusCanceled {
			t.Errorf("observed statuses %v, want only %d (canceled)", got, origin.StatusCanceled)
			break
		}
	}
}

// failingBody is a request body whose client went away, as the gateway hands it on.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) {
	return 0, fmt.Errorf("%w: unexpected EOF", origin.ErrClientBody)
}
