package origin

import (
	"errors"
	"syscall"
)

// FDExhausted reports whether err comes from this process (EMFILE) or the system
// (ENFILE) being out of file descriptors, for example when a connection to an origin or
// a file could not be opened. That is gatehouse's own overload, not an origin failure:
// the gateway answers 503 with Retry-After, which tells a client or load balancer to
// come back shortly, where a 502 would blame the origin. The cause stays wrapped (in
// ErrUnavailable, for instance), so a cache may still serve a stale copy.
func FDExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
