package cache

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// disk is the on-disk tier. Each entry is one file named by the SHA-256 of its key:
//
//	magic "GHC1" | u32 key length | key | u8 kind (0 meta, 1 slice) | u64 data length |
//	u32 CRC-32C of data | data
//
// The key (which holds the object's ETag for slices) and the length are checked on every
// read, and the checksum too; an entry that fails is deleted and reported as a miss.
// Files are written to a temporary name, synced and renamed, so a crash leaves either the
// old entry, the new one or a temporary file that the next start removes. The index is
// rebuilt at start by reading every file's header; the least recently accessed entries
// go first when the tier is over its size. The index keeps its entries in a list ordered
// by access (most recent first), so a write to a full tier evicts from the list's end in
// time proportional to what it evicts; it used to sort the whole index under the lock on
// every such write.
type disk struct {
	dir   string
	stats *Stats

	mu    sync.Mutex
	max   int64
	index map[string]*diskEntry
	lru   *list.List // of *diskEntry, most recently accessed first
	total int64
}

type diskEntry struct {
	key  string
	file string
	size int64
	elem *list.Element
	// verified: the file's checksum is known to match, because this process wrote it or
	// checked it once (see open); guarded by disk.mu.
	verified bool
}

const diskMagic = "GHC1"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// inspectDisk checks, without creating or changing anything, that openDisk could use
// dir: an existing folder gatehouse may read and write in, or a path whose nearest
// existing ancestor is a folder it may create folders in (openDisk creates the rest).
func inspectDisk(dir string) error {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("cache.disk.path: %s is not a folder", p)
		case err == nil && p == filepath.Clean(dir):
			if err := canUse(p, true); err != nil {
				return fmt.Errorf("cache.disk.path: cannot read and write in %s: %w", p, err)
			}
			return nil
		case err == nil:
			if err := canUse(p, false); err != nil {
				return fmt.Errorf("cache.disk.path: cannot create a folder in %s: %w", p, err)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("cache.disk.path: %w", err)
		}
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("cache.disk.path: %s is a symbolic link to nothing", p)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("cache.disk.path: no part of %s exists", dir)
		}
		p = parent
	}
}

func openDisk(dir string, max int64, st *Stats) (*disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache.disk.path: %w", err)
	}
	d := &disk{dir: dir, max: max, stats: st, index: map[string]*diskEntry{}, lru: list.New()}
	// Files are put in access order once, by modification time (when they were written).
	type found struct {
		e  *diskEntry
		at time.Time
	}
	var all []found
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".tmp") {
			os.Remove(p) // a write that never finished
			return nil
		}
		key, size, ok := readHeader(p)
		if !ok {
			os.Remove(p)
			return nil
		}
		at := time.Now()
		if fi, err := de.Info(); err == nil {
			at = fi.ModTime()
		}
		all = append(all, found{&diskEntry{key: key, file: p, size: size}, at})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning cache.disk.path: %w", err)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.After(all[j].at) })
	d.mu.Lock()
	for _, f := range all {
		if _, dup := d.index[f.e.key]; dup {
			os.Remove(f.e.file) // an older copy of an entry under another name
			continue
		}
		f.e.elem = d.lru.PushBack(f.e)
		d.index[f.e.key] = f.e
		d.total += f.e.size
	}
	d.evictLocked()
	d.mu.Unlock()
	return d, nil
}

func (d *disk) fileFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(d.dir, h[:2], h)
}

// readHeader reads a file's key and checks that its length matches the header.
func readHeader(p string) (string, int64, bool) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, false
	}
	var head [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil || string(head[:4]) != diskMagic {
		return "", 0, false
	}
	kl := int64(binary.BigEndian.Uint32(head[4:]))
	if kl > 1<<16 {
		return "", 0, false
	}
	rest := make([]byte, kl+13)
	if _, err := f.ReadAt(rest, 8); err != nil {
		return "", 0, false
	}
	dl := int64(binary.BigEndian.Uint64(rest[kl+1:]))
	if 8+kl+13+dl != fi.Size() {
		return "", 0, false
	}
	return string(rest[:kl]), fi.Size(), true
}

// encodeItem returns an entry's file header and its data (written after it): the data
// is not copied, so writing a slice costs no second buffer of its size.
func encodeItem(key string, it *item) (head, data []byte, err error) {
	kind := byte(1)
	data = it.data
	if it.meta != nil {
		kind = 0
		if data, err = json.Marshal(it.meta); err != nil {
			return nil, nil, err
		}
	}
	var b bytes.Buffer
	b.Grow(len(key) + 25)
	b.WriteString(diskMagic)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(key))))
	b.WriteString(key)
	b.WriteByte(kind)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(data))))
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crcTable)))
	return b.Bytes(), data, nil
}

func decodeItem(key string, raw []byte) (*item, error) {
	if len(raw) < 8 || string(raw[:4]) != diskMagic {
		return nil, errors.New("bad magic")
	}
	kl := int(binary.BigEndian.Uint32(raw[4:]))
	if len(raw) < 8+kl+13 {
		return nil, errors.New("truncated header")
	}
	if string(raw[8:8+kl]) != key {
		return nil, errors.New("key (or ETag) mismatch")
	}
	p := raw[8+kl:]
	kind, dl, sum := p[0], binary.BigEndian.Uint64(p[1:]), binary.BigEndian.Uint32(p[9:])
	data := p[13:]
	if uint64(len(data)) != dl {
		return nil, fmt.Errorf("length %d, header says %d", len(data), dl)
	}
	if crc32.Checksum(data, crcTable) != sum {
		return nil, errors.New("checksum mismatch")
	}
	if kind == 0 {
		m := &meta{}
		if err := json.Unmarshal(data, m); err != nil {
			return nil, err
		}
		return &item{meta: m}, nil
	}
	return &item{data: data}, nil
}

