package ipauth

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// writeFile writes content and sets the modification time, so that tests control
// whether a change is visible to polling whatever the file system's clock resolution.
func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestFileSource runs in a synctest bubble: polls and waits are on its fake clock. Its
// steps share one authenticator, in order (a bubble allows no t.Run).
func TestFileSource(t *testing.T) {
	synctest.Test(t, testFileSource)
}

func testFileSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "allow.txt")
	base := time.Now().Add(-time.Hour)
	// A change is read once two polls in a row see the same state. The half-written-file
	// case below needs the test to finish its write within two polls; 10ms polls made that
	// fail on a loaded 2-core CI machine under -race, so this test polls every 100ms.
	a, logs := newAuth(t, &config.IPAuth{Files: []string{path}}, Options{FilePoll: 100 * time.Millisecond})
	has := func(s string) bool { return a.Contains(netip.MustParseAddr(s)) }

	a.Start(context.Background())
	// Missing at start: not ready, and the reason names the file.
	eventually(t, "a failed first read", func() bool {
		err := a.Ready()
		return err != nil && strings.Contains(err.Error(), "no such file")
	})
	check(t, a, "192.0.2.1", "outage")

	writeFile(t, path, "# office\n192.0.2.0/24\n", base)
	eventually(t, "first load", func() bool { return a.Ready() == nil })
	check(t, a, "192.0.2.1", "allow")

	// Change is picked up.
	{
		writeFile(t, path, "198.51.100.0/24\n", base.Add(time.Second))
		eventually(t, "new set", func() bool { return has("198.51.100.1") && !has("192.0.2.1") })
	}
	// Replaced by rename with same size and time.
	{
		tmp := filepath.Join(dir, "new.txt")
		writeFile(t, tmp, "203.0.113.0/24\n", base.Add(time.Second)) // same length as the last content
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		eventually(t, "replaced set", func() bool { return has("203.0.113.1") && !has("198.51.100.1") })
	}
	// Bad content keeps the last good set.
	{
		writeFile(t, path, "203.0.113.0/24\n10.0.0.1/8\n", base.Add(2*time.Second))
		eventually(t, "warning", func() bool { return strings.Contains(logs.String(), `line 2: \"10.0.0.1/8\" has host bits set`) })
		check(t, a, "203.0.113.1", "allow")
		check(t, a, "10.0.0.1", "forbidden")
		if err := a.Ready(); err != nil {
			t.Errorf("Ready() = %v", err)
		}
	}
	// Removed file keeps the last good set.
	{
		writeFile(t, path, "203.0.113.0/24\n", base.Add(3*time.Second))
		eventually(t, "recovery", func() bool { return strings.Contains(logs.String(), "ip source recovered") })
		warnings := strings.Count(logs.String(), "no such file")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		eventually(t, "warning", func() bool { return strings.Count(logs.String(), "no such file") > warnings })
		check(t, a, "203.0.113.1", "allow")
	}
	// A half-written file is not read.
	{
		// Truncated to nothing (as os.WriteFile does first) and left so for one poll:
		// an empty list would deny everyone, so it must settle before it is read.
		writeFile(t, path, "203.0.113.0/24\n", base.Add(5*time.Second))
		eventually(t, "reload", func() bool { return has("203.0.113.1") })
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Millisecond) // less than a poll: never two equal observations
		fh.WriteString("198.51.100.0/24\n")
		fh.Close()
		eventually(t, "the complete file", func() bool { return has("198.51.100.1") })
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `msg="ip source loaded"`) && strings.Contains(line, " prefixes=0 ") {
				t.Errorf("an empty list was loaded: %s", line)
			}
		}
	}
	// Comes back.
	{
		writeFile(t, path, "2001:db8::/32\n", base.Add(4*time.Second))
		eventually(t, "new set", func() bool { return has("2001:db8::1") && !has("203.0.113.1") })
	}
}

// TestFileLoadRereads: Load reads files even when they look unchanged, which polling
// would skip (same size, time and inode).
func TestFileLoadRereads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow.txt")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, "192.0.2.0/24\n", mtime)
	a, _ := newAuth(t, &config.IPAuth{Files: []string{path}}, Options{})
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, a, "192.0.2.1", "allow")
	writeFile(t, path, "10.20.0.0/24\n", mtime) // same length, same time
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, a, "10.20.0.1", "allow")
	check(t, a, "192.0.2.1", "forbidden")
}

// TestFileLoaderSettles drives the loader poll by poll: a changed file is read only
// when two polls in a row see the same state, except on the first read and for Load.
func TestFileLoaderSettles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow.txt")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, "192.0.2.0/24\n", mtime)
	f := &fileLoader{path: path, poll: time.Second}
	type result struct {
		n       int
		changed bool
		err     bool
	}
	poll := func(force bool) result {
		ps, changed, err := f.load(context.Background(), force)
		return result{len(ps), changed, err != nil}
	}
	steps := []struct {
		name  string
		do    func()
		force bool
		want  result
	}{
		{"first read is immediate", nil, false, result{1, true, false}},
		{"unchanged", nil, false, result{0, false, false}},
		{"truncated: waits", func() { writeFile(t, path, "", mtime.Add(time.Second)) }, false, result{0, false, false}},
		{"written: waits again", func() { writeFile(t, path, "192.0.2.0/24\n198.51.100.0/24\n", mtime.Add(2*time.Second)) }, false, result{0, false, false}},
		{"settled: read", nil, false, result{2, true, false}},
		{"bad content: waits", func() { writeFile(t, path, "x\n", mtime.Add(3*time.Second)) }, false, result{0, false, false}},
		{"bad content: error", nil, false, result{0, false, true}},
		{"still bad: same error", nil, false, result{0, false, true}},
		{"Load reads at once", func() { writeFile(t, path, "10.0.0.0/8\n", mtime.Add(4*time.Second)) }, true, result{1, true, false}},
		{"removed: error", func() { os.Remove(path) }, false, result{0, false, true}},
		{"back: waits", func() { writeFile(t, path, "10.0.0.0/8\n", mtime) }, false, result{0, false, true}},
		{"back: read", nil, false, result{1, true, false}},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		if got := poll(s.force); got != s.want {
			t.Errorf("%s: got %+v, want %+v", s.name, got, s.want)
		}
	}
}
