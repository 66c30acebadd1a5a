package basicauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// checks counts password checks by kind, through the match hook.
type checks struct{ real, dummy atomic.Int32 }

func (c *checks) total() int32 { return c.real.Load() + c.dummy.Load() }

// harness is an Authenticator with alice (bcrypt, "alice-pw") in an htpasswd file and
// bob (argon2id, "bob-pw") inline, a fake clock and counted checks.
type harness struct {
	a      *Authenticator
	clock  *fakeClock
	checks *checks
	file   string
	log    *syncBuffer
}

// syncBuffer collects log output written from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T, maxFailures int) *harness {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "htpasswd")
	writeFile(t, file, "# test users\nalice:"+mustBcrypt(t, "alice-pw", 4)+"\n")
	h := &harness{clock: newClock(), checks: &checks{}, file: file, log: &syncBuffer{}}
	a, err := New("staff", &config.BasicAuth{
		Realm:        "Staff area",
		HtpasswdFile: file,
		Users:        map[string]string{"bob": mustArgon2(t, "bob-pw")},
		MaxFailures:  maxFailures,
	}, Options{Now: h.clock.Now, Logger: slog.New(slog.NewTextHandler(h.log, nil)), PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a.match = func(hh *hash, pw []byte) bool {
		if hh.dummy {
			h.checks.dummy.Add(1)
		} else {
			h.checks.real.Add(1)
		}
		return hh.matches(pw)
	}
	t.Cleanup(func() { a.Close() })
	h.a = a
	return h
}

// writeFile replaces path atomically, as the documentation asks operators to.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func request(client string, authorization ...string) *policy.Request {
	r := httptest.NewRequest("GET", "/x", nil)
	for _, v := range authorization {
		r.Header.Add("Authorization", v)
	}
	var addr netip.Addr
	if client != "" {
		addr = netip.MustParseAddr(client)
	}
	return &policy.Request{HTTP: r, Client: addr, Scheme: "https"}
}

func basic(user, password string) string { return "Basic " + b64(user+":"+password) }

func (h *harness) auth(client string, authorization ...string) (*policy.Identity, error) {
	return h.a.Authenticate(context.Background(), request(client, authorization...))
}

func TestAuthenticate(t *testing.T) {
	const secret = "alice-pw"
	// real and dummy are the checks expected against real and dummy hashes: alice's
	// bcrypt and bob's argon2id are two parameter sets, so a refusal hashes with both.
	tests := []struct {
		name      string
		headers   []string
		want      error // nil: success as subject
		subject   string
		real      int32
		dummy     int32
		wantInErr string
	}{
		{name: "no header", want: policy.ErrNoCredentials},
		{name: "bearer", headers: []string{"Bearer abc.def.ghi"}, want: policy.ErrNoCredentials},
		{name: "digest", headers: []string{`Digest username="alice"`}, want: policy.ErrNoCredentials},
		{name: "bcrypt user", headers: []string{basic("alice", secret)}, subject: "alice", real: 1},
		{name: "argon2id user", headers: []string{basic("bob", "bob-pw")}, subject: "bob", real: 1},
		{name: "lower-case scheme", headers: []string{"basic " + b64("alice:"+secret)}, subject: "alice", real: 1},
		{name: "bearer beside basic", headers: []string{"Bearer x", basic("alice", secret)}, subject: "alice", real: 1},
		{name: "wrong password", headers: []string{basic("alice", "alice-pw2")}, want: policy.ErrBadCredentials, real: 1, dummy: 1, wantInErr: `wrong password for user "alice"`},
		{name: "other user's password", headers: []string{basic("alice", "bob-pw")}, want: policy.ErrBadCredentials, real: 1, dummy: 1},
		{name: "empty password", headers: []string{basic("alice", "")}, want: policy.ErrBadCredentials, real: 1, dummy: 1},
		{name: "user name case matters", headers: []string{basic("Alice", secret)}, want: policy.ErrBadCredentials, dummy: 2, wantInErr: `unknown user "Alice"`},
		{name: "unknown user", headers: []string{basic("mallory", secret)}, want: policy.ErrBadCredentials, dummy: 2},
		{name: "two basic headers", headers: []string{basic("alice", secret), basic("alice", secret)}, want: policy.ErrBadCredentials, wantInErr: "more than one"},
		{name: "scheme only", headers: []string{"Basic"}, want: policy.ErrBadCredentials, wantInErr: "malformed"},
		{name: "bad base64", headers: []string{"Basic %%%"}, want: policy.ErrBadCredentials, wantInErr: "not base64"},
		{name: "no colon", headers: []string{"Basic " + b64("alice"+secret)}, want: policy.ErrBadCredentials, wantInErr: "no colon"},
		{name: "oversized", headers: []string{basic("alice", strings.Repeat(secret, 600))}, want: policy.ErrBadCredentials, wantInErr: "longer than"},
		{name: "NUL in user", headers: []string{basic("alice\x00", secret)}, want: policy.ErrBadCredentials, wantInErr: "control character"},
		{name: "CRLF injection in password", headers: []string{basic("alice", secret+"\r\nX-Admin: 1")}, want: policy.ErrBadCredentials, wantInErr: "control character"},
		{name: "log injection in user", headers: []string{basic("alice\nlevel=INFO msg=ok", secret)}, want: policy.ErrBadCredentials, wantInErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 100)
			id, err := h.auth("192.0.2.1", tt.headers...)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if id.Subject != tt.subject || id.Source != "basic" {
					t.Fatalf("identity %+v", id)
				}
			} else {
				if !errors.Is(err, tt.want) || id != nil {
					t.Fatalf("got %v, %v; want %v", id, err, tt.want)
				}
				if !strings.Contains(err.Error(), tt.wantInErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantInErr)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "bob-pw") {
					t.Errorf("error contains the password: %q", err)
				}
			}
			if h.checks.real.Load() != tt.real || h.checks.dummy.Load() != tt.dummy {
				t.Errorf("checks: %d real, %d dummy; want %d, %d", h.checks.real.Load(), h.checks.dummy.Load(), tt.real, tt.dummy)
			}
		})
	}
}

