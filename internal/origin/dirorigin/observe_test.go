package dirorigin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// statuses is an origin.Observer that keeps the last status it was given.
type statuses struct {
	mu   sync.Mutex
	last int
}

func (s *statuses) ObserveCall(_ string, status int, _ time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = status
}

// TestRegression_ClientWriteErrorsAreNotOriginFailures: a write the folder refused
// because of what the client sent is observed with the client's status (the one the
// gateway answers), not 500; before, a key conflict (the client's 409) and every other
// typed write error counted as an origin failure, so clients could inflate the
// origin-error series. A write whose caller went away is StatusCanceled.
func TestRegression_ClientWriteErrorsAreNotOriginFailures(t *testing.T) {
	d, _ := openTemp(t)
	obs := &statuses{}
	d.SetObserver(obs)
	if _, err := put(d, "a/b", "x", origin.PutOptions{}); err != nil || obs.last != http.StatusOK {
		t.Fatalf("put: %v, status %d", err, obs.last)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		put  func() error
		want int
	}{
		{"key conflict", func() error { _, err := put(d, "a", "y", origin.PutOptions{}); return err }, http.StatusConflict},
		{"create-only exists", func() error { _, err := put(d, "a/b", "y", origin.PutOptions{IfNoneMatch: "*"}); return err }, http.StatusPreconditionFailed},
		{"checksum", func() error {
			_, err := put(d, "c", "the bodY", origin.PutOptions{Checksums: sums("the body")["md5"]})
			return err
		}, http.StatusBadRequest},
		{"size mismatch", func() error { _, err := put(d, "c", "short", origin.PutOptions{Size: 9}); return err }, http.StatusBadRequest},
		{"reserved key", func() error { _, err := put(d, tempPrefix+"x", "y", origin.PutOptions{}); return err }, http.StatusBadRequest},
		{"key too long", func() error {
			_, err := put(d, strings.Repeat("k", origin.MaxKeyBytes+1), "y", origin.PutOptions{})
			return err
		}, http.StatusRequestURITooLong},
		{"caller canceled", func() error {
			_, err := d.Put(canceled, "c", strings.NewReader("y"), origin.PutOptions{Size: 1})
			return err
		}, origin.StatusCanceled},
		{"client body failed", func() error { // TestRegression_ClientBodyFailureIsNotAnOriginError
			_, err := d.Put(context.Background(), "c", clientBodyFails{}, origin.PutOptions{Size: 9})
			return err
		}, origin.StatusCanceled},
	} {
		if err := tc.put(); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if obs.last != tc.want {
			t.Errorf("%s (%v): observed %d, want %d", tc.name, err, obs.last, tc.want)
		}
	}
}

// clientBodyFails is a request body whose client went away, as the gateway hands it on.
type clientBodyFails struct{}

func (clientBodyFails) Read([]byte) (int, error) {
	return 0, fmt.Errorf("%w: unexpected EOF", origin.ErrClientBody)
}
