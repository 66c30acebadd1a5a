//go:build unix

package server

import "syscall"

// raiseFDLimit raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit and
// reports both after the attempt, and the soft limit before it. The Go runtime already
// raises it to one below the hard limit at start (syscall's init); this takes the last
// one and, more usefully, reports the numbers the connection limit is derived from.
// ok is false when the limit cannot be read.
func raiseFDLimit() (soft, hard, before uint64, ok bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, 0, false
	}
	before = uint64(lim.Cur)
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			lim = want
		}
	}
	return uint64(lim.Cur), uint64(lim.Max), before, true
}
