package s3origin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"runtime/debug"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestBudget: take gives at once what is free, refuses with ErrBusy what is not (without
// waiting), refuses with ErrTooLarge more than the whole budget, and release (even
// twice) gives back exactly what was taken.
func TestBudget(t *testing.T) {
	b := NewBudget(100)
	r1, err := b.take(60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.take(41); !errors.Is(err, origin.ErrBusy) {
		t.Fatalf("take over the rest: %v, want ErrBusy", err)
	}
	r2, err := b.take(40)
	if err != nil {
		t.Fatalf("take of the rest: %v", err)
	}
	if _, err := b.take(101); !errors.Is(err, origin.ErrTooLarge) {
		t.Fatalf("take over the budget: %v, want ErrTooLarge", err)
	}
	r1()
	r1() // a second release gives nothing back
	if _, err := b.take(61); !errors.Is(err, origin.ErrBusy) {
		t.Fatalf("after a double release: %v, want ErrBusy", err)
	}
	r3, err := b.take(60)
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	if r, err := b.take(100); err != nil {
		t.Fatalf("all released: %v", err)
	} else {
		r()
	}
}

// TestRegression_UploadBuffersUnbounded: streamed uploads took their part buffers (up to
// 16 MiB each) without any limit across uploads, so stalled chunked PUTs could hold any
// amount of memory. With a budget of one multipart upload, a second chunked upload past
// the first buffer fails with ErrBusy (stores nothing, leaves no upload open) while the
// first holds its buffers; a known-size upload up to 16 MiB takes nothing from the
// budget and succeeds meanwhile; once the first ends, the second succeeds.
func TestRegression_UploadBuffersUnbounded(t *testing.T) {
	b := newBucket(t)
	b.UseBudget(NewBudget(2 * minPartSize))
	ctx := context.Background()

	// The first upload: chunked, past its first part, then held open.
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := b.Put(ctx, "first", pr, origin.PutOptions{Size: -1})
		first <- err
	}()
	part := body(minPartSize + 1)
	if _, err := pw.Write(part); err != nil { // returns once Put has read it all
		t.Fatal(err)
	}

	second := body(minPartSize + 5)
	if _, err := b.Put(ctx, "second", bytes.NewReader(second), origin.PutOptions{Size: -1}); !errors.Is(err, origin.ErrBusy) {
		t.Fatalf("chunked upload beyond the budget: %v, want ErrBusy", err)
	}
	if _, _, ok := content(t, b, "second"); ok {
		t.Error("a refused upload stored an object")
	}
	small := body(16 << 20)
	if _, err := b.Put(ctx, "small", bytes.NewReader(small), origin.PutOptions{Size: int64(len(small))}); err != nil {
		t.Fatalf("known-size upload of 16 MiB while the budget is held: %v", err)
	}
	large := body(16<<20 + 1)
	if _, err := b.Put(ctx, "large", bytes.NewReader(large), origin.PutOptions{Size: int64(len(large))}); !errors.Is(err, origin.ErrBusy) {
		t.Fatalf("known-size multipart upload beyond the budget: %v, want ErrBusy", err)
	}

	pw.Close()
	if err := <-first; err != nil {
		t.Fatalf("first upload: %v", err)
	}
	if _, err := b.Put(ctx, "second", bytes.NewReader(second), origin.PutOptions{Size: -1}); err != nil {
		t.Fatalf("chunked upload once the budget is free: %v", err)
	}
	for key, want := range map[string][]byte{"first": part, "second": second, "small": small} {
		if got, _, ok := content(t, b, key); !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: stored %d bytes (found %v), want %d", key, len(got), ok, len(want))
		}
	}
	if n := openUploads(t, b); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
}

// TestUploadMemory: the shared budget is a quarter of the Go memory limit, at least one
// multipart upload's buffers and at most DefaultUploadMemory.
func TestUploadMemory(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{
		{math.MaxInt64, DefaultUploadMemory},
		{8 << 30, DefaultUploadMemory},
		{512 << 20, 128 << 20},
		{192 << 20, 48 << 20}, // a 64 MiB memory cache: 64 MiB + 128 MiB
		{32 << 20, 16 << 20},
	} {
		if got := uploadMemory(c.limit); got != c.want {
			t.Errorf("limit %d: %d, want %d", c.limit, got, c.want)
		}
	}
	if got := shared().size; got != uploadMemory(debug.SetMemoryLimit(-1)) {
		t.Errorf("shared budget %d", got)
	}
}