// has reports whether key is in the index (its file is checked when it is read).
func (d *disk) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.index[key]
	return ok
}

func (d *disk) get(key string) (*item, bool) {
	d.mu.Lock()
	e, ok := d.index[key]
	if ok {
		d.lru.MoveToFront(e.elem)
	}
	d.mu.Unlock()
	if !ok {
		return nil, false
	}
	raw, err := os.ReadFile(e.file)
	if err == nil {
		var it *item
		if it, err = decodeItem(key, raw); err == nil {
			return it, true
		}
	}
	d.drop(key) // truncated, corrupt or gone: never served
	return nil, false
}

func (d *disk) set(key string, it *item) {
	head, data, err := encodeItem(key, it)
	if err != nil {
		return
	}
	p := d.fileFor(key)
	if err := writeAtomic(p, head, data); err != nil {
		return // the disk tier is best effort: the entry is fetched again when next asked for
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addLocked(key, p, int64(len(head)+len(data)))
	d.index[key].verified = true
}

// diskFile is an open slice file of the disk tier: the slice's bytes are off..off+n-1
// of f. Whoever holds it closes f.
type diskFile struct {
	f      *os.File
	off, n int64
}

// open opens key's slice file for reading in place (see Store.getSlice): its header's
// magic, key (which holds the ETag), kind and length are checked against the file on
// every open, and its checksum the first time the process opens a file it did not write
// (a file written since the start was checksummed as it was written). A file that fails
// is deleted and reported as a miss, as by get.
func (d *disk) open(key string) (diskFile, bool) {
	d.mu.Lock()
	e, ok := d.index[key]
	var file string
	var verified bool
	if ok {
		d.lru.MoveToFront(e.elem)
		file, verified = e.file, e.verified
	}
	d.mu.Unlock()
	if !ok {
		return diskFile{}, false
	}
	df, err := openChecked(file, key, verified)
	if err != nil {
		d.drop(key) // truncated, corrupt or gone: never served
		return diskFile{}, false
	}
	if !verified {
		d.mu.Lock()
		if cur, ok := d.index[key]; ok && cur == e {
			e.verified = true
		}
		d.mu.Unlock()
	}
	return df, true
}

// openChecked opens file and checks its header against key (and, unless verified, its
// data against the checksum).
func openChecked(file, key string, verified bool) (diskFile, error) {
	f, err := os.Open(file)
	if err != nil {
		return diskFile{}, err
	}
	df, err := checkOpen(f, key, verified)
	if err != nil {
		f.Close()
	}
	return df, err
}

func checkOpen(f *os.File, key string, verified bool) (diskFile, error) {
	fi, err := f.Stat()
	if err != nil {
		return diskFile{}, err
	}
	head := make([]byte, 8+len(key)+13)
	if _, err := f.ReadAt(head, 0); err != nil {
		return diskFile{}, err
	}
	if string(head[:4]) != diskMagic || int(binary.BigEndian.Uint32(head[4:])) != len(key) ||
		string(head[8:8+len(key)]) != key {
		return diskFile{}, errors.New("bad magic or key (or ETag) mismatch")
	}
	p := head[8+len(key):]
	kind, dl, sum := p[0], int64(binary.BigEndian.Uint64(p[1:])), binary.BigEndian.Uint32(p[9:])
	off := int64(len(head))
	if kind != 1 || dl < 0 || off+dl != fi.Size() {
		return diskFile{}, fmt.Errorf("not a slice of %d bytes", fi.Size()-off)
	}
	if !verified {
		h := crc32.New(crcTable)
		if _, err := io.Copy(h, io.NewSectionReader(f, off, dl)); err != nil {
			return diskFile{}, err
		}
		if h.Sum32() != sum {
			return diskFile{}, errors.New("checksum mismatch")
		}
	}
	return diskFile{f: f, off: off, n: dl}, nil
}

// addLocked records that key's entry, in file p, now holds size bytes and is the most
// recently accessed, then evicts what the tier holds beyond its size.
func (d *disk) addLocked(key, p string, size int64) {
	if e, ok := d.index[key]; ok {
		d.total += size - e.size
		e.file, e.size = p, size
		d.lru.MoveToFront(e.elem)
	} else {
		e := &diskEntry{key: key, file: p, size: size}
		e.elem = d.lru.PushFront(e)
		d.index[key] = e
		d.total += size
	}
	d.evictLocked()
}

// setMax changes the tier's size, evicting at once what a smaller size leaves over it.
func (d *disk) setMax(max int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.max = max
	d.evictLocked()
}

func writeAtomic(p string, head, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), "entry-*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(head)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// evictLocked deletes the least recently accessed entries until the tier fits its size.
func (d *disk) evictLocked() {
	for d.total > d.max {
		back := d.lru.Back()
		if back == nil {
			return
		}
		d.removeLocked(back.Value.(*diskEntry))
		d.stats.Evictions.Add(1)
	}
}

// removeLocked deletes e's file and forgets it.
func (d *disk) removeLocked(e *diskEntry) {
	os.Remove(e.file)
	delete(d.index, e.key)
	d.lru.Remove(e.elem)
	d.total -= e.size
}

func (d *disk) drop(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.index[key]; ok {
		d.removeLocked(e)
	}
}

func (d *disk) invalidate(prefix string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for k, e := range d.index {
		if strings.HasPrefix(k, prefix) {
			d.removeLocked(e)
			n++
		}
	}
	return n
}
