package s3origin

import (
	"fmt"
	"runtime/debug"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// DefaultUploadMemory is the most the process-wide Budget holds: 256 MiB, sixteen
// multipart uploads of unknown or large size at once (two 8 MiB part buffers each), or
// 4096 small uploads of unknown size (a 64 KiB buffer each). See uploadMemory.
const DefaultUploadMemory = 256 << 20

// shared is the Budget of every Bucket of the process, across reloads: the memory it
// bounds is the process's, whatever the configuration. It is made on first use (the
// first streamed upload), after the server has set the Go memory limit, and sized from
// that limit (uploadMemory); a later change of the limit (a reload) does not resize it.
var shared = sync.OnceValue(func() *Budget { return NewBudget(uploadMemory(debug.SetMemoryLimit(-1))) })

// uploadMemory is the size of the shared Budget under a Go memory limit: a quarter of
// it, between one multipart upload's buffers (16 MiB) and DefaultUploadMemory. Without
// a limit (math.MaxInt64) that is DefaultUploadMemory. A limit derived from the cache
// (cache size plus at least 128 MiB) thus leaves the budget within the headroom above
// the cache; a GOMEMLIMIT of 512 MiB gives 128 MiB.
func uploadMemory(limit int64) int64 {
	return min(max(limit/4, 2*minPartSize), DefaultUploadMemory)
}

// Budget bounds the memory that Put's buffers take across uploads (a body of unknown
// size is read into a buffer first; a multipart upload holds two part buffers).
// An upload takes its buffers from the budget before it allocates them and gives them
// back when Put returns; when the budget cannot give them at once, Put fails with
// origin.ErrBusy rather than wait (the client may retry), so that neither memory nor
// waiting uploads grow without bound. A body of known size up to 16 MiB streams
// without a buffer and takes nothing from the budget.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
}

// NewBudget returns a Budget of size bytes.
func NewBudget(size int64) *Budget {
	return &Budget{sem: semaphore.NewWeighted(size), size: size}
}

// take reserves n bytes; release gives them back and may be called more than once.
// It fails with origin.ErrBusy when other uploads hold too much of the budget, and with
// origin.ErrTooLarge when n is more than the whole budget (an object so large that its
// parts are bigger than a half of it: past 10,000 parts of 8 MiB, about 78 GiB, the part
// size grows with the object).
func (b *Budget) take(n int64) (release func(), err error) {
	if n > b.size {
		return nil, fmt.Errorf("%w: the upload needs %d bytes of part buffers, more than the %d gatehouse gives all uploads",
			origin.ErrTooLarge, n, b.size)
	}
	if !b.sem.TryAcquire(n) {
		return nil, fmt.Errorf("%w: the memory for upload buffers (%d bytes) is held by other uploads", origin.ErrBusy, b.size)
	}
	var once sync.Once
	return func() { once.Do(func() { b.sem.Release(n) }) }, nil
}

// UseBudget makes b's uploads take their buffers from budget instead of the process's
// shared one (tests; a nil budget restores the shared one).
func (b *Bucket) UseBudget(budget *Budget) { b.budget = budget }

// buffers is the Budget b's uploads take their buffers from.
func (b *Bucket) buffers() *Budget {
	if b.budget == nil {
		return shared()
	}
	return b.budget
}
