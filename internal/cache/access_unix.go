//go:build unix

package cache

import "golang.org/x/sys/unix"

// canUse reports whether this process may use folder dir: read, write and enter it
// (read too when it is the cache folder itself, which is scanned at start).
func canUse(dir string, read bool) error {
	mode := uint32(unix.W_OK | unix.X_OK)
	if read {
		mode |= unix.R_OK
	}
	return unix.Access(dir, mode)
}
