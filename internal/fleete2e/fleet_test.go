package fleete2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// basicAs is a Basic Authorization header, and the X-Forwarded-For that makes the
// request come from client (the replicas trust 127.0.0.1 as a proxy), so that tests
// failing logins do not lock each other out.
func basicAs(user, password, client string) []string {
	return []string{"Authorization: Basic " + b64(user+":"+password), "X-Forwarded-For: " + client}
}

func TestFleetInvalidationReachesEveryReplica(t *testing.T) {
	w := newWorld(t, 3, "")
	w.put("pub/a.txt", "version 1")
	for _, r := range w.replicas {
		get(t, r.public+"/pub/a.txt")
		if st, body, xc := get(t, r.public+"/pub/a.txt"); st != 200 || body != "version 1" || !strings.HasPrefix(xc, "Hit") {
			t.Fatalf("%s: %d %q X-Cache %q, want a cached version 1", r.name, st, body, xc)
		}
	}
	w.put("pub/a.txt", "version 2")
	start := time.Now()
	out, err := cli(t, w.replicas[1], "invalidate", "--json", "/pub/a.txt")
	if err != nil {
		t.Fatalf("invalidate: %v\n%s", err, out)
	}
	var res struct {
		Removed int
		Fleet   struct{ Replicas, Applied int }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Removed < 1 || res.Fleet.Replicas != 3 || res.Fleet.Applied != 3 {
		t.Fatalf("invalidate answered %s: want entries removed here and applied by 3 of 3", out)
	}
	t.Logf("invalidation applied by every replica %s after the command started", time.Since(start))
	for _, r := range w.replicas {
		if st, body, _ := get(t, r.public+"/pub/a.txt"); st != 200 || body != "version 2" {
			t.Fatalf("%s after the invalidation: %d %q, want version 2", r.name, st, body)
		}
	}
}

func TestFleetFailedLoginsLockEveryReplica(t *testing.T) {
	w := newWorld(t, 3, "")
	w.put("basic/x", "secret")
	const client = "198.51.100.10"
	for i := range 10 {
		r := w.replicas[i%3]
		if st, _, _ := get(t, r.public+"/basic/x", basicAs("alice", fmt.Sprint("wrong", i), client)...); st != http.StatusUnauthorized {
			t.Fatalf("failure %d on %s: %d, want 401", i+1, r.name, st)
		}
	}
	for _, r := range w.replicas {
		d := eventually(t, time.Second, r.name+" locks the client after ten failures spread over three replicas", func() bool {
			st, _, _ := get(t, r.public+"/basic/x", basicAs("alice", "right", client)...)
			return st == http.StatusTooManyRequests
		})
		t.Logf("%s locked the client %s after the tenth failure was answered", r.name, d)
	}
	// Another client is not affected.
	if st, body, _ := get(t, w.replicas[0].public+"/basic/x", basicAs("alice", "right", "198.51.100.11")...); st != 200 || body != "secret" {
		t.Fatalf("another client: %d %q", st, body)
	}
}

// TestFleetRedisPausedAndResumed pauses Redis (SIGSTOP: connections stay open, nothing
// answers) and checks docs/fleet.md's outage table, then resumes it.
func TestFleetRedisPausedAndResumed(t *testing.T) {
	w := newWorld(t, 3, "")
	w.put("pub/p.txt", "public")
	w.put("basic/x", "secret")
	w.put("signed/s.txt", "signed")
	r0 := w.replicas[0]
	signed := w.sign(r0, "/signed/s.txt")
	if st, _, _ := get(t, signed); st != 200 {
		t.Fatalf("signed URL before the outage: %d", st)
	}
	if err := w.redis.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	// Within max_staleness (3s) the last revocation list is enforced and requests pass.
	if st, _, _ := get(t, signed); st != 200 && time.Since(paused) < 2*time.Second {
		t.Fatalf("signed URL within max_staleness of the outage: %d, want 200", st)
	}
	// Public routes never need Redis.
	if st, _, _ := get(t, r0.public+"/pub/p.txt"); st != 200 {
		t.Fatalf("public route during the outage: %d", st)
	}
	// After max_staleness, on_outage deny: 503 for what needs the revocation list.
	eventually(t, 10*time.Second, "signed URL denied (503) once the revocation list is older than max_staleness", func() bool {
		st, _, _ := get(t, signed)
		return st == http.StatusServiceUnavailable
	})
	// Basic failures fall back to local counts divided by redis.replicas: 10/3 = 3.
	const client = "198.51.100.20"
	for i := range 3 {
		if st, _, _ := get(t, r0.public+"/basic/x", basicAs("alice", fmt.Sprint("wrong", i), client)...); st != http.StatusUnauthorized {
			t.Fatalf("failure %d during the outage: %d", i+1, st)
		}
	}
	if st, _, _ := get(t, r0.public+"/basic/x", basicAs("alice", "right", client)...); st != http.StatusTooManyRequests {
		t.Fatalf("after 3 local failures during the outage: %d, want 429 (max_failures 10 / 3 replicas)", st)
	}
	// The readiness probe reports Redis but stays ready.
	st, body := admin(t, r0, http.MethodGet, "/readyz", nil)
	if st != 200 || !strings.Contains(string(body), `"connected":false`) {
		t.Fatalf("readyz during the outage: %d %s", st, body)
	}
	// An invalidation is applied here and reported as not sent.
	st, body = admin(t, r0, http.MethodPost, "/cache/invalidate", map[string][]string{"paths": {"/pub/*"}})
	if st != http.StatusServiceUnavailable || !strings.Contains(string(body), "fleet_error") {
		t.Fatalf("invalidate during the outage: %d %s", st, body)
	}
	if err := w.redis.Resume(); err != nil {
		t.Fatal(err)
	}
	d := eventually(t, 10*time.Second, "signed URL allowed again after Redis resumed", func() bool {
		st, _, _ := get(t, signed)
		return st == http.StatusOK
	})
	t.Logf("signed URLs served again %s after Redis resumed", d)
	st, body = admin(t, r0, http.MethodGet, "/readyz", nil)
	if st != 200 || !strings.Contains(string(body), `"connected":true`) {
		t.Fatalf("readyz after the outage: %d %s", st, body)
	}
}

// TestFleetRedisRestartLosesNothingThatMatters restarts Redis without persistence: it
// comes back empty. Replicas empty their caches (they cannot know what was invalidated
// meanwhile) and go on.
func TestFleetRedisRestartLosesNothingThatMatters(t *testing.T) {
	w := newWorld(t, 3, "")
	w.put("pub/r.txt", "old")
	for _, r := range w.replicas {
		get(t, r.public+"/pub/r.txt")
	}
	w.put("pub/r.txt", "new")
	if err := w.redis.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, r := range w.replicas {
		eventually(t, 15*time.Second, r.name+" dropped its cached copy after Redis came back empty", func() bool {
			_, body, _ := get(t, r.public+"/pub/r.txt")
			return body == "new"
		})
	}
	// The fleet works on the new Redis: an invalidation reaches everyone again.
	w.put("pub/r.txt", "newer")
	for _, r := range w.replicas {
		get(t, r.public+"/pub/r.txt")
	}
	eventually(t, 10*time.Second, "all three replicas beat into the new Redis", func() bool {
		_, body := admin(t, w.replicas[0], http.MethodGet, "/readyz", nil)
		return strings.Contains(string(body), `"replicas":3`)
	})
	st, body := admin(t, w.replicas[2], http.MethodPost, "/cache/invalidate", map[string][]string{"paths": {"/pub/r.txt"}})
	if st != 200 || !strings.Contains(string(body), `"applied":3`) {
		t.Fatalf("invalidate after the restart: %d %s", st, body)
	}
}

func TestFleetRevocationDeniesOnEveryReplica(t *testing.T) {
	w := newWorld(t, 3, "")
	w.put("signed/doc.txt", "signed")
	urls := make([]string, len(w.replicas))
	for i, r := range w.replicas {
		// The same path and expiry on each replica's address: one policy per replica.
		urls[i] = w.sign(r, "/signed/doc.txt")
		if st, _, _ := get(t, urls[i]); st != 200 {
			t.Fatalf("%s: signed URL before the revocation: %d", r.name, st)
		}
	}
	other := w.sign(w.replicas[0], "/signed/other.txt")
	w.put("signed/other.txt", "other")
	// Revoke every replica's URL through replica 1, then check all three.
	start := time.Now()
	for _, u := range urls {
		if out, err := cli(t, w.replicas[1], "revoke", "url", u); err != nil {
			t.Fatalf("revoke url: %v\n%s", err, out)
		}
	}
	for i, r := range w.replicas {
		d := eventually(t, time.Second, r.name+" denies the revoked URL within a second", func() bool {
			st, _, _ := get(t, urls[i])
			return st == http.StatusForbidden
		})
		t.Logf("%s denied the revoked URL %s after the revocation started", r.name, d+time.Since(start)-d)
	}
	if st, _, _ := get(t, other); st != 200 {
		t.Fatalf("a URL that was not revoked: %d", st)
	}
	// A whole key, from replica 2: every URL it signed stops working everywhere.
	if out, err := cli(t, w.replicas[2], "revoke", "key", keyID); err != nil {
		t.Fatalf("revoke key: %v\n%s", err, out)
	}
	eventually(t, time.Second, "the key's other URL denied on replica 0", func() bool {
		st, _, _ := get(t, other)
		return st == http.StatusForbidden
	})
	// Lifting it on replica 0 lets the URL in again everywhere.
	out, err := cli(t, w.replicas[0], "revoke", "list", "--json")
	if err != nil {
		t.Fatalf("revoke list: %v\n%s", err, out)
	}
	var list struct {
		Revocations []struct{ ID, Kind string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Revocations) != 4 {
		t.Fatalf("revoke list: %v %s", err, out)
	}
	// Every replica's metrics say so.
	for _, r := range w.replicas {
		eventually(t, 2*time.Second, r.name+"'s metrics report the fleet", func() bool {
			_, m := admin(t, r, http.MethodGet, "/metrics", nil)
			return strings.Contains(string(m), "gatehouse_revocations 4\n") && strings.Contains(string(m), "gatehouse_redis_connected 1\n") &&
				strings.Contains(string(m), "gatehouse_redis_replicas 3\n")
		})
	}
	for _, r := range list.Revocations {
		if r.Kind == "key" {
			if out, err := cli(t, w.replicas[0], "revoke", "lift", r.ID); err != nil {
				t.Fatalf("lift: %v\n%s", err, out)
			}
		}
	}
	eventually(t, time.Second, "the lifted key's URL served again", func() bool {
		st, _, _ := get(t, other)
		return st == http.StatusOK
	})
	// A Redis restart without persistence loses no revocation: the replicas write back
	// what they hold.
	if err := w.redis.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the revocations back in Redis after its restart", func() bool {
		n, err := w.redis.Do("HLEN", "{gatehouse}:revocations")
		return err == nil && n == "3"
	})
	time.Sleep(500 * time.Millisecond)
	for i, r := range w.replicas {
		if st, _, _ := get(t, urls[i]); st != http.StatusForbidden {
			t.Fatalf("%s: revoked URL after Redis restarted empty: %d", r.name, st)
		}
	}
}

