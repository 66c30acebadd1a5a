package gateway

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// trickle is a body that yields per bytes on each read, taking wait of the fake clock
// to do it, for total bytes; a read that would end after *deadline (when set) fails
// at the deadline, as a connection's does.
type trickle struct {
	clock, deadline *time.Time
	per, total      int
	wait            time.Duration
	sent            int
}

func (r *trickle) Read(p []byte) (int, error) {
	if r.sent >= r.total {
		return 0, io.EOF
	}
	if end := r.clock.Add(r.wait); !r.deadline.IsZero() && end.After(*r.deadline) {
		*r.clock = *r.deadline
		return 0, fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
	}
	*r.clock = r.clock.Add(r.wait)
	n := min(len(p), r.per, r.total-r.sent)
	r.sent += n
	return n, nil
}

// readAll reads b to its end, letting pause pass between reads (the origin being
// written).
func readAll(b *limitedBody, pause time.Duration, clock *time.Time) (int64, error) {
	buf := make([]byte, 1<<20)
	for {
		_, err := b.Read(buf)
		if err == io.EOF {
			return b.n, nil
		}
		if err != nil {
			return b.n, err
		}
		*clock = clock.Add(pause)
	}
}

// TestRegression_UploadTrickleHoldsBuffers: a body's stall timer restarted on every
// read, so a client sending a byte every 59 s held its upload (and its part buffers)
// forever. The body must now deliver minBytes within each window of waiting: a
// trickle is cut with errBodyStalled once a window passes short of it, however often
// bytes come; a body that keeps the rate, however long, is read whole, and time spent
// between reads (writing to the origin) does not count against the client. Each read
// waits under a deadline that ends when the current window does.
func TestRegression_UploadTrickleHoldsBuffers(t *testing.T) {
	const window, minBytes = 60 * time.Second, 256 << 10
	for _, c := range []struct {
		name        string
		per         int
		wait, pause time.Duration
		total       int
		stalled     bool
	}{
		{"a byte every 59s", 1, 59 * time.Second, 0, 1 << 20, true},
		{"nearly the rate", minBytes / 8, 8 * time.Second, 0, 8 << 20, true},
		{"the rate exactly", minBytes / 4, 15 * time.Second, 0, 8 << 20, false},
		{"fast", 64 << 10, time.Millisecond, 0, 64 << 20, false},
		{"fast client, slow origin", 1 << 20, time.Second, 10 * time.Minute, 16 << 20, false},
		{"small body, slowly", 1000, 50 * time.Second, 0, 1000, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock, deadline := time.Unix(0, 0), time.Time{}
			var deadlines []time.Duration // each deadline as an offset from the read's start
			b := &limitedBody{
				r:   &trickle{clock: &clock, deadline: &deadline, per: c.per, total: c.total, wait: c.wait},
				max: 1 << 40, window: window, minBytes: minBytes, now: func() time.Time { return clock },
				deadline: func(d time.Time) {
					deadline = d
					if !d.IsZero() {
						deadlines = append(deadlines, d.Sub(clock))
					}
				},
			}
			n, err := readAll(b, c.pause, &clock)
			if c.stalled {
				if !errors.Is(err, errBodyStalled) || !errors.Is(b.err, errBodyStalled) {
					t.Fatalf("read %d bytes, err %v: want errBodyStalled", n, err)
				}
				if elapsed := clock.Sub(time.Unix(0, 0)); elapsed > window+c.wait {
					t.Errorf("cut after %v, want within a window (%v)", elapsed, window)
				}
			} else if err != nil || n != int64(c.total) {
				t.Fatalf("read %d of %d bytes: %v", n, c.total, err)
			}
			for _, d := range deadlines {
				if d <= 0 || d > window {
					t.Fatalf("read deadline %v after the read's start, want within (0, %v]", d, window)
				}
			}
		})
	}
}

// TestBodyStalledByDeadline: a read that the connection's deadline ends is the body
// stalling (errBodyStalled, a client error), not a failure of the origin.
func TestBodyStalledByDeadline(t *testing.T) {
	b := &limitedBody{r: iotest{fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)}, max: 10, window: time.Minute, minBytes: 1,
		deadline: func(time.Time) {}}
	if _, err := b.Read(make([]byte, 4)); !errors.Is(err, errBodyStalled) {
		t.Fatalf("%v, want errBodyStalled", err)
	}
	if got := statusFor(t.Context(), &bodyError{err: b.err}); got != 400 {
		t.Errorf("status %d, want 400", got)
	}
	if got := statusFor(t.Context(), fmt.Errorf("s3: %w", origin.ErrBusy)); got != 503 {
		t.Errorf("ErrBusy: status %d, want 503", got)
	}
}
