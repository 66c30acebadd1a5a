package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkACMEStorage reports whether dir can hold server.tls.acme's account key and
// certificates: an existing folder this process can create files in, or a path whose
// nearest existing ancestor is a folder it can create folders in (serve creates the
// rest, mode 0700). It tries, with a temporary entry removed at once, rather than
// reading permission bits: those say yes to root in /proc or on a read-only mount,
// where serving would then fail.
func checkACMEStorage(dir string) error {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("%s is not a folder", p)
		case err == nil && p == filepath.Clean(dir):
			f, err := os.CreateTemp(p, ".gatehouse-check-*")
			if err != nil {
				return fmt.Errorf("cannot create files in %s: %w", p, pathCause(err))
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		case err == nil:
			d, err := os.MkdirTemp(p, ".gatehouse-check-*")
			if err != nil {
				return fmt.Errorf("cannot create a folder in %s: %w", p, pathCause(err))
			}
			os.Remove(d)
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return err
		}
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link to nothing", p)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("no part of %s exists", dir)
		}
		p = parent
	}
}

// pathCause is the system's reason inside a path error, without the temporary name.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
