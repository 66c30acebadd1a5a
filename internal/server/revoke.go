package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// maxRevocationBody bounds a POST /revocations body.
const maxRevocationBody = 1 << 20

// RevocationList is the answer of GET /revocations.
type RevocationList struct {
	Revocations []revoke.Revocation `json:"revocations"`
}

// handleRevocations serves the revocation API on the admin listener, behind admin.token
// as a bearer token (token is called on each request; "" disables the API: 404):
//
//	POST   /revocations       a revoke.Revocation as JSON; 201 with the stored record
//	GET    /revocations       200 with RevocationList
//	DELETE /revocations/{id}  204; 404 when no record has that ID
//
// store returns the fleet's store, or nil when there is none (no redis section): every
// call then answers 404 "revocation needs a redis section"; a nil store func is the
// same. cfg returns the serving configuration, for the defaults of a user revocation.
// Bad input is 400 naming the field; a store that fails is 503 (the cause is logged).
func handleRevocations(mux *http.ServeMux, token func() string, store func() revoke.Store, cfg func() *config.Config, log *slog.Logger) {
	guard := func(h func(http.ResponseWriter, *http.Request, revoke.Store)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			tok := token()
			if tok == "" {
				http.Error(w, "revocation is disabled: set admin.token", http.StatusNotFound)
				return
			}
			if !bearer(w, r, tok) {
				return
			}
			var s revoke.Store
			if store != nil {
				s = store()
			}
			if s == nil {
				http.Error(w, "revocation needs a redis section", http.StatusNotFound)
				return
			}
			h(w, r, s)
		}
	}
	mux.HandleFunc("POST /revocations", guard(func(w http.ResponseWriter, r *http.Request, s revoke.Store) {
		addRevocation(w, r, s, cfg(), log)
	}))
	mux.HandleFunc("GET /revocations", guard(func(w http.ResponseWriter, r *http.Request, s revoke.Store) {
		all, err := s.List(r.Context())
		if err != nil {
			storeFailed(w, log, "listing revocations", err)
			return
		}
		if all == nil {
			all = []revoke.Revocation{}
		}
		writeJSON(w, http.StatusOK, RevocationList{Revocations: all})
	}))
	mux.HandleFunc("DELETE /revocations/{id}", guard(func(w http.ResponseWriter, r *http.Request, s revoke.Store) {
		id := r.PathValue("id")
		if !isRevocationID(id) {
			http.Error(w, "want a revocation ID: 32 lowercase hex digits", http.StatusBadRequest)
			return
		}
		switch err := s.Lift(r.Context(), id); {
		case errors.Is(err, revoke.ErrNotFound):
			http.Error(w, "no such revocation", http.StatusNotFound)
		case err != nil:
			storeFailed(w, log, "lifting a revocation", err)
		default:
			log.Info("revocation lifted", "id", id, "client", r.RemoteAddr)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
}

// addRevocation decodes, completes and stores one revocation.
func addRevocation(w http.ResponseWriter, r *http.Request, s revoke.Store, cfg *config.Config, log *slog.Logger) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRevocationBody))
	if err != nil {
		http.Error(w, "body too large (at most 1 MiB)", http.StatusRequestEntityTooLarge)
		return
	}
	rv, err := revoke.DecodeJSON(body)
	if err != nil {
		http.Error(w, `want one JSON object such as {"kind":"user","value":"ana@example.com"}: `+err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	completeRevocation(&rv, now, cfg)
	if err := revoke.Validate(rv, now); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rv.ID = rv.ComputeID()
	stored, err := s.Add(r.Context(), rv)
	if err != nil {
		storeFailed(w, log, "storing a revocation", err)
		return
	}
	log.Info("revoked", "id", stored.ID, "kind", stored.Kind, "client", r.RemoteAddr)
	writeJSON(w, http.StatusCreated, stored)
}

// completeRevocation fills in what the server decides: Created (now, whatever the
// client sent); a user revocation's Before (now) and Expires (Before plus the longest
// cookie_lifetime of the login authenticators configured, the default without any);
// a key revocation's Expires when it has Before and MaxLifetime (Before plus
// MaxLifetime).
func completeRevocation(rv *revoke.Revocation, now time.Time, cfg *config.Config) {
	rv.Created = now
	if rv.Kind == revoke.KindUser {
		if rv.Before.IsZero() {
			rv.Before = now
		}
		if rv.Expires.IsZero() {
			rv.Expires = rv.Before.Add(longestCookieLifetime(cfg))
		}
	}
	if rv.Expires.IsZero() {
		rv.Expires = rv.DefaultExpiry()
	}
}

// longestCookieLifetime is the longest cookie_lifetime of the login authenticators in
// cfg, or config.DefaultCookieLifetime when there is none.
func longestCookieLifetime(cfg *config.Config) time.Duration {
	var longest time.Duration
	if cfg != nil {
		for _, rt := range cfg.Routes {
			if rt == nil || rt.Auth == nil {
				continue
			}
			for _, m := range rt.Auth.Methods {
				if m != nil && m.Login != nil && m.Login.CookieLifetime > longest {
					longest = m.Login.CookieLifetime
				}
			}
		}
	}
	if longest == 0 {
		longest = config.DefaultCookieLifetime
	}
	return longest
}

func isRevocationID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func storeFailed(w http.ResponseWriter, log *slog.Logger, what string, err error) {
	log.Error("revocation store: "+what, "error", err)
	http.Error(w, "revocation store unavailable", http.StatusServiceUnavailable)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
