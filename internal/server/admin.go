package server

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/fleet"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
)

// InvalidateRequest is the body of POST /cache/invalidate.
type InvalidateRequest struct {
	Paths []string `json:"paths"`
}

// InvalidateResponse is its answer.
type InvalidateResponse struct {
	Results []gateway.Invalidation `json:"results"`
	// Removed counts the entries this replica removed.
	Removed int `json:"removed"`
	// Fleet says how many live replicas applied the invalidation within the wait, when
	// the configuration has a redis section; FleetError why it could not be sent to
	// them (this replica's entries are removed all the same).
	Fleet      *fleet.Applied `json:"fleet,omitempty"`
	FleetError string         `json:"fleet_error,omitempty"`
}

// maxInvalidatePaths bounds one call, like CloudFront's per-request limit.
const maxInvalidatePaths = 3000

// invalidate serves POST /cache/invalidate. It needs admin.token as a bearer token
// (compared in constant time); without a configured token the endpoint is disabled.
func invalidate(w http.ResponseWriter, r *http.Request, h *gateway.Handler, f *fleet.Fleet, token string, log *slog.Logger) {
	if token == "" {
		http.Error(w, "invalidation is disabled: set admin.token", http.StatusNotFound)
		return
	}
	if !bearer(w, r, token) {
		return
	}
	var req InvalidateRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.Paths) == 0 || len(req.Paths) > maxInvalidatePaths {
		http.Error(w, `want {"paths": ["/exact", "/prefix/*"]} with 1 to 3000 paths`, http.StatusBadRequest)
		return
	}
	res, err := h.State().Invalidate(req.Paths)
	switch {
	case errors.Is(err, gateway.ErrNoCache):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out := InvalidateResponse{Results: res}
	for _, x := range res {
		out.Removed += x.Removed
	}
	log.Info("cache invalidated", "paths", len(req.Paths), "removed", out.Removed, "client", r.RemoteAddr)
	status := http.StatusOK
	if f != nil {
		out.Fleet, err = publishInvalidation(r.Context(), f, req.Paths)
		if err != nil {
			out.FleetError = err.Error()
			status = http.StatusServiceUnavailable
			log.Warn("cache invalidation not sent to the other replicas", "error", err.Error())
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

// bearer reports whether r carries token as its bearer token (compared in constant
// time); if not, it has answered 401. The scheme's name is matched in any case, as
// RFC 9110 section 11.1 says of authentication schemes ("bearer", "BEARER").
func bearer(w http.ResponseWriter, r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	got = strings.TrimLeft(got, " ") // 1*SP after the scheme
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-admin"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	return true
}

// handlePprof serves Go's profiles under /debug/pprof/ behind admin.token as a bearer
// token; without a token they are not served (404). They show the program's internals
// (command line, stacks, heap by allocation site), hence the token even on the admin
// listener. token is called on each request: the serving configuration's admin.token.
func handlePprof(mux *http.ServeMux, token func() string) {
	guard := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			token := token()
			if token == "" {
				http.Error(w, "profiling is disabled: set admin.token", http.StatusNotFound)
				return
			}
			if bearer(w, r, token) {
				h(w, r)
			}
		}
	}
	mux.HandleFunc("/debug/pprof/", guard(pprof.Index)) // and the named profiles: heap, goroutine, allocs...
	mux.HandleFunc("/debug/pprof/cmdline", guard(pprof.Cmdline))
	mux.HandleFunc("/debug/pprof/profile", guard(pprof.Profile))
	mux.HandleFunc("/debug/pprof/symbol", guard(pprof.Symbol))
	mux.HandleFunc("/debug/pprof/trace", guard(pprof.Trace))
}

// metrics lists the served certificates for metrics.SetCertificates.
func (c *certificates) metrics() []metrics.Certificate {
	infos := c.Certificates()
	out := make([]metrics.Certificate, len(infos))
	for i, ci := range infos {
		out[i] = metrics.Certificate{Name: ci.Name, NotAfter: ci.NotAfter}
	}
	return out
}
