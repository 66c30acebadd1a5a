package server

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

func TestMemoryLimit(t *testing.T) {
	withTier := func(n int64) *config.Config {
		return &config.Config{Cache: &config.Cache{Memory: config.CacheMemory{MaxSize: config.Size(n)}}}
	}
	for _, tc := range []struct {
		cfg  *config.Config
		want int64
	}{
		{&config.Config{}, math.MaxInt64},
		{withTier(0), math.MaxInt64},
		{withTier(64 << 20), 192 << 20},
		{withTier(256 << 20), 384 << 20},
		{withTier(2 << 30), 2<<30 + 512<<20},
	} {
		if got := memoryLimit(tc.cfg); got != tc.want {
			t.Errorf("memoryLimit(%+v) = %d, want %d", tc.cfg.Cache, got, tc.want)
		}
	}
}

// The limit follows the configuration (also when a reload removes the cache), and an
// operator's GOMEMLIMIT always wins.
func TestApplyMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	t.Setenv("GOMEMLIMIT", "") // empty counts as unset, as for the runtime
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cached := &config.Config{Cache: &config.Cache{Memory: config.CacheMemory{MaxSize: 256 << 20}}}
	big := &config.Config{Cache: &config.Cache{Memory: config.CacheMemory{MaxSize: 1 << 30}}}

	applyMemoryLimit(log, cached)
	if got := debug.SetMemoryLimit(-1); got != 384<<20 {
		t.Fatalf("with a 256 MiB tier: limit %d", got)
	}
	// Just after a reload both caches are alive: the larger limit holds until the old goes.
	applyMemoryLimit(log, big, cached)
	if got := debug.SetMemoryLimit(-1); got != 1<<30+256<<20 {
		t.Fatalf("old 1 GiB and new 256 MiB tiers: limit %d", got)
	}
	applyMemoryLimit(log, &config.Config{})
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("after the cache was removed: limit %d", got)
	}

	t.Setenv("GOMEMLIMIT", "off")
	applyMemoryLimit(log, cached)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT set by the operator was overridden: limit %d", got)
	}
}
