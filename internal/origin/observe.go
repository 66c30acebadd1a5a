package origin

import (
	"context"
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
	// folder, the status its answer stands for: see StatusOf), 0 when no answer came (a
	// connection refused, a timeout), StatusCanceled when the caller gave up first, and
	// d how long the call took until its answer began (the response headers; a body is
	// then streamed).
	ObserveCall(op string, status int, d time.Duration)
}

// Observable is implemented by origins that report their calls. SetObserver is called
// once, before the origin serves; nil turns reporting off.
type Observable interface {
	SetObserver(Observer)
}

// StatusCanceled is the status of a call that ended because its caller's context was
// canceled before the backend answered (typically a client that went away while a slow
// origin was still working): not a failure of the origin, so it is kept apart from 0
// and 5xx. Metrics label it "canceled".
const StatusCanceled = -1

// StatusOf is the HTTP status an origin error stands for, for an origin whose backend
// speaks no HTTP (a folder): 200 for nil; 304, 404, 412 (ErrExists too), 416; what the
// client sent and the origin refused: 400 (ErrBadRequest, ErrChecksum,
// ErrSizeMismatch), 409 (ErrKeyConflict), 413 (ErrTooLarge), 414 (ErrKeyTooLong), 431
// (ErrHeaderTooLarge); StatusCanceled for the caller's context.Canceled or a body that
// failed on the caller's side (ErrClientBody); and 500 for anything else. The HTTP statuses are those the gateway answers the client with.
func StatusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrClientBody):
		return StatusCanceled
	case errors.Is(err, ErrNotModified):
		return http.StatusNotModified
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrRangeNotSatisfiable):
		return http.StatusRequestedRangeNotSatisfiable
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrChecksum), errors.Is(err, ErrSizeMismatch):
		return http.StatusBadRequest
	case errors.Is(err, ErrKeyConflict):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrKeyTooLong):
		return http.StatusRequestURITooLong
	case errors.Is(err, ErrHeaderTooLarge):
		return http.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, context.Canceled):
		return StatusCanceled
	}
	return http.StatusInternalServerError
}
