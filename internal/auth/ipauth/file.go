package ipauth

import (
	"context"
	"net/netip"
	"os"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
)

// fileLoader reads a plain list (ipranges.ParsePlain) from a local file. Polling is
// portable and costs one stat per interval. A file looks changed when its modification
// time or size differs, or a different file is at the path (replaced by rename, as
// editors and configuration tools do). A change is read once it has settled, that is
// when two consecutive polls see the same state, so that a file caught half-written
// (truncated to nothing, say) is not taken for the new list; the first read and Load
// do not wait. A rewrite in place that keeps both size and modification time is not
// noticed until the next change. Writing the new list to a temporary file and renaming
// it over the old one is the safe way to update.
type fileLoader struct {
	path string
	poll time.Duration

	attempted bool
	last      os.FileInfo // of the last read, successful or not; nil: none, or the file vanished
	pending   os.FileInfo // a changed state waiting to settle
	err       error       // of the last attempt (stat or read), returned while nothing new is read
}

func (f *fileLoader) interval() time.Duration { return f.poll }

func (f *fileLoader) load(_ context.Context, force bool) ([]netip.Prefix, bool, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		f.attempted, f.last, f.pending, f.err = true, nil, nil, err
		return nil, false, err
	}
	if !force && f.attempted {
		if f.last != nil && sameState(f.last, st) {
			f.pending = nil
			return nil, false, f.err // unchanged: same result as last time
		}
		if f.pending == nil || !sameState(f.pending, st) {
			f.pending = st
			return nil, false, f.err // changed: read when it has settled
		}
	}
	prefixes, err := readPlainFile(f.path)
	f.attempted, f.last, f.pending, f.err = true, st, nil, err
	if err != nil {
		return nil, false, err
	}
	return prefixes, true, nil
}

func sameState(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

func readPlainFile(path string) ([]netip.Prefix, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return ipranges.ParsePlain(fh)
}
