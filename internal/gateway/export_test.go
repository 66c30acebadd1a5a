package gateway

import (
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/origin/s3origin"
)

// SetBodyStall shortens how long a PUT's body may send nothing (bodyStall) for a test,
// and returns the function that restores it.
func SetBodyStall(d time.Duration) (restore func()) {
	old := bodyStall.Swap(int64(d))
	return func() { bodyStall.Store(old) }
}

// SetBodyRate sets the least rate of a PUT's body (bodyMinBytes per bodyStall) for a
// test, and returns the function that restores both.
func SetBodyRate(window time.Duration, minBytes int64) (restore func()) {
	oldW, oldB := bodyStall.Swap(int64(window)), bodyMinBytes.Swap(minBytes)
	return func() { bodyStall.Store(oldW); bodyMinBytes.Store(oldB) }
}

// SetUploadBudget makes the S3 origin name of st take its upload buffers from b.
func SetUploadBudget(st *State, name string, b *s3origin.Budget) {
	o := st.origins[name]
	if c, ok := o.(*cache.Origin); ok {
		o = c.Next()
	}
	o.(*s3origin.Bucket).UseBudget(b)
}
