package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// FleetInvalidation is what `benchkit fleet-invalidate` measured (fleet.json in the raw
// folder): the time from POST /cache/invalidate on one replica to its answer, which
// comes once every live replica has applied the invalidation (the server polls its
// replica table every 10 ms, for at most 2 s).
type FleetInvalidation struct {
	// Replicas is how many replicas shared the Redis; every sample's answer said that
	// many were live and had applied it.
	Replicas int `json:"replicas"`
	// SamplesMs are the round trips, in milliseconds, in the order measured; the
	// invalidations went to the replicas in turn.
	SamplesMs []float64 `json:"samples_ms"`
	// Ms summarises SamplesMs.
	Ms Stat `json:"ms"`
}

// FleetReport is the fleet scenario's own part of the report (issue 16).
type FleetReport struct {
	// CheckCost is gatehouse-fleet's figure over gatehouse-cache's (same round), per
	// metric id: the cost of the revocation and rate-limit checks on a cached hit.
	CheckCost map[string]Stat `json:"check_cost,omitempty"`
	// Revocations is how many revocations were stored before the measured rounds;
	// RevocationNote says why none were, when the admin API refused them.
	Revocations    int    `json:"revocations"`
	RevocationNote string `json:"revocation_note,omitempty"`
	// Invalidation is the propagation measurement; nil when it was not run.
	Invalidation *FleetInvalidation `json:"invalidation,omitempty"`
}

// The fleet scenario's contenders: the cached signed hit without and with the fleet.
const (
	fleetBase = "gatehouse-cache"
	fleetWith = "gatehouse-fleet"
)

// fleetReport builds the report's fleet part from the runs and the raw folder's
// fleet.json and fleet-meta.txt (either may be missing); nil when there is no fleet run.
func fleetReport(runs []Run, fleetJSON, fleetMeta string) (*FleetReport, error) {
	var base, with []Run
	for _, r := range runs {
		if r.Scenario != "fleet" || r.Variant != "4k" {
			continue
		}
		switch r.Contender {
		case fleetBase:
			base = append(base, r)
		case fleetWith:
			with = append(with, r)
		}
	}
	fr := &FleetReport{}
	found := false
	if len(base) > 0 && len(with) > 0 {
		found = true
		fr.CheckCost = map[string]Stat{}
		for _, m := range metricsFor(false) {
			fr.CheckCost[m.id] = newStat(roundRatios(with, base, m))
		}
	}
	if fleetMeta != "" {
		if m, err := readMeta(fleetMeta); err == nil {
			found = true
			fmt.Sscan(m["revocations"], &fr.Revocations)
			fr.RevocationNote = m["revocation_note"]
		}
	}
	if fleetJSON != "" {
		b, err := os.ReadFile(fleetJSON)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			var fi FleetInvalidation
			if err := json.Unmarshal(b, &fi); err != nil {
				return nil, fmt.Errorf("%s: %w", fleetJSON, err)
			}
			fi.Ms = newStat(fi.SamplesMs)
			fr.Invalidation = &fi
			found = true
		}
	}
	if !found {
		return nil, nil
	}
	return fr, nil
}

