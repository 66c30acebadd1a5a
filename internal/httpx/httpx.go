package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// Error is a failure with the status the client sees and the cause only the log sees.
type Error struct {
	Status int
	Cause  error
}

func (e *Error) Error() string {
	if e.Cause == nil {
		return http.StatusText(e.Status)
	}
	return fmt.Sprintf("%d %s: %v", e.Status, http.StatusText(e.Status), e.Cause)
}
func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error whose cause is formatted like fmt.Errorf.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Cause: fmt.Errorf(format, args...)}
}

// WriteStatus writes a short plain-text body for status, e.g. "404 Not Found". It is
// the only body gatehouse itself sends for errors: no paths, buckets or causes.
func WriteStatus(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	body := fmt.Sprintf("%d %s\n", status, http.StatusText(status))
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// NewRequestID returns 16 random hex characters.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Recorder remembers the status and body size written through it.
type Recorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
	// HeaderAt is when the status line was written (time to first byte); zero before.
	HeaderAt time.Time
}

// WriteHeader records the status.
func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status, r.HeaderAt = code, time.Now()
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records the bytes written.
func (r *Recorder) Write(p []byte) (int, error) {
	if r.Status == 0 {
		r.Status, r.HeaderAt = http.StatusOK, time.Now()
	}
	n, err := r.ResponseWriter.Write(p)
	r.Bytes += int64(n)
	return n, err
}

// Started reports whether the status line has gone out.
func (r *Recorder) Started() bool { return r.Status != 0 }

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
