package server

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// InvalidateRequest is the body of POST /cache/invalidate.
type InvalidateRequest struct {
	Paths []string `json:"paths"`
}

// InvalidateResponse is its answer.
type InvalidateResponse struct {
	Results []gateway.Invalidation `json:"results"`
	Removed int                    `json:"removed"`
}

// maxInvalidatePaths bounds one call, like CloudFront's per-request limit.
const maxInvalidatePaths = 3000

// invalidate serves POST /cache/invalidate. It needs admin.token as a bearer token
// (compared in constant time); without a configured token the endpoint is disabled.
func invalidate(w http.ResponseWriter, r *http.Request, h *gateway.Handler, token string, log *slog.Logger) {
	if token == "" {
		http.Error(w, "invalidation is disabled: set admin.token", http.StatusNotFound)
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-admin"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
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
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