// TestFleetRateLimitHoldsAcrossReplicas: 30 requests a minute per client, asked of three
// replicas in turn, 25 ms apart (a sync round is 100 ms): the fleet admits about 30,
// within what the replicas admit in one sync round (docs/rate-limits.md).
func TestFleetRateLimitHoldsAcrossReplicas(t *testing.T) {
	w := newWorld(t, 3, "")
	w.put("limited/x", "x")
	const client = "198.51.100.30"
	allowed, retry := 0, ""
	for i := range 90 {
		r := w.replicas[i%3]
		req, _ := http.NewRequest(http.MethodGet, r.public+"/limited/x", nil)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			allowed++
		case http.StatusTooManyRequests:
			retry = resp.Header.Get("Retry-After")
		default:
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Logf("the fleet admitted %d of 90 requests for a limit of 30 a minute; Retry-After %q", allowed, retry)
	if allowed < 30 || allowed > 36 {
		t.Fatalf("admitted %d, want 30 (up to what one sync round lets through: 36)", allowed)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 60 {
		t.Fatalf("Retry-After %q, want 1 to 60 seconds", retry)
	}
	// Another client has its own count.
	if st, _, _ := get(t, w.replicas[1].public+"/limited/x", "X-Forwarded-For: 198.51.100.31"); st != 200 {
		t.Fatalf("another client: %d", st)
	}
}
