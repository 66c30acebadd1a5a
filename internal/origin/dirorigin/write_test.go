package dirorigin

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

func openTemp(t *testing.T) (*Dir, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dir
}

func put(d *Dir, key, body string, opt origin.PutOptions) (origin.Info, error) {
	if opt.Size == 0 {
		opt.Size = int64(len(body))
	}
	return d.Put(context.Background(), key, strings.NewReader(body), opt)
}

func read(t *testing.T, d *Dir, key string) string {
	t.Helper()
	obj, err := d.Get(context.Background(), key, origin.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	return string(b)
}

// files lists every name under dir (temporary files included), to prove a failed write
// left nothing behind.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestPutGetReplace(t *testing.T) {
	d, _ := openTemp(t)
	info, err := put(d, "a/b/c.txt", "first", origin.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	head, err := d.Head(context.Background(), "a/b/c.txt", origin.HeadOptions{})
	if err != nil || head.ETag != info.ETag || head.Size != 5 || info.ContentType != head.ContentType {
		t.Fatalf("Put's info %+v, Head %+v, %v", info, head, err)
	}
	// A reader that opened the old file keeps reading it whole while it is replaced.
	old, err := d.Get(context.Background(), "a/b/c.txt", origin.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Body.Close()
	if _, err := put(d, "a/b/c.txt", "second!", origin.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(old.Body); string(b) != "first" {
		t.Errorf("reader of the old file got %q", b)
	}
	if got := read(t, d, "a/b/c.txt"); got != "second!" {
		t.Errorf("after replace: %q", got)
	}
	// Unknown size (a chunked body) and an empty object.
	if _, err := d.Put(context.Background(), "chunked", iotest.OneByteReader(strings.NewReader("streamed")), origin.PutOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, d, "chunked"); got != "streamed" {
		t.Errorf("chunked: %q", got)
	}
	if info, err := d.Put(context.Background(), "empty", strings.NewReader(""), origin.PutOptions{}); err != nil || info.Size != 0 {
		t.Fatalf("empty: %+v %v", info, err)
	}
}

func TestPutCreateOnly(t *testing.T) {
	d, _ := openTemp(t)
	if _, err := put(d, "k", "one", origin.PutOptions{IfNoneMatch: "*"}); err != nil {
		t.Fatal(err)
	}
	_, err := put(d, "k", "two", origin.PutOptions{IfNoneMatch: "*"})
	if !errors.Is(err, origin.ErrExists) || !errors.Is(err, origin.ErrPreconditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	if got := read(t, d, "k"); got != "one" {
		t.Errorf("object changed to %q", got)
	}
	if _, err := put(d, "k", "x", origin.PutOptions{IfNoneMatch: `"abc"`}); !errors.Is(err, origin.ErrBadRequest) {
		t.Errorf("If-None-Match with a tag: %v", err)
	}
}

// TestPutCreateOnlyRace: of many writers creating the same key at once, exactly one
// wins and the object is that writer's whole body.
func TestPutCreateOnlyRace(t *testing.T) {
	d, dir := openTemp(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = put(d, "race/k", strings.Repeat(string(rune('a'+i)), 4096), origin.PutOptions{IfNoneMatch: "*"})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both created the key", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, origin.ErrExists):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no writer won")
	}
	if got := read(t, d, "race/k"); got != strings.Repeat(string(rune('a'+won)), 4096) {
		t.Errorf("object is not the winner's body")
	}
	if f := files(t, dir); len(f) != 1 {
		t.Errorf("files left: %v", f)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func sums(body string) map[string]origin.Checksums {
	m := md5.Sum([]byte(body))
	s := sha256.Sum256([]byte(body))
	c := binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE([]byte(body)))
	cc := binary.BigEndian.AppendUint32(nil, crc32.Checksum([]byte(body), crc32.MakeTable(crc32.Castagnoli)))
	return map[string]origin.Checksums{
		"md5":    {MD5: b64(m[:])},
		"crc32":  {Algorithm: origin.CRC32, Value: b64(c)},
		"crc32c": {Algorithm: origin.CRC32C, Value: b64(cc)},
		"sha256": {Algorithm: origin.SHA256, Value: b64(s[:])},
		"both":   {MD5: b64(m[:]), Algorithm: origin.SHA256, Value: b64(s[:])},
	}
}

func TestPutChecksums(t *testing.T) {
	d, dir := openTemp(t)
	for name, sum := range sums("the body") {
		t.Run(name, func(t *testing.T) {
			if _, err := put(d, "ok-"+name, "the body", origin.PutOptions{Checksums: sum}); err != nil {
				t.Fatalf("matching checksum: %v", err)
			}
			_, err := put(d, "bad-"+name, "the bodY", origin.PutOptions{Checksums: sum})
			if !errors.Is(err, origin.ErrChecksum) {
				t.Fatalf("mismatch: %v", err)
			}
		})
	}
	for _, f := range files(t, dir) {
		if !strings.HasPrefix(f, "ok-") {
			t.Errorf("a write that failed left %s", f)
		}
	}
	if _, err := put(d, "x", "b", origin.PutOptions{Checksums: origin.Checksums{MD5: "not base64!"}}); !errors.Is(err, origin.ErrBadRequest) {
		t.Errorf("malformed Content-MD5: %v", err)
	}
	if _, err := put(d, "x", "b", origin.PutOptions{Checksums: origin.Checksums{Algorithm: "CRC64", Value: "AAAA"}}); !errors.Is(err, origin.ErrBadRequest) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

// TestPutFailuresStoreNothing: a body of the wrong size, a body that fails, and a
// cancelled context each leave the old object (or no object) and no temporary file.
func TestPutFailuresStoreNothing(t *testing.T) {
	d, dir := openTemp(t)
	if _, err := put(d, "k", "old", origin.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("client went away")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		body io.Reader
		size int64
		ctx  context.Context
		want error
	}{
		{"short", strings.NewReader("abc"), 4, context.Background(), origin.ErrSizeMismatch},
		{"long", strings.NewReader("abcde"), 4, context.Background(), origin.ErrSizeMismatch},
		{"read error", io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), -1, context.Background(), boom},
		{"cancelled", strings.NewReader("abcd"), 4, ctx, context.Canceled},
	} {
		for _, key := range []string{"k", "new/k"} {
			_, err := d.Put(tc.ctx, key, tc.body, origin.PutOptions{Size: tc.size})
			if !errors.Is(err, tc.want) {
				t.Errorf("%s %s: %v, want %v", tc.name, key, err, tc.want)
			}
		}
	}
	if got := read(t, d, "k"); got != "old" {
		t.Errorf("object changed to %q", got)
	}
	if f := files(t, dir); len(f) != 1 || f[0] != "k" {
		t.Errorf("files left: %v", f)
	}
}

// TestPutNeverOutsideRoot: keys that name places outside the folder are refused, and a
// symbolic link inside the folder pointing out of it is not followed.
func TestPutNeverOutsideRoot(t *testing.T) {
	d, dir := openTemp(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../x", "/etc/x", "a/../../x", "a/./b", "", ".", "a//b", "link/x", "link/sub/x", tempPrefix + "1"} {
		if _, err := put(d, key, "x", origin.PutOptions{}); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if err := d.Delete(context.Background(), key); key != "link/x" && err == nil {
			t.Errorf("Delete(%q) succeeded", key)
		}
	}
	if f := files(t, outside); len(f) != 0 {
		t.Errorf("written outside the folder: %v", f)
	}
	if _, err := put(d, strings.Repeat("k", origin.MaxKeyBytes+1), "x", origin.PutOptions{}); !errors.Is(err, origin.ErrKeyTooLong) {
		t.Errorf("long key: %v", err)
	}
}

func TestPutKeyConflict(t *testing.T) {
	d, _ := openTemp(t)
	if _, err := put(d, "a/b", "x", origin.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "a/b/c"} {
		if _, err := put(d, key, "y", origin.PutOptions{}); !errors.Is(err, origin.ErrKeyConflict) {
			t.Errorf("Put(%q): %v", key, err)
		}
	}
}

func TestDelete(t *testing.T) {
	d, dir := openTemp(t)
	for _, k := range []string{"a/b/c", "a/d"} {
		if _, err := put(d, k, "x", origin.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // the second time there is nothing to delete: still fine
		if err := d.Delete(context.Background(), "a/b/c"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b")); !os.IsNotExist(err) {
		t.Errorf("emptied folder a/b kept: %v", err)
	}
	if err := d.Delete(context.Background(), "a"); err != nil { // a folder: no object
		t.Errorf("Delete of a folder: %v", err)
	}
	if got := read(t, d, "a/d"); got != "x" {
		t.Errorf("a/d: %q", got)
	}
	if err := d.Delete(context.Background(), "a/d/e"); err != nil { // through a file
		t.Errorf("Delete under a file: %v", err)
	}
}

// FuzzPutKey: whatever the key, a Put either fails or writes one file inside the
// folder, which Get then returns; nothing appears beside the folder.
func FuzzPutKey(f *testing.F) {
	for _, k := range []string{"a", "a/b/c.txt", "../x", "a/../../x", "/etc/passwd", "a\x00b", "é/ü", ".", "a/", tempPrefix + "x", "link/x"} {
		f.Add(k)
	}
	parent := f.TempDir()
	root := filepath.Join(parent, "root")
	os.Mkdir(root, 0o755)
	os.Symlink(parent, filepath.Join(root, "link"))
	d, err := Open(root)
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	f.Fuzz(func(t *testing.T, key string) {
		_, err := put(d, key, "body", origin.PutOptions{})
		if ents, _ := os.ReadDir(parent); len(ents) != 1 {
			t.Fatalf("Put(%q) wrote beside the folder: %v", key, ents)
		}
		if err != nil {
			return
		}
		if got := read(t, d, key); got != "body" {
			t.Fatalf("Put(%q) then Get: %q", key, got)
		}
		if err := d.Delete(context.Background(), key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	})
}

// TestRegression_ReservedFolderHidesKeysFromListings: a key whose folder carried the
// temp-file prefix (a/.gatehouse-put-x/b.txt) could be written and read but never listed,
// since listings skip every entry with the prefix. Any segment with it is now refused.
func TestRegression_ReservedFolderHidesKeysFromListings(t *testing.T) {
	d, _ := openTemp(t)
	for _, key := range []string{"a/" + tempPrefix + "x/b.txt", tempPrefix + "y/c", "a/" + tempPrefix + "z"} {
		if _, err := put(d, key, "x", origin.PutOptions{Size: 1}); !errors.Is(err, origin.ErrBadRequest) {
			t.Errorf("Put(%q) = %v, want ErrBadRequest", key, err)
		}
	}
}

// TestRegression_DeleteKeepsSymlinkedFolders: Delete's cleanup of emptied parent
// folders called Remove on each parent, which unlinks a symbolic link whatever its
// target holds: deleting current/tmp.txt (current -> releases/v2) removed the operator's
// link "current". Only real, empty folders are removed now.
func TestRegression_DeleteKeepsSymlinkedFolders(t *testing.T) {
	d, dir := openTemp(t)
	if err := os.MkdirAll(filepath.Join(dir, "releases", "v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "releases", "v2", "index.html"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("releases/v2", filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("empty", filepath.Join(dir, "elink")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"current/tmp.txt", "elink/tmp.txt"} {
		if _, err := put(d, key, "x", origin.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := d.Delete(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, d, "current/index.html"); got != "keep" {
		t.Errorf("current/index.html: %q", got)
	}
	for _, name := range []string{"current", "elink"} {
		if st, err := os.Lstat(filepath.Join(dir, name)); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("link %s: %v %v", name, st, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "empty")); err != nil {
		t.Errorf("the link's target went: %v", err)
	}
	// Under a link, a real folder the delete emptied still goes.
	if _, err := put(d, "current/sub/f", "x", origin.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(context.Background(), "current/sub/f"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "releases", "v2", "sub")); !os.IsNotExist(err) {
		t.Errorf("emptied folder under the link kept: %v", err)
	}
}

// TestRegression_FailedPutRemovesFoldersItMade: a Put that failed after making its
// key's folders left them behind, empty and never listed. It removes them now, and only
// them: folders that were there before stay, even empty.
func TestRegression_FailedPutRemovesFoldersItMade(t *testing.T) {
	d, dir := openTemp(t)
	if err := os.MkdirAll(filepath.Join(dir, "old", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"new/a/b/k", "old/empty/x/y/k", "old/k"} {
		if _, err := d.Put(context.Background(), key, strings.NewReader("abc"), origin.PutOptions{Size: 4}); !errors.Is(err, origin.ErrSizeMismatch) {
			t.Fatalf("Put(%q): %v", key, err)
		}
	}
	var dirs []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() && p != dir {
			rel, _ := filepath.Rel(dir, p)
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	if strings.Join(dirs, " ") != "old old/empty" {
		t.Errorf("folders left: %v", dirs)
	}
}
