package gateway_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

func cacheDiskConfig(root, cacheDir, memory, disk string) string {
	return `
cache: {memory: {max_size: ` + memory + `}, disk: {path: "` + cacheDir + `", max_size: ` + disk + `}}
origins:
  folder: {dir: {root: "` + root + `"}}
routes:
  - {path: /f/*, origin: folder, strip_prefix: /f, public: true, cache: {policy: optimized}}
`
}

// A reload that changed only cache.disk.max_size opened a second Store on the same
// folder while the first one, still serving requests that started before the swap, kept
// writing and evicting there: each Store's index missed the other's files (entries lost
// to the new Store, the folder growing past max_size) and each could delete files the
// other indexed. Now the running Store is kept and resized when the new State goes live.
func TestRegression_DiskMaxSizeReloadOpensSecondStore(t *testing.T) {
	root, cacheDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("written by the old State"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := buildState(t, cacheDiskConfig(root, cacheDir, "8MiB", "1MiB"), nil)
	next := buildState(t, cacheDiskConfig(root, cacheDir, "8MiB", "2MiB"), old)

	// The old State still serves (a request that started before the swap) and caches.
	w := httptest.NewRecorder()
	gateway.NewHandler(old, slog.New(slog.DiscardHandler), nil).ServeHTTP(w, httptest.NewRequest("GET", "/f/a.txt", nil))
	if w.Code != 200 || w.Header().Get("X-Cache") != "Miss from gatehouse" {
		t.Fatalf("old State: %d %q", w.Code, w.Header().Get("X-Cache"))
	}
	if next.Cache() != old.Cache() {
		t.Fatal("only disk.max_size changed, and the reload opened a second Store on the same folder")
	}
	// Until the new State goes live the running Store keeps its sizes: a reload that
	// fails after building (authenticator sources) must not half-apply.
	if got := old.Cache().Options().DiskBytes; got != 1<<20 {
		t.Fatalf("disk size before Start: %d, want the running 1 MiB", got)
	}
	next.Start(context.Background())
	if got := next.Cache().Options().DiskBytes; got != 2<<20 {
		t.Fatalf("disk size after Start: %d, want 2 MiB", got)
	}
	w = httptest.NewRecorder()
	gateway.NewHandler(next, slog.New(slog.DiscardHandler), nil).ServeHTTP(w, httptest.NewRequest("GET", "/f/a.txt", nil))
	if w.Code != 200 || w.Header().Get("X-Cache") != "Hit from gatehouse" {
		t.Fatalf("new State: %d %q, want the entry the old State cached", w.Code, w.Header().Get("X-Cache"))
	}

	// A new memory size with a disk tier: the same, both sizes applied in place.
	third := buildState(t, cacheDiskConfig(root, cacheDir, "16MiB", "2MiB"), next)
	if third.Cache() != next.Cache() {
		t.Fatal("memory.max_size changed beside a disk tier, and the reload opened a second Store on its folder")
	}
	third.Start(context.Background())
	if o := third.Cache().Options(); o.MemoryBytes != 16<<20 || o.DiskBytes != 2<<20 {
		t.Fatalf("sizes after Start: memory %d, disk %d", o.MemoryBytes, o.DiskBytes)
	}
	// A new folder is a new Store.
	other := buildState(t, cacheDiskConfig(root, t.TempDir(), "16MiB", "2MiB"), third)
	if other.Cache() == third.Cache() {
		t.Fatal("a new disk.path kept the Store")
	}
	for _, st := range []*gateway.State{old, next, third, other} {
		st.Close()
	}
}
