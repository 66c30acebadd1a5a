package jwtauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// hangingJWKS is an in-process JWKS endpoint (an http.RoundTripper, so that it works
// inside a synctest bubble, where a real socket would keep the bubble from idling).
// While hanging, requests wait until release or until their context ends.
type hangingJWKS struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	hang    chan struct{} // non-nil: requests wait for it to close
	hits    atomic.Int32
	waiting atomic.Int32 // requests currently hanging
}

func (h *hangingJWKS) RoundTrip(r *http.Request) (*http.Response, error) {
	h.hits.Add(1)
	h.mu.Lock()
	hang := h.hang
	h.mu.Unlock()
	if hang != nil {
		h.waiting.Add(1)
		select {
		case <-hang:
			h.waiting.Add(-1)
		case <-r.Context().Done():
			h.waiting.Add(-1)
			return nil, r.Context().Err()
		}
	}
	h.mu.Lock()
	body, _ := json.Marshal(jose.JSONWebKeySet{Keys: h.keys})
	h.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
}

// startHanging makes the next requests hang; the returned func releases them.
func (h *hangingJWKS) startHanging() (release func()) {
	ch := make(chan struct{})
	h.mu.Lock()
	h.hang = ch
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.hang = nil
		h.mu.Unlock()
		close(ch)
	}
}

// TestRegression_JWKSHangStallsRequests: a hanging JWKS endpoint used to hold requests
// for the whole fetch (15 s for an unknown kid with the set loaded; 14.4 s before a 503
// with the endpoint hanging from the start). Now an unknown kid waits exactly jwks_wait
// and gets a 401 while the refetch goes on (and lands) in the background, rate limiting
// intact; a set that never loaded answers 503 at once. The bubble's fake clock measures
// the waits exactly.
func TestRegression_JWKSHangStallsRequests(t *testing.T) {
	testKeys(t)
	const iss = "https://issuer.test/pool"
	const wait = 2 * time.Second
	cfg := &config.JWTAuth{Issuer: iss, JWKSURL: iss + "/.well-known/jwks.json", Audiences: []string{clientID},
		Algorithms: []string{"RS256"}, MinRefresh: time.Minute, JWKSWait: wait}
	token := func(t *testing.T, kid string) *policy.Request {
		now := time.Now()
		return bearer(mint(t, rsaA, kid, jose.RS256, map[string]any{
			"sub": "u1", "iss": iss, "aud": clientID, "iat": now.Unix() - 60, "exp": now.Unix() + 3600,
		}))
	}
	// timed authenticates r and returns the outcome and the (fake) time it took.
	timed := func(a *Authenticator, r *policy.Request) (string, time.Duration, error) {
		start := time.Now()
		_, err := a.Authenticate(context.Background(), r)
		return outcome(err), time.Since(start), err
	}

	t.Run("loaded, then hanging", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ep := &hangingJWKS{keys: []jose.JSONWebKey{pub("A", rsaA, "RS256")}}
			a, err := New("jwt", cfg, Options{Client: &http.Client{Transport: ep}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			release := ep.startHanging()
			ep.mu.Lock()
			ep.keys = append(ep.keys, pub("B", rsaA, "RS256")) // served once released
			ep.mu.Unlock()

			got, took, err := timed(a, token(t, "B"))
			if got != "bad" || reason(err) != "unknown signing key" || took != wait {
				t.Fatalf("unknown kid while the endpoint hangs: %s (%v) after %v; want a 401 after exactly %v", got, err, took, wait)
			}
			synctest.Wait()
			if ep.waiting.Load() != 1 {
				t.Fatalf("%d fetches hanging, want the refetch still going on", ep.waiting.Load())
			}
			// Known keys are unaffected.
			if got, took, err := timed(a, token(t, "A")); got != "allow" || took != 0 {
				t.Fatalf("known kid: %s (%v) after %v", got, err, took)
			}
			// Twenty more unknown kids: each waits the bound at most, joining the one
			// refetch (no new fetch: the rate limit holds).
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					if got, took, err := timed(a, token(t, "C")); got != "bad" || took > wait {
						t.Errorf("unknown kid: %s (%v) after %v", got, err, took)
					}
				})
			}
			wg.Wait()
			if n := ep.hits.Load(); n != 2 {
				t.Fatalf("%d JWKS requests, want 2 (the load and one refetch)", n)
			}
			// The endpoint answers: the background refetch installs B.
			release()
			synctest.Wait()
			if got, took, err := timed(a, token(t, "B")); got != "allow" || took != 0 {
				t.Fatalf("B after the refetch landed: %s (%v) after %v", got, err, took)
			}
			if n := ep.hits.Load(); n != 2 {
				t.Fatalf("%d JWKS requests, want 2", n)
			}
		})
	})

	t.Run("never loaded, hanging from the start", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ep := &hangingJWKS{keys: []jose.JSONWebKey{pub("A", rsaA, "RS256")}}
			release := ep.startHanging()
			a, err := New("jwt", cfg, Options{Client: &http.Client{Transport: ep}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a.Start(ctx)
			synctest.Wait() // the first fetch is hanging
			pol := &policy.Policy{Authenticators: []policy.Authenticator{a}}
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					r := token(t, "A")
					start := time.Now()
					d := pol.Decide(context.Background(), r)
					if d.Allow || d.Status != http.StatusServiceUnavailable || time.Since(start) != 0 {
						t.Errorf("decision %+v after %v, want 503 at once", d, time.Since(start))
					}
					if _, err := a.Authenticate(context.Background(), r); !errors.Is(err, ErrNoKeySet) {
						t.Errorf("Authenticate = %v, want ErrNoKeySet", err)
					}
				})
			}
			wg.Wait()
			if n := ep.hits.Load(); n != 1 {
				t.Fatalf("%d JWKS requests, want 1 (requests join the fetch in flight)", n)
			}
			if err := a.Ready(); !errors.Is(err, ErrNoKeySet) {
				t.Fatalf("Ready = %v, want ErrNoKeySet", err)
			}
			release()
			synctest.Wait()
			if err := a.Ready(); err != nil {
				t.Fatalf("Ready after the fetch landed = %v", err)
			}
			if got, took, err := timed(a, token(t, "A")); got != "allow" || took != 0 {
				t.Fatalf("after the fetch landed: %s (%v) after %v", got, err, took)
			}
		})
	})
}
