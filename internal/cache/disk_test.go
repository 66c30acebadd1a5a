package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check and explain inspect the disk tier: a running server's unfinished and damaged
// files, which opening the tier removes, must survive them, and no folder is created.
func TestInspectDiskChangesNothing(t *testing.T) {
	dir := t.TempDir()
	planted := []string{filepath.Join(dir, "entry.tmp"), filepath.Join(dir, "damaged")}
	for _, p := range planted {
		if err := os.WriteFile(p, []byte("not an entry"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opt := Options{MemoryBytes: 1 << 20, SliceSize: 1 << 20, DiskPath: dir, DiskBytes: 1 << 20, Inspect: true}
	s, err := NewStore(opt)
	if err != nil {
		t.Fatal(err)
	}
	if s.disk != nil {
		t.Fatal("an inspected Store has a disk tier")
	}
	for _, p := range planted {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("inspecting removed %s: %v", filepath.Base(p), err)
		}
	}
	// Opening it for real (serve) does clean up: that is what inspecting must not do.
	opt.Inspect = false
	if _, err := NewStore(opt); err != nil {
		t.Fatal(err)
	}
	for _, p := range planted {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("opening kept %s (err %v)", filepath.Base(p), err)
		}
	}

	// A missing folder under an existing one is fine and is not created.
	missing := filepath.Join(t.TempDir(), "a", "b")
	if _, err := NewStore(Options{MemoryBytes: 1 << 20, SliceSize: 1 << 20, DiskPath: missing, DiskBytes: 1 << 20, Inspect: true}); err != nil {
		t.Fatalf("missing folder: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Fatalf("inspecting created %s", filepath.Dir(missing))
	}

	// A symbolic link to nothing cannot be created as a folder: an error, as serve finds.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(Options{MemoryBytes: 1 << 20, SliceSize: 1 << 20, DiskPath: link, DiskBytes: 1 << 20, Inspect: true}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("dangling link: err %v", err)
	}
	if _, err := NewStore(Options{MemoryBytes: 1 << 20, SliceSize: 1 << 20, DiskPath: link, DiskBytes: 1 << 20}); err == nil {
		t.Error("opening a dangling link as the disk tier worked: the check above is wrong")
	}

	// A file where the folder should be (or above it) is an error, as serve would find.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, filepath.Join(file, "sub")} {
		_, err := NewStore(Options{MemoryBytes: 1 << 20, SliceSize: 1 << 20, DiskPath: p, DiskBytes: 1 << 20, Inspect: true})
		if err == nil || !strings.Contains(err.Error(), "cache.disk.path") || !strings.Contains(err.Error(), "not a folder") {
			t.Errorf("%s: err %v, want cache.disk.path ... not a folder", p, err)
		}
	}
}
