package ipauth

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestFreshness: what metrics read of the dynamic sources (policy.Fresher).
func TestFreshness(t *testing.T) {
	static, _ := newAuth(t, &config.IPAuth{CIDRs: []string{"10.0.0.0/8"}}, Options{})
	if _, ok := static.Freshness(); ok {
		t.Error("static cidrs only: reported a source")
	}

	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.txt"), filepath.Join(dir, "two.txt")
	os.WriteFile(one, []byte("192.0.2.0/24\n198.51.100.0/24\n"), 0o644)
	a, _ := newAuth(t, &config.IPAuth{CIDRs: []string{"10.0.0.0/8"}, Files: []string{one, two}}, Options{})
	ctx := context.Background()
	if err := a.Load(ctx); err == nil {
		t.Fatal("two.txt is missing: Load succeeded")
	}
	f, ok := a.Freshness()
	if !ok || f.Kind != "ipset" || f.Entries != 3 || f.RefreshErrors != 1 || !f.LastSuccess.IsZero() {
		t.Fatalf("one source loaded, one failed: %+v %v", f, ok)
	}
	before := time.Now()
	os.WriteFile(two, []byte("203.0.113.0/24\n"), 0o644)
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f, _ = a.Freshness()
	if f.Entries != 4 || f.RefreshErrors != 1 || f.LastSuccess.Before(before) {
		t.Fatalf("both loaded: %+v", f)
	}
}
