package gateway

import "time"

// SetBodyStall shortens how long a PUT's body may send nothing (bodyStall) for a test,
// and returns the function that restores it.
func SetBodyStall(d time.Duration) (restore func()) {
	old := bodyStall.Swap(int64(d))
	return func() { bodyStall.Store(old) }
}