func TestNilRequest(t *testing.T) {
	h := newHarness(t, 10)
	for _, r := range []*policy.Request{nil, {}} {
		if _, err := h.a.Authenticate(context.Background(), r); err != policy.ErrNoCredentials {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

func TestChallengeAndName(t *testing.T) {
	h := newHarness(t, 10)
	if got, want := h.a.Challenge(policy.ErrNoCredentials), `Basic realm="Staff area", charset="UTF-8"`; got != want {
		t.Errorf("Challenge = %s, want %s", got, want)
	}
	if h.a.Name() != "staff" {
		t.Errorf("Name = %s", h.a.Name())
	}
	a, err := New("", &config.BasicAuth{Users: map[string]string{"u": fixedBcrypt}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "basic" || a.Challenge(nil) != `Basic realm="gatehouse", charset="UTF-8"` || a.maxFail != config.DefaultBasicMaxFailures {
		t.Errorf("defaults: %s, %s, %d", a.Name(), a.Challenge(nil), a.maxFail)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeFile(t, good, "alice:"+fixedBcrypt+"\n")
	bad := filepath.Join(dir, "bad")
	writeFile(t, bad, "alice:"+fixedBcrypt+"\nbob:hunter2\n")
	tests := []struct {
		name string
		cfg  *config.BasicAuth
		want []string
	}{
		{"no config", nil, []string{"no configuration"}},
		{"quote in realm", &config.BasicAuth{Realm: `a"b`, Users: map[string]string{"u": fixedBcrypt}}, []string{"realm"}},
		{"newline in realm", &config.BasicAuth{Realm: "a\nb", Users: map[string]string{"u": fixedBcrypt}}, []string{"realm"}},
		{"missing file", &config.BasicAuth{HtpasswdFile: filepath.Join(dir, "nope")}, []string{"htpasswd file", "no such file"}},
		{"directory", &config.BasicAuth{HtpasswdFile: dir}, []string{"not a regular file"}},
		{"plaintext in file", &config.BasicAuth{HtpasswdFile: bad}, []string{bad + ":2:", "plaintext", "gatehouse passwd"}},
		{"plaintext inline", &config.BasicAuth{Users: map[string]string{"carol": "hunter2"}}, []string{"users.carol", "plaintext"}},
		{"colon in inline user", &config.BasicAuth{Users: map[string]string{"a:b": fixedBcrypt}}, []string{`users."a:b"`}},
		{"user in both", &config.BasicAuth{HtpasswdFile: good, Users: map[string]string{"alice": fixedArgon2}}, []string{good + ":1:", `"alice" is also in the configuration's users`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New("b", tt.cfg, Options{})
			if err == nil {
				a.Close()
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes a plaintext password: %q", err)
			}
		})
	}
}

// TestRegression_UnknownUserTimingByCost: unknown users were hashed against one dummy
// with the majority's cost, so users whose hashes cost more or less were told apart by
// timing (unknown 355 ms, cost-12 user 406 ms, cost-10 user 95 ms). Now every refusal
// hashes once with each distinct parameter set: this checks, with a recording hasher
// rather than a clock, that an unknown user does exactly the hashing work of a wrong
// password for a user of each cost and algorithm in the file.
func TestRegression_UnknownUserTimingByCost(t *testing.T) {
	file := writeTemp(t, "a:"+mustBcrypt(t, "x", 4)+"\nb:"+mustBcrypt(t, "x", 4)+"\nc:"+mustBcrypt(t, "x", 5)+
		"\nd:"+mustBcrypt(t, "x", 6)+"\ne:"+mustArgon2(t, "x")+"\n")
	a, err := New("b", &config.BasicAuth{HtpasswdFile: file, MaxFailures: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		work []string
	)
	a.match = func(h *hash, pw []byte) bool {
		mu.Lock()
		work = append(work, h.id)
		mu.Unlock()
		return h.matches(pw)
	}
	// did returns the parameter sets one attempt hashed with, sorted.
	did := func(user, pw string) ([]string, error) {
		work = nil
		_, err := a.Authenticate(context.Background(), request("192.0.2.9", basic(user, pw)))
		slices.Sort(work)
		return work, err
	}
	want := []string{"argon2id m=8,t=1,p=1,salt=16,key=32", "bcrypt cost 4", "bcrypt cost 5", "bcrypt cost 6"}
	for _, u := range []string{"nobody", "A", "a ", "e\u00e9"} {
		got, err := did(u, "x")
		if !errors.Is(err, policy.ErrBadCredentials) {
			t.Fatalf("unknown user %q: %v", u, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("unknown user %q hashed with %q, want %q", u, got, want)
		}
	}
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		got, err := did(u, "wrong")
		if !errors.Is(err, policy.ErrBadCredentials) {
			t.Fatalf("user %q, wrong password: %v", u, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("user %q (%s), wrong password: hashed with %q, want %q", u, a.users.Load().users[u].id, got, want)
		}
		// The right password stops at the user's own hash.
		got, err = did(u, "x")
		if err != nil || len(got) != 1 || got[0] != a.users.Load().users[u].id {
			t.Errorf("user %q, right password: %v, hashed with %q", u, err, got)
		}
	}
	// One cost for everyone: one hash per refusal.
	one, err := New("b", &config.BasicAuth{Users: map[string]string{"a": mustBcrypt(t, "x", 5)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := one.users.Load().dummies; len(d) != 1 || d[0].id != "bcrypt cost 5" || !d[0].dummy {
		t.Fatalf("dummies for one cost: %v", d)
	}
	if one.Warnings() != nil {
		t.Errorf("warnings for one cost: %v", one.Warnings())
	}
	// An empty user set still pays for a check.
	empty, err := New("b", &config.BasicAuth{HtpasswdFile: writeTemp(t, "# nobody yet\n")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := empty.users.Load().dummies; len(d) != 1 || d[0].id != "bcrypt cost 10" {
		t.Fatalf("dummies without users: %v", d)
	}
}

// TestUnknownUserSameCachePath: a success cached for a user is no shortcut for anyone
// else; an unknown user makes the same lookup and never hits.
func TestUnknownUserSameCachePath(t *testing.T) {
	h := newHarness(t, 100)
	if _, err := h.auth("192.0.2.1", basic("alice", "alice-pw")); err != nil {
		t.Fatal(err)
	}
	before := h.checks.total()
	if _, err := h.auth("192.0.2.1", basic("alicf", "alice-pw")); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatal(err)
	}
	if n := h.checks.dummy.Load(); h.checks.total()-before != 2 || n != 2 {
		t.Fatalf("unknown user after a cached success: %d checks (%d dummy), want 2 dummy", h.checks.total()-before, n)
	}
}

// TestMixedCostsWarning: the authenticator names what is mixed and where.
func TestMixedCostsWarning(t *testing.T) {
	file := writeTemp(t, "a:"+mustBcrypt(t, "x", 4)+"\nb:"+mustBcrypt(t, "x", 5)+"\nc:"+mustBcrypt(t, "x", 5)+"\n")
	tests := []struct {
		name  string
		cfg   config.BasicAuth
		field string
	}{
		{"file", config.BasicAuth{HtpasswdFile: file}, "htpasswd_file"},
		{"inline", config.BasicAuth{Users: map[string]string{"a": mustBcrypt(t, "x", 4), "z": mustArgon2(t, "x")}}, "users"},
		{"both", config.BasicAuth{HtpasswdFile: file, Users: map[string]string{"z": mustBcrypt(t, "x", 4)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &syncBuffer{}
			a, err := New("b", &tt.cfg, Options{Logger: slog.New(slog.NewTextHandler(log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			w := a.Warnings()
			if len(w) != 1 || w[0].Field != tt.field || !strings.Contains(w[0].Msg, "bcrypt cost 4: ") {
				t.Fatalf("warnings %+v, want one naming %q", w, tt.field)
			}
			if !strings.Contains(log.String(), "different costs") {
				t.Errorf("log: %s", log.String())
			}
		})
	}
	if !strings.Contains(warningsOf(t, file), "bcrypt cost 4: 1 user, bcrypt cost 5: 2 users") {
		t.Errorf("description: %s", warningsOf(t, file))
	}
}

func warningsOf(t *testing.T, file string) string {
	t.Helper()
	a, err := New("b", &config.BasicAuth{HtpasswdFile: file}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range a.Warnings() {
		out = append(out, w.Field+": "+w.Msg)
	}
	return strings.Join(out, "\n")
}

func writeTemp(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, p, data)
	return p
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, 3)
	const attacker, neighbour, other = "2001:db8:0:1::1", "2001:db8:0:1::2", "192.0.2.50"
	// The right password from the attacker's address works and does not reset anything.
	if _, err := h.auth(attacker, basic("alice", "alice-pw")); err != nil {
		t.Fatal(err)
	}
	for i, hdr := range []string{basic("alice", "guess1"), basic("mallory", "x"), "Basic !!"} {
		if _, err := h.auth(attacker, hdr); !errors.Is(err, policy.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	before := h.checks.total()
	// Blocked now, for the whole /64, without checking: even the right password is refused.
	for _, c := range []string{attacker, neighbour} {
		for _, hdr := range []string{basic("alice", "guess4"), basic("alice", "alice-pw"), basic("nobody", "x")} {
			_, err := h.auth(c, hdr)
			if !errors.Is(err, policy.ErrRateLimited) || !strings.Contains(err.Error(), "2001:db8:0:1::/64") {
				t.Fatalf("%s: %v, want rate limited", c, err)
			}
		}
	}
	if h.checks.total() != before {
		t.Fatalf("%d checks while rate limited", h.checks.total()-before)
	}
	// Requests without credentials are not refused for it: they carry nothing to limit.
	if _, err := h.auth(attacker); err != policy.ErrNoCredentials {
		t.Fatalf("no credentials: %v", err)
	}
	// Other clients are unaffected, and their successes change nothing for the attacker.
	if _, err := h.auth(other, basic("bob", "bob-pw")); err != nil {
		t.Fatalf("other client: %v", err)
	}
	if _, err := h.auth("2001:db8:0:2::1", basic("alice", "alice-pw")); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	if _, err := h.auth(attacker, basic("alice", "alice-pw")); !errors.Is(err, policy.ErrRateLimited) {
		t.Fatalf("after others' successes: %v", err)
	}
	// A minute after the first failure, the client may try again.
	h.clock.Advance(time.Minute)
	if _, err := h.auth(attacker, basic("alice", "alice-pw")); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}

func TestRateLimitUnknownClients(t *testing.T) {
	h := newHarness(t, 1)
	if _, err := h.auth("", basic("alice", "nope")); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatal(err)
	}
	if _, err := h.auth("", basic("alice", "alice-pw")); !errors.Is(err, policy.ErrRateLimited) || !strings.Contains(err.Error(), "unknown address") {
		t.Fatalf("unknown clients share a group: %v", err)
	}
	if _, err := h.auth("192.0.2.1", basic("alice", "alice-pw")); err != nil {
		t.Fatal(err)
	}
}

func TestSuccessCache(t *testing.T) {
	h := newHarness(t, 100)
	ok := func() {
		t.Helper()
		if _, err := h.auth("192.0.2.1", basic("alice", "alice-pw")); err != nil {
			t.Fatal(err)
		}
	}
	ok()
	ok()
	ok()
	if n := h.checks.real.Load(); n != 1 {
		t.Fatalf("%d checks for three requests with the same credentials", n)
	}
	// Failures are never cached: each costs a check.
	for range 3 {
		if _, err := h.auth("192.0.2.1", basic("alice", "alice-pX")); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	if n := h.checks.real.Load(); n != 4 {
		t.Fatalf("%d checks, want 4", n)
	}
	// Entries expire.
	h.clock.Advance(cacheTTL)
	ok()
	if n := h.checks.real.Load(); n != 5 {
		t.Fatalf("%d checks after the TTL, want 5", n)
	}
	// A reload of the users drops the cache; a changed password works at once.
	writeFile(t, h.file, "alice:"+mustBcrypt(t, "new-pw", 4)+"\n")
	h.a.reloadIfChanged()
	if _, err := h.auth("192.0.2.1", basic("alice", "alice-pw")); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatalf("old password after reload: %v", err)
	}
	if _, err := h.auth("192.0.2.1", basic("alice", "new-pw")); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestSuccessCacheBounded(t *testing.T) {
	c := newSuccessCache(4)
	now := time.Unix(0, 0)
	h := &hash{raw: []byte("h")}
	for i := range 10 {
		c.add(cacheKey("u", string(rune('a'+i)), h), now)
	}
	if len(c.expires) != 4 || len(c.order) != 4 {
		t.Fatalf("%d entries, %d in order; want 4", len(c.expires), len(c.order))
	}
	if c.ok(cacheKey("u", "a", h), now) || !c.ok(cacheKey("u", "j", h), now) {
		t.Fatal("not the oldest evicted")
	}
	// Length prefixes keep (user, password) pairs apart.
	if cacheKey("ab", "c", h) == cacheKey("a", "bc", h) || cacheKey("u", "p", h) == cacheKey("u", "p", &hash{raw: []byte("h2")}) {
		t.Fatal("cache keys collide")
	}
}

// TestCheckWaitsForASlot fills the check slots: a request with new credentials then
// waits, and gives up (as an outage, not a verdict) when its context ends.
func TestCheckWaitsForASlot(t *testing.T) {
	h := newHarness(t, 100)
	for range cap(checkSlots) {
		checkSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := h.a.Authenticate(ctx, request("192.0.2.1", basic("alice", "alice-pw")))
	for range cap(checkSlots) {
		<-checkSlots
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, policy.ErrBadCredentials) {
		t.Fatalf("err = %v, want the context's error", err)
	}
	if h.checks.total() != 0 {
		t.Fatal("checked without a slot")
	}
}

func TestConcurrentAuthenticate(t *testing.T) {
	h := newHarness(t, 5)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				client := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String()
				pw := "alice-pw"
				if j%3 == 0 {
					pw = "wrong"
				}
				h.auth(client, basic("alice", pw))
			}
		})
	}
	data := []byte("alice:" + mustBcrypt(t, "alice-pw", 4) + "\n")
	wg.Go(func() { // the poller's part: only one goroutine reloads
		for range 5 {
			if err := os.WriteFile(h.file+".tmp", data, 0o600); err != nil {
				t.Error(err)
			}
			if err := os.Rename(h.file+".tmp", h.file); err != nil {
				t.Error(err)
			}
			h.a.reloadIfChanged()
		}
	})
	wg.Wait()
}
