package server

import (
	"io"
	"log/slog"
	"math"
	"os"
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
	env, had := os.LookupEnv("GOMEMLIMIT")
	t.Cleanup(func() {
		if had {
			os.Setenv("GOMEMLIMIT", env)
		}
	})
	os.Unsetenv("GOMEMLIMIT")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cached := &config.Config{Cache: &config.Cache{Memory: config.CacheMemory{MaxSize: 256 << 20}}}

	applyMemoryLimit(cached, log)
	if got := debug.SetMemoryLimit(-1); got != 384<<20 {
		t.Fatalf("with a 256 MiB tier: limit %d", got)
	}
	applyMemoryLimit(&config.Config{}, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("after the cache was removed: limit %d", got)
	}

	os.Setenv("GOMEMLIMIT", "off")
	defer os.Unsetenv("GOMEMLIMIT")
	applyMemoryLimit(cached, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT set by the operator was overridden: limit %d", got)
	}
}
