package cache

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// chunkWriter records the largest Write it was given.
type chunkWriter struct {
	bytes.Buffer
	largest int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.Buffer.Write(p)
}

// memKeys returns the memory tier's keys that contain part.
func memKeys(s *Store, part string) []string {
	var ks []string
	for k := range s.mem.Keys() {
		if strings.Contains(k, part) {
			ks = append(ks, k)
		}
	}
	return ks
}

// With a disk tier, the slices of objects above MemoryObjectMax are stored on disk only
// and sent from their files through a 64 KiB buffer, never read whole into memory;
// small objects stay in memory; ranges that start mid-slice are right.
func TestDiskOnlySlicesSentFromFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStore(Options{MemoryBytes: 64 << 20, SliceSize: 1 << 20, DiskPath: dir, DiskBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	mo := newMemOrigin()
	big, small := pattern(3<<20+12345), pattern(4096)
	mo.put("big", big, "")
	mo.put("small", small, "")
	o := s.Wrap("o", mo, testPolicy)
	for _, k := range []string{"big", "small"} {
		if _, err := readAll(t, o, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ks := memKeys(s, "big\x00\x00s"); len(ks) != 0 {
		t.Fatalf("slices of the large object in memory: %q", ks)
	}
	if ks := memKeys(s, "small\x00\x00s"); len(ks) != 1 {
		t.Fatalf("small object's slices in memory: %q", ks)
	}
	gets := mo.gets.Load()
	for _, r := range []*origin.ByteRange{nil, {First: 1000, Last: 2<<20 + 77}, {First: 3 << 20, Last: -1}} {
		obj, err := o.Get(context.Background(), "big", origin.GetOptions{Range: r})
		if err != nil {
			t.Fatal(err)
		}
		w := &chunkWriter{}
		n, err := obj.Body.(io.WriterTo).WriteTo(w)
		obj.Body.Close()
		start, end := int64(0), int64(len(big)-1)
		if obj.Range != nil {
			start, end = obj.Range.Start, obj.Range.End
		}
		if err != nil || n != end+1-start || !bytes.Equal(w.Bytes(), big[start:end+1]) {
			t.Fatalf("range %v: %d bytes, err %v, content equal %v", r, n, err, bytes.Equal(w.Bytes(), big[start:end+1]))
		}
		if w.largest > 64<<10 {
			t.Fatalf("range %v: a write of %d bytes: the slice was read into memory", r, w.largest)
		}
	}
	// Read through Read too (the path compression and HTTP/2 take).
	if got, err := readAll(t, o, "big", &origin.ByteRange{First: 5, Last: 1<<20 + 5}); err != nil || !bytes.Equal(got, big[5:1<<20+6]) {
		t.Fatalf("Read: %d bytes, %v", len(got), err)
	}
	if mo.gets.Load() != gets {
		t.Fatalf("hits asked the origin %d times", mo.gets.Load()-gets)
	}
}

// A slice file the process did not write is checksummed the first time it is opened: a
// corrupt one is deleted and fetched again, never sent.
func TestDiskOnlyCorruptFileRefetched(t *testing.T) {
	dir := t.TempDir()
	opt := Options{MemoryBytes: 64 << 20, SliceSize: 1 << 20, DiskPath: dir, DiskBytes: 1 << 30}
	s, err := NewStore(opt)
	if err != nil {
		t.Fatal(err)
	}
	mo := newMemOrigin()
	big := pattern(2 << 20)
	mo.put("big", big, "")
	if _, err := readAll(t, s.Wrap("o", mo, testPolicy), "big", nil); err != nil {
		t.Fatal(err)
	}
	// Flip the last byte of every slice file (the data, after the header).
	n := 0
	filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(p)
		if len(raw) > 1<<20 {
			raw[len(raw)-1] ^= 0xff
			n++
			return os.WriteFile(p, raw, 0o600)
		}
		return nil
	})
	if n != 2 {
		t.Fatalf("corrupted %d slice files, want 2", n)
	}
	s2, err := NewStore(opt) // a restart: the files are not known good
	if err != nil {
		t.Fatal(err)
	}
	gets := mo.gets.Load()
	got, err := readAll(t, s2.Wrap("o", mo, testPolicy), "big", nil)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("%d bytes, %v, equal %v", len(got), err, bytes.Equal(got, big))
	}
	if mo.gets.Load()-gets != 2 {
		t.Fatalf("corrupt slices fetched %d times, want 2", mo.gets.Load()-gets)
	}
}
