// Package dirorigin serves objects from a local folder. The folder is opened as an
// os.Root, so no key can reach outside it: not through "..", not through absolute paths,
// not through symbolic links that point out of the folder. Folders themselves are never
// served or listed.
package dirorigin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// Dir is an origin backed by a local folder.
type Dir struct {
	root *os.Root
	path string // as configured, for Probe
	// observer, when set, records every call (observe.go).
	observer atomic.Pointer[origin.Observer]
}

var _ origin.Origin = (*Dir)(nil)

// Open opens the folder at dir. It fails if dir does not exist or is not a folder.
func Open(dir string) (*Dir, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open folder: %w", err)
	}
	return &Dir{root: r, path: dir}, nil
}

// Close releases the folder.
func (d *Dir) Close() error { return d.root.Close() }

// Probe checks that the folder is still there, still a folder and readable. A failure
// is a *probe.Error (folder_missing, not_a_folder, permission_denied, other).
func (d *Dir) Probe(context.Context) error {
	fi, err := os.Stat(d.path)
	if err == nil && !fi.IsDir() {
		return probe.New(probe.NotAFolder, origin.Unavailable(errors.New("not a folder")), "%q is not a folder", d.path)
	}
	if err == nil {
		if open, serr := d.root.Stat("."); serr == nil && !os.SameFile(fi, open) {
			return probe.New(probe.FolderReplaced, origin.Unavailable(errors.New("replaced")),
				"folder %q was replaced since gatehouse opened it: reload to serve the new one", d.path)
		}
		var f *os.File
		if f, err = d.root.Open("."); err == nil {
			_, err = f.Readdirnames(1)
			f.Close()
			if errors.Is(err, io.EOF) {
				err = nil // empty, and readable
			}
		}
	}
	return probeError(d.path, err)
}

// probeError classifies why the folder at path could not be read; nil for nil.
func probeError(path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return probe.New(probe.FolderMissing, origin.Unavailable(err), "folder %q does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return probe.New(probe.PermissionDenied, origin.Unavailable(err), "no permission to read folder %q (running as uid %d)", path, os.Geteuid())
	}
	return probe.New(probe.Other, origin.Unavailable(err), "folder %q cannot be read: %v", path, err)
}

// Head describes the file at key. Of opt, only Cond matters: a folder holds one
// representation per key (no variants, no codings made at the edge) and fills no Served.
func (d *Dir) Head(_ context.Context, key string, opt origin.HeadOptions) (_ origin.Info, err error) {
	defer d.observe("Head", time.Now(), &err)
	f, info, err := d.open(key)
	if err != nil {
		return origin.Info{}, err
	}
	f.Close()
	return info, opt.Cond.Evaluate(info)
}

// Get opens the file at key, or the range of it opt asks for. As for Head, Variant,
// Encoding and Served are ignored.
func (d *Dir) Get(_ context.Context, key string, opt origin.GetOptions) (_ *origin.Object, err error) {
	defer d.observe("Get", time.Now(), &err)
	f, info, err := d.open(key)
	if err != nil {
		return nil, err
	}
	if err := opt.Cond.Evaluate(info); err != nil {
		f.Close()
		return nil, err
	}
	obj := &origin.Object{Info: info, Body: f}
	if opt.Range != nil {
		r, ok := opt.Range.Resolve(info.Size)
		if !ok {
			f.Close()
			return nil, &origin.RangeError{Size: info.Size}
		}
		obj.Range = &r
		obj.Body = struct {
			io.Reader
			io.Closer
		}{io.NewSectionReader(f, r.Start, r.Length()), f}
	}
	return obj, nil
}

func (d *Dir) open(key string) (*os.File, origin.Info, error) {
	if key == "" || !fs.ValidPath(key) {
		return nil, origin.Info{}, origin.NotFound("invalid key")
	}
	f, err := d.root.Open(key)
	if err != nil {
		return nil, origin.Info{}, mapErr(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, origin.Info{}, mapErr(err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, origin.Info{}, origin.NotFound("not a regular file")
	}
	mt := st.ModTime()
	ct := mime.TypeByExtension(path.Ext(key))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return f, origin.Info{
		Size:         st.Size(),
		ETag:         `"` + strconv.FormatInt(mt.UnixNano(), 16) + "-" + strconv.FormatInt(st.Size(), 16) + `"`,
		LastModified: mt,
		ContentType:  ct,
	}, nil
}

// mapErr turns file-system errors into origin errors. Whatever a client's choice of key
// can cause (missing file, escape refused by os.Root, a file used as a folder, a symlink
// loop, a name too long) is "not found": the client must not learn which it was. Anything
// else (I/O errors, too many open files) is an outage.
func mapErr(err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrInvalid):
		return origin.NotFound(err.Error())
	case errors.As(err, &errno) && (errno == syscall.ENOTDIR || errno == syscall.ELOOP || errno == syscall.ENAMETOOLONG):
		return origin.NotFound(err.Error())
	case strings.Contains(err.Error(), "path escapes from parent"):
		return origin.NotFound(err.Error())
	}
	return origin.Unavailable(err)
}
