package dirorigin

import (
	"context"
	"errors"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// List lists the folder's files as S3 lists keys: keys are slash-separated paths from
// the root, in ascending byte order, and folders are not entries of their own (an
// empty folder lists nothing). It walks the tree depth first, reading each folder it
// enters whole and sorting it so that the walk meets keys in S3's order (a folder sorts
// as its name plus "/", which is where its keys fall), and skips folders whose keys all
// lie before the page's start or outside the prefix. A page thus costs reading the
// folders on the way to its start, not the whole tree.
//
// Files only are listed: symbolic links are listed when they point to a file inside
// the root and never followed into folders (a link to a parent would loop); files
// being written (see Put) are left out. The token is the last entry of the page (a key
// or a common prefix), used as the start of the next.
func (d *Dir) List(ctx context.Context, prefix string, opt origin.ListOptions) (_ origin.ListPage, err error) {
	defer d.observe("List", time.Now(), &err)
	opt, err = origin.CheckListOptions(opt)
	if err != nil {
		return origin.ListPage{}, err
	}
	w := &walker{d: d, ctx: ctx, prefix: prefix, delim: opt.Delimiter != "", after: opt.StartAfter}
	if opt.Token != "" {
		w.after = opt.Token
	}
	var page origin.ListPage
	var last string
	n := 0
	err = w.walk("", func(e entry) bool {
		if n == opt.Max {
			page.Next = last
			return false
		}
		n++
		if e.prefix != "" {
			page.Prefixes = append(page.Prefixes, e.prefix)
			last = e.prefix
		} else {
			page.Objects = append(page.Objects, e.obj)
			last = e.obj.Key
		}
		return true
	})
	if err != nil {
		return origin.ListPage{}, err
	}
	return page, nil
}

// entry is an object or a common prefix met by the walk.
type entry struct {
	obj    origin.ListObject
	prefix string
}

type walker struct {
	d      *Dir
	ctx    context.Context
	prefix string
	delim  bool
	after  string
}

// errStop ends a walk early; it is not an error.
var errStop = errors.New("stop")

// walk calls emit for the entries under the folder dir ("" for the root, else a key
// prefix ending in "/") in key order, until emit returns false.
func (w *walker) walk(dir string, emit func(entry) bool) error {
	err := w.walkDir(dir, emit)
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (w *walker) walkDir(dir string, emit func(entry) bool) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	names, err := w.readDir(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		isDir := strings.HasSuffix(n, "/")
		k := dir + n // for a folder, its key prefix, ending in "/"
		if !isDir {
			if !strings.HasPrefix(k, w.prefix) || !w.passes(k) {
				continue
			}
			st, err := w.d.root.Stat(k) // follows a symlink, inside the root only
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			if !emit(entry{obj: origin.ListObject{Key: k, Size: st.Size(), ETag: etag(st), LastModified: st.ModTime()}}) {
				return errStop
			}
			continue
		}
		inPrefix := strings.HasPrefix(k, w.prefix)
		if !inPrefix && !strings.HasPrefix(w.prefix, k) || w.before(k) {
			continue
		}
		if inPrefix && w.delim && len(k) > len(w.prefix) {
			// Every key under k has a "/" past the prefix (the one ending k: the prefix
			// holds none past dir, or the walk would not be at this level), so all roll
			// up into k. As in S3, a common prefix comes after the start when it sorts
			// after it: one that holds the start (or is it, as a token) is skipped
			// whole. k is listed once if it holds a key at all.
			if k <= w.after {
				continue
			}
			found := false
			err := w.walkDir(k, func(entry) bool { found = true; return false })
			if err != nil && !errors.Is(err, errStop) {
				return err
			}
			if found && !emit(entry{prefix: k}) {
				return errStop
			}
			continue
		}
		if err := w.walkDir(k, emit); err != nil {
			return err
		}
	}
	return nil
}

// passes reports whether key k comes after the page's start.
func (w *walker) passes(k string) bool { return k > w.after }

// before reports whether every key under the folder prefix k comes before the page's
// start.
func (w *walker) before(k string) bool {
	return k < w.after && !strings.HasPrefix(w.after, k)
}

// readDir returns the names in folder dir sorted in key order, folders with a trailing
// "/". Files being written are left out; symbolic links count as files (see List).
func (w *walker) readDir(dir string) ([]string, error) {
	name := strings.TrimSuffix(dir, "/")
	if name == "" {
		name = "."
	}
	f, err := w.d.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // removed while listing: nothing under it
		}
		return nil, mapErr(err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, origin.Unavailable(err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, tempPrefix) {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