// cmdFleetInvalidate times invalidations across a fleet. Before each one, every
// replica's URL in --fill is fetched until it is a cache hit, so every replica holds
// the entry; then --path is invalidated through the admin API of one replica (each in
// turn), and the round trip is timed. The answer must say that all --replicas live
// replicas applied it, and the next request to each replica must miss its cache.
func cmdFleetInvalidate(args []string) error {
	fs := flag.NewFlagSet("fleet-invalidate", flag.ContinueOnError)
	admins := fs.String("admin", "", "the replicas' admin base URLs, comma-separated")
	fills := fs.String("fill", "", "one URL per replica (same order) that the invalidation must remove from its cache")
	path := fs.String("path", "", "the request path to invalidate")
	tokenEnv := fs.String("token-env", "BENCH_ADMIN_TOKEN", "environment variable holding admin.token")
	count := fs.Int("count", 20, "measured invalidations")
	out := fs.String("out", "", "JSON output (FleetInvalidation)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	adm, fill := strings.Split(*admins, ","), strings.Split(*fills, ",")
	token := os.Getenv(*tokenEnv)
	if *admins == "" || len(adm) != len(fill) || *path == "" || *out == "" || token == "" || *count < 1 {
		return errors.New("--admin and --fill (one each per replica), --path, --out, --count ≥ 1 and the token in $" + *tokenEnv + " are required")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	n := len(adm)
	// Warm-up: a just-started replica may not be in the replica table yet.
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, _, err := invalidateOnce(client, adm[0], token, *path)
		if err == nil && a.Replicas == n && a.Applied == n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("warm-up: want %d live replicas that applied it, last answer %+v (error %v)", n, a, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	res := FleetInvalidation{Replicas: n}
	for i := 0; i < *count; i++ {
		for _, u := range fill {
			if err := fillUntilHit(client, u); err != nil {
				return err
			}
		}
		to := adm[i%n]
		a, d, err := invalidateOnce(client, to, token, *path)
		if err != nil {
			return fmt.Errorf("invalidation %d via %s: %w", i+1, to, err)
		}
		if a.Replicas != n || a.Applied != n {
			return fmt.Errorf("invalidation %d via %s: answer says %d of %d live replicas applied it, want %d of %d", i+1, to, a.Applied, a.Replicas, n, n)
		}
		for _, u := range fill {
			if st, err := cacheStatus(client, u); err != nil {
				return err
			} else if strings.HasPrefix(strings.ToLower(st), "hit") {
				return fmt.Errorf("invalidation %d via %s: %s still a cache hit after the answer", i+1, to, u)
			}
		}
		res.SamplesMs = append(res.SamplesMs, float64(d.Microseconds())/1000)
	}
	res.Ms = newStat(res.SamplesMs)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "    fleet invalidation over %d replicas, %d times: median %.1f ms, max %.1f ms\n", n, len(res.SamplesMs), res.Ms.Median, res.Ms.Max)
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

// fleetApplied is the "fleet" part of POST /cache/invalidate's answer.
type fleetApplied struct {
	Replicas int `json:"replicas"`
	Applied  int `json:"applied"`
}

// invalidateOnce posts one invalidation and times it, from sending the request to
// reading the whole answer.
func invalidateOnce(c *http.Client, admin, token, path string) (fleetApplied, time.Duration, error) {
	body, _ := json.Marshal(map[string][]string{"paths": {path}})
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(admin, "/")+"/cache/invalidate", bytes.NewReader(body))
	if err != nil {
		return fleetApplied{}, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return fleetApplied{}, 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return fleetApplied{}, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return fleetApplied{}, 0, fmt.Errorf("answered %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var ans struct {
		Fleet *fleetApplied `json:"fleet"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return fleetApplied{}, 0, fmt.Errorf("unreadable answer %q: %w", b, err)
	}
	if ans.Fleet == nil {
		return fleetApplied{}, 0, fmt.Errorf("the answer has no fleet part (no redis section?): %s", bytes.TrimSpace(b))
	}
	return *ans.Fleet, d, nil
}

// fillUntilHit fetches u until gatehouse answers it from its cache (a few tries).
func fillUntilHit(c *http.Client, u string) error {
	for i := 0; i < 5; i++ {
		st, err := cacheStatus(c, u)
		if err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(st), "hit") {
			return nil
		}
	}
	return fmt.Errorf("%s: not a cache hit after 5 requests", u)
}

// cacheStatus GETs u (which must answer 200) and returns its X-Cache header.
func cacheStatus(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s answered %s", u, resp.Status)
	}
	return resp.Header.Get("X-Cache"), nil
}
