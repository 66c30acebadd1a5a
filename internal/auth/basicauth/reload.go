package basicauth

import (
	"context"
	"os"
	"time"
)

// Start follows the htpasswd file: every PollInterval it compares the file's identity,
// size and modification time with the version loaded and, if they differ, reads it again
// and swaps in the new users (with an empty success cache). A file that cannot be read
// or parsed is logged once per version and the users in force stay. Replace the file
// atomically (write a new one, rename it over the old) so a half-written file is never
// read; a half-written one is most likely refused and picked up again once complete.
//
// Start returns at once; polling stops when ctx ends or Close is called. Without an
// htpasswd file, or after the first call or Close, it does nothing.
func (a *Authenticator) Start(ctx context.Context) {
	if a.file == "" {
		return
	}
	a.life.Start(ctx, a.poll)
}

// Close stops polling and waits for it to finish. It always returns nil and may be
// called more than once, with or without Start.
func (a *Authenticator) Close() error {
	a.life.Close()
	return nil
}

func (a *Authenticator) poll(ctx context.Context) {
	t := time.NewTicker(a.pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.reloadIfChanged()
		}
	}
}

// settle is how long after its modification a file is read again at the next poll
// even if it looks unchanged: file systems with coarse timestamps could otherwise hide
// a second write of the same size made right after the first was read.
const settle = 2 * time.Second

// reloadIfChanged re-reads the htpasswd file if it changed since it was last read, and
// swaps in its users if they parse and merge; otherwise it logs why and keeps the users
// in force. Only the polling goroutine calls it (tests too, without Start).
func (a *Authenticator) reloadIfChanged() {
	fi, err := os.Stat(a.file)
	if err != nil {
		a.reloadFailed(err)
		return
	}
	unsettled := a.stamp.info != nil && a.stamp.read.Sub(a.stamp.info.ModTime()) < settle
	if !a.stamp.changed(fi) && !unsettled {
		return
	}
	entries, stamp, err := readHtpasswd(a.file)
	if err != nil {
		if stamp.info != nil {
			a.stamp = stamp // this version is bad: do not re-read it every poll
		}
		a.reloadFailed(err)
		return
	}
	same := stamp.sum == a.stamp.sum && a.lastErr == ""
	a.stamp = stamp
	if same {
		return // touched, or re-read while settling: same users, keep the cache
	}
	set, err := newUserSet(a.file, entries, a.inline, cacheSize)
	if err != nil {
		a.reloadFailed(err)
		return
	}
	a.users.Store(set)
	a.lastErr = ""
	a.logLoaded("htpasswd file reloaded", set)
}

// reloadFailed logs err unless it is the error already logged last time.
func (a *Authenticator) reloadFailed(err error) {
	if err.Error() == a.lastErr {
		return
	}
	a.lastErr = err.Error()
	a.log.Error("htpasswd file not reloaded; the previous users stay in force", "err", err)
}
