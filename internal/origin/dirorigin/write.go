package dirorigin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var (
	_ origin.Putter  = (*Dir)(nil)
	_ origin.Deleter = (*Dir)(nil)
	_ origin.Lister  = (*Dir)(nil)
)

// tempPrefix starts the names of files being written. Keys whose last segment starts
// with it are refused for writing and left out of listings.
const tempPrefix = ".gatehouse-put-"

// Put writes body to a new file in the key's folder (made as needed), syncs it, and
// then moves it into place in one step: with a rename, which replaces any file there,
// or, for a create-only write (IfNoneMatch "*"), with a hard link, which fails when the
// name exists, so no check-then-write race can let two writers both "create" it. A
// reader therefore sees the old file or the new one, never part of either. Everything
// happens under the folder's os.Root, so no key (nor a symbolic link inside the folder)
// reaches outside it. The file system must support hard links for create-only writes.
// Content type, metadata and the other stored headers are not kept (see
// origin.PutOptions).
func (d *Dir) Put(ctx context.Context, key string, body io.Reader, opt origin.PutOptions) (_ origin.Info, err error) {
	defer d.observe("Put", time.Now(), &err)
	if err := checkWriteKey(key); err != nil {
		return origin.Info{}, err
	}
	if err := origin.CheckIfNoneMatch(opt.IfNoneMatch); err != nil {
		return origin.Info{}, err
	}
	verify, err := origin.NewVerifier(opt.Checksums)
	if err != nil {
		return origin.Info{}, err
	}
	made := d.missingDir(path.Dir(key)) // removed again if the Put fails
	f, tmp, err := d.createTemp(key)
	if err != nil {
		d.removeMade(key, made)
		return origin.Info{}, err
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			d.root.Remove(tmp)
			d.removeMade(key, made)
		}
	}()
	if opt.Size >= 0 {
		body = origin.ExactReader(body, opt.Size)
	}
	if _, err := io.Copy(io.MultiWriter(f, verify), ctxReader{ctx, body}); err != nil {
		if errors.Is(err, origin.ErrSizeMismatch) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return origin.Info{}, err
		}
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == "write" { // our write, not the body's read
			return origin.Info{}, origin.Unavailable(err)
		}
		return origin.Info{}, fmt.Errorf("reading the body: %w", err)
	}
	if err := verify.Check(); err != nil {
		return origin.Info{}, err
	}
	if err := f.Sync(); err != nil {
		return origin.Info{}, origin.Unavailable(err)
	}
	st, err := f.Stat()
	if err != nil {
		return origin.Info{}, origin.Unavailable(err)
	}
	if err := f.Close(); err != nil {
		return origin.Info{}, origin.Unavailable(err)
	}
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	if opt.IfNoneMatch == "*" {
		err = d.root.Link(tmp, key)
		if errors.Is(err, fs.ErrExist) {
			return origin.Info{}, origin.Exists(key)
		}
		// tmp is removed by the deferred cleanup: the object is the link.
	} else {
		err = d.root.Rename(tmp, key)
		committed = err == nil
	}
	if err != nil {
		return origin.Info{}, mapWriteErr(err)
	}
	if !committed {
		committed = true
		f.Close()
		d.root.Remove(tmp)
	}
	d.syncDir(path.Dir(key))
	return fileInfo(key, st), nil
}

// createTemp makes the key's folder and an empty temporary file in it, whose name no
// other writer can pick. A concurrent Delete may remove the folder between the two
// steps (it removes folders it empties), so the pair is tried again a few times.
func (d *Dir) createTemp(key string) (*os.File, string, error) {
	dir := path.Dir(key)
	var rnd [12]byte
	for attempt := 0; ; attempt++ {
		if dir != "." {
			if err := d.root.MkdirAll(dir, 0o755); err != nil {
				return nil, "", mapWriteErr(err)
			}
		}
		rand.Read(rnd[:])
		tmp := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
		f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, tmp, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return nil, "", mapWriteErr(err)
		}
	}
}

// syncDir makes a rename or removal in dir durable. It is best effort: the object is
// already in place, and some file systems cannot sync a folder.
func (d *Dir) syncDir(dir string) {
	if f, err := d.root.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// Delete removes the file at key, then the real folders that removal left empty (S3 has
// no folders, so a prefix disappears with its last key; a folder origin behaves the same
// in listings), stopping at a symbolic link. A key with no file (or naming a folder)
// succeeds: there is no object.
func (d *Dir) Delete(_ context.Context, key string) (err error) {
	defer d.observe("Delete", time.Now(), &err)
	if err := checkWriteKey(key); err != nil {
		return err
	}
	st, err := d.root.Lstat(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isErrno(err, syscall.ENOTDIR) {
			return nil
		}
		return mapWriteErr(err)
	}
	if st.IsDir() {
		return nil
	}
	if err := d.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return mapWriteErr(err)
	}
	dir := path.Dir(key)
	d.syncDir(dir)
	d.removeEmptyDirs(dir, "")
	return nil
}

