package origin

import (
	"errors"
	"net/http"
	"time"
)

// Observer records the calls an origin makes to its backend, one per call that reached
// (or tried to reach) it: the metrics of origin requests. Calls answered by a cache in
// front of the origin never reach it, so they are not observed.
type Observer interface {
	// ObserveCall records one call: op names the operation ("GetObject", "PutObject";
	// "Get", "Put" for a folder), status is the HTTP status the backend answered (for a
	// folder, the status its answer stands for: 200, 304, 404, 412, 416, 500), 0 when no
	// answer came (a connection refused, a timeout), and d how long the call took until
	// its answer began (the response headers; a body is then streamed).
	ObserveCall(op string, status int, d time.Duration)
}

// Observable is implemented by origins that report their calls. SetObserver is called
// once, before the origin serves; nil turns reporting off.
type Observable interface {
	SetObserver(Observer)
}

// StatusOf is the HTTP status an origin error stands for, for an origin whose backend
// speaks no HTTP (a folder): 200 for nil, 304, 404, 412, 416, and 500 for anything else.
func StatusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrNotModified):
		return http.StatusNotModified
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrRangeNotSatisfiable):
		return http.StatusRequestedRangeNotSatisfiable
	}
	return http.StatusInternalServerError
}
