package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The check cost pairs the fleet contender with the one without Redis round by round;
// the invalidation timings and the revocation notes come from the raw folder's files.
func TestFleetReport(t *testing.T) {
	runs := []Run{
		{Scenario: "fleet", Variant: "4k", Contender: fleetBase, Round: 1, RPS: 100},
		{Scenario: "fleet", Variant: "4k", Contender: fleetWith, Round: 1, RPS: 95},
		{Scenario: "fleet", Variant: "4k", Contender: fleetBase, Round: 2, RPS: 200},
		{Scenario: "fleet", Variant: "4k", Contender: fleetWith, Round: 2, RPS: 180},
		{Scenario: "signed", Variant: "1-url", Contender: "gatehouse-cache", Round: 1, RPS: 1},
	}
	dir := t.TempDir()
	js, meta := filepath.Join(dir, "fleet.json"), filepath.Join(dir, "fleet-meta.txt")
	os.WriteFile(js, []byte(`{"replicas":3,"samples_ms":[12,3,40]}`), 0o644)
	os.WriteFile(meta, []byte("revocations=2\nrevocation_note=\n"), 0o644)
	fr, err := fleetReport(runs, js, meta)
	if err != nil {
		t.Fatal(err)
	}
	if st := fr.CheckCost["rps"]; st.N != 2 || st.Min != 0.9 || st.Max != 0.95 {
		t.Errorf("rps ratio = %+v, want 0.9 and 0.95 over 2 rounds", st)
	}
	if fr.Revocations != 2 || fr.RevocationNote != "" {
		t.Errorf("revocations = %d %q, want 2 and no note", fr.Revocations, fr.RevocationNote)
	}
	if inv := fr.Invalidation; inv == nil || inv.Replicas != 3 || inv.Ms.Median != 12 || inv.Ms.Max != 40 {
		t.Errorf("invalidation = %+v, want 3 replicas, median 12, max 40", inv)
	}
	if fr, err := fleetReport(runs[4:], filepath.Join(dir, "none.json"), filepath.Join(dir, "none.txt")); err != nil || fr != nil {
		t.Errorf("without a fleet run: %+v, %v; want nil, nil", fr, err)
	}
}

// invalidateOnce reads the fleet part of the answer and refuses answers without one.
func TestInvalidateOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cache/invalidate" {
			http.NotFound(w, r)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Bearer tok":
		case "Bearer tok-nofleet": // a server without a redis section
			w.Write([]byte(`{"results":[],"removed":1}`))
			return
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"results":[],"removed":1,"fleet":{"replicas":3,"applied":2}}`))
	}))
	defer srv.Close()
	a, d, err := invalidateOnce(srv.Client(), srv.URL, "tok", "/bench/obj-4k")
	if err != nil || a.Replicas != 3 || a.Applied != 2 || d <= 0 {
		t.Errorf("got %+v %v %v, want 3 replicas, 2 applied", a, d, err)
	}
	if _, _, err := invalidateOnce(srv.Client(), srv.URL, "wrong", "/x"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v, want a 401 error", err)
	}
	if _, _, err := invalidateOnce(srv.Client(), srv.URL, "tok-nofleet", "/x"); err == nil || !strings.Contains(err.Error(), "no fleet part") {
		t.Errorf("an answer without a fleet part: %v, want an error saying so", err)
	}
}
