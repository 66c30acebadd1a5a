package basicauth

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

func (h *harness) mustAllow(t *testing.T, user, password string) {
	t.Helper()
	if _, err := h.auth("192.0.2.1", basic(user, password)); err != nil {
		t.Fatalf("%s: %v", user, err)
	}
}

func (h *harness) mustRefuse(t *testing.T, user, password string) {
	t.Helper()
	if _, err := h.auth("192.0.2.1", basic(user, password)); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatalf("%s: %v, want bad credentials", user, err)
	}
}

func TestReloadKeepsUsersOnBadFiles(t *testing.T) {
	h := newHarness(t, 1000)
	carol := "carol:" + mustBcrypt(t, "carol-pw", 4) + "\n"
	h.mustAllow(t, "alice", "alice-pw")

	// A plaintext password: refused with file and line, logged once, old users kept.
	writeFile(t, h.file, carol+"dave:hunter2\n")
	h.a.reloadIfChanged()
	h.a.reloadIfChanged()
	h.mustAllow(t, "alice", "alice-pw")
	h.mustRefuse(t, "carol", "carol-pw")
	if n := strings.Count(h.log.String(), "not reloaded"); n != 1 {
		t.Fatalf("%d error lines, want 1:\n%s", n, h.log)
	}
	if !strings.Contains(h.log.String(), h.file+":2:") || strings.Contains(h.log.String(), "hunter2") {
		t.Fatalf("log:\n%s", h.log)
	}

	// A user that is also inline: refused, kept.
	writeFile(t, h.file, carol+"bob:"+fixedBcrypt+"\n")
	h.a.reloadIfChanged()
	h.mustAllow(t, "bob", "bob-pw")
	h.mustRefuse(t, "carol", "carol-pw")

	// The file disappears: kept.
	if err := os.Remove(h.file); err != nil {
		t.Fatal(err)
	}
	h.a.reloadIfChanged()
	h.a.reloadIfChanged()
	h.mustAllow(t, "alice", "alice-pw")
	if n := strings.Count(h.log.String(), "no such file"); n != 1 {
		t.Fatalf("%d missing-file lines, want 1:\n%s", n, h.log)
	}

	// A good file: swapped in; alice is gone, inline bob stays.
	writeFile(t, h.file, carol)
	h.a.reloadIfChanged()
	h.mustAllow(t, "carol", "carol-pw")
	h.mustAllow(t, "bob", "bob-pw")
	h.mustRefuse(t, "alice", "alice-pw")
	if !strings.Contains(h.log.String(), "htpasswd file reloaded") {
		t.Fatalf("log:\n%s", h.log)
	}
}

func TestReloadTouchedFileKeepsCache(t *testing.T) {
	h := newHarness(t, 1000)
	h.mustAllow(t, "alice", "alice-pw")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(h.file, later, later); err != nil {
		t.Fatal(err)
	}
	before := h.a.users.Load()
	h.a.reloadIfChanged()
	if h.a.users.Load() != before {
		t.Fatal("a touched file replaced the users")
	}
	h.mustAllow(t, "alice", "alice-pw")
	if n := h.checks.real.Load(); n != 1 {
		t.Fatalf("%d checks: the cache was dropped", n)
	}
}

// TestReloadSameSizeSameMtime: a rewrite in place with the same size and modification
// time (as a coarse-timestamp file system can produce) is still picked up, because a
// file modified just before it was read is read again.
func TestReloadSameSizeSameMtime(t *testing.T) {
	h := newHarness(t, 1000)
	fi, err := os.Stat(h.file)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(h.file)
	if err != nil {
		t.Fatal(err)
	}
	swapped := strings.Replace(string(data), "alice:", "alicf:", 1)
	if err := os.WriteFile(h.file, []byte(swapped), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(h.file, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	h.a.reloadIfChanged()
	h.mustAllow(t, "alicf", "alice-pw")
	h.mustRefuse(t, "alice", "alice-pw")
}

// TestStartPollsUntilClose runs in a synctest bubble: the poll interval and the test's
// sleeps are on the bubble's fake clock.
func TestStartPollsUntilClose(t *testing.T) {
	synctest.Test(t, testStartPollsUntilClose)
}

func testStartPollsUntilClose(t *testing.T) {
	h := newHarness(t, 1000)
	h.a.Start(context.Background())
	h.a.Start(context.Background()) // no second poller
	writeFile(t, h.file, "carol:"+mustBcrypt(t, "carol-pw", 4)+"\n")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := h.auth("192.0.2.1", basic("carol", "carol-pw")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change was not picked up; log:\n%s", h.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.a.Close(); err != nil {
		t.Fatal(err)
	}
	h.a.Close()
	// Stopped: a new file is no longer read.
	writeFile(t, h.file, "dave:"+mustBcrypt(t, "dave-pw", 4)+"\n")
	time.Sleep(50 * time.Millisecond)
	h.mustRefuse(t, "dave", "dave-pw")
	h.a.Start(context.Background()) // after Close: nothing
	time.Sleep(50 * time.Millisecond)
	h.mustRefuse(t, "dave", "dave-pw")
}

func TestStartStopsWithContext(t *testing.T) {
	h := newHarness(t, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	h.a.Start(ctx)
	cancel()
	done := make(chan struct{})
	go func() { h.a.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
}

func TestStartWithoutFile(t *testing.T) {
	a, err := New("b", &config.BasicAuth{Users: map[string]string{"u": fixedBcrypt}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Start(context.Background())
	if a.life.Started() {
		t.Fatal("started a poller without a file")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}