// removeMade removes, when they are still empty, the folders a failed Put of key made
// (made: the highest of them, "" for none).
func (d *Dir) removeMade(key, made string) {
	if made != "" {
		d.removeEmptyDirs(path.Dir(key), made)
	}
}

// missingDir returns the highest folder on the way to dir (dir itself or one of its
// parents) that does not exist yet, which a Put will make; "" when dir exists. A Put that
// fails removes what it made, up to that folder, with removeEmptyDirs.
func (d *Dir) missingDir(dir string) string {
	top := ""
	for dir != "." {
		if _, err := d.root.Lstat(dir); err == nil {
			break
		}
		top, dir = dir, path.Dir(dir)
	}
	return top
}

// removeEmptyDirs removes dir and then its parents while they are empty, up to top
// included ("": up to the root, which stays). Only a real folder is removed: each is
// looked at with Lstat first and the walk stops at anything else, so an operator's
// symbolic link to a folder (which Remove would unlink, whatever its target holds) is
// never taken for an emptied folder. A folder that is not empty fails Remove, which ends
// the walk.
func (d *Dir) removeEmptyDirs(dir, top string) {
	for dir != "." {
		st, err := d.root.Lstat(dir)
		if err != nil || !st.IsDir() || d.root.Remove(dir) != nil || dir == top {
			return
		}
		dir = path.Dir(dir)
	}
}

// checkWriteKey refuses keys a folder cannot name as a file under its root. Escapes
// ("..", absolute paths, symbolic links out of the folder) are refused again by os.Root.
func checkWriteKey(key string) error {
	if err := origin.CheckKey(key); err != nil {
		return err
	}
	if key == "" || !fs.ValidPath(key) || key == "." {
		return fmt.Errorf("%w: key %q is not a file name under the folder", origin.ErrBadRequest, key)
	}
	for _, seg := range strings.Split(key, "/") {
		// Any segment: listings skip every entry with the prefix, folders included, so a
		// key under such a folder could be written but never listed.
		if strings.HasPrefix(seg, tempPrefix) {
			return fmt.Errorf("%w: key %q uses the reserved prefix %s", origin.ErrBadRequest, key, tempPrefix)
		}
	}
	return nil
}

// mapWriteErr sorts file-system errors of a write. Names that cannot be files here (a
// file where a folder is needed, a folder where the file goes) are ErrKeyConflict;
// names refused outright (an escape, too long, a symlink loop) are ErrBadRequest, the
// client's doing; the rest is an outage.
func mapWriteErr(err error) error {
	switch {
	case isErrno(err, syscall.ENOTDIR), isErrno(err, syscall.EISDIR), isErrno(err, syscall.ENOTEMPTY),
		isErrno(err, syscall.EEXIST), errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: %w", origin.ErrKeyConflict, err)
	case isErrno(err, syscall.ENAMETOOLONG), isErrno(err, syscall.ELOOP), errors.Is(err, fs.ErrInvalid),
		strings.Contains(err.Error(), "path escapes from parent"):
		return fmt.Errorf("%w: %w", origin.ErrBadRequest, err)
	}
	return origin.Unavailable(err)
}

func isErrno(err error, n syscall.Errno) bool {
	var e syscall.Errno
	return errors.As(err, &e) && e == n
}

// fileInfo describes a file as Head does (see Dir.open).
func fileInfo(key string, st fs.FileInfo) origin.Info {
	ct := mime.TypeByExtension(path.Ext(key))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return origin.Info{Size: st.Size(), ETag: etag(st), LastModified: st.ModTime(), ContentType: ct}
}

// etag is the ETag Dir.open gives a file (TestListETagMatchesHead keeps them equal).
func etag(st fs.FileInfo) string {
	return `"` + strconv.FormatInt(st.ModTime().UnixNano(), 16) + "-" + strconv.FormatInt(st.Size(), 16) + `"`
}

// ctxReader stops reading once ctx is done. A Read already blocked in the body is not
// interrupted: the caller ends it by closing the body (net/http does so for a request
// whose client went away).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
