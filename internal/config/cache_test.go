package config

import (
	"testing"
	"time"
)

const cacheBase = `
origins:
  s: {dir: {root: /srv}}
`

func TestParseCache(t *testing.T) {
	src := cacheBase + `cache:
  memory: {max_size: 128MiB}
  disk: {path: /var/cache/gatehouse, max_size: 2GiB}
  slice_size: 2MiB
  read_ahead: 0
  origin_breaker: 0s
  compression: {}
admin: {listen: "127.0.0.1:9090", token: "${TOKEN}"}
routes:
  - path: /a/*
    origin: s
    public: true
    cache: {policy: optimized, stale_if_error: 1h, query_keys: [v, lang]}
  - path: /b/*
    origin: s
    public: true
    cache: {policy: custom, default_ttl: 1m, min_ttl: 0s, max_ttl: 1h}
  - path: /c/*
    origin: s
    public: true
    cache: {policy: disabled}
  - path: /d/*
    origin: s
    public: true
    cache: {}
`
	cfg := mustParse(t, src, map[string]string{"TOKEN": "0123456789abcdef0123"})
	c := cfg.Cache
	if c.Memory.MaxSize != 128<<20 || c.Disk.MaxSize != 2<<30 || c.SliceSize != 2<<20 {
		t.Errorf("sizes: %+v %+v %d", c.Memory, c.Disk, c.SliceSize)
	}
	if *c.ReadAhead != 0 {
		t.Errorf("read_ahead: 0 became %d", *c.ReadAhead)
	}
	if *c.OriginBreaker != 0 {
		t.Errorf("origin_breaker: 0s became %s", *c.OriginBreaker)
	}
	if c.Compression.MinSize != DefaultCompressMin || len(c.Compression.Types) == 0 {
		t.Errorf("compression defaults: %+v", c.Compression)
	}
	a, b, cc, d := cfg.Routes[0].Cache, cfg.Routes[1].Cache, cfg.Routes[2].Cache, cfg.Routes[3].Cache
	if a.DefaultTTL != 24*time.Hour || a.MinTTL != time.Second || a.MaxTTL != 365*24*time.Hour || !*a.Compress || a.StaleIfError != time.Hour {
		t.Errorf("optimized preset: %+v", a)
	}
	if b.DefaultTTL != time.Minute || b.MaxTTL != time.Hour || *b.Compress {
		t.Errorf("custom: %+v", b)
	}
	if cc.Cached() || cc.MaxTTL != 0 {
		t.Errorf("disabled: %+v", cc)
	}
	if d.Policy != CachePolicyOptimized {
		t.Errorf("empty cache section: policy %q, want optimized", d.Policy)
	}
	if cfg.Admin.Token != "0123456789abcdef0123" {
		t.Errorf("token %q", cfg.Admin.Token)
	}
	// Defaults for a bare cache section.
	cfg = mustParse(t, cacheBase+"cache: {}\nroutes: [{path: /x, origin: s, public: true, cache: {}}]\n", nil)
	if cfg.Cache.Memory.MaxSize != DefaultCacheMemory || cfg.Cache.SliceSize != DefaultCacheSliceSize || *cfg.Cache.ReadAhead != DefaultCacheReadAhead ||
		*cfg.Cache.OriginBreaker != DefaultCacheOriginBreaker {
		t.Errorf("defaults: %+v", cfg.Cache)
	}
}

func TestParseCacheErrors(t *testing.T) {
	src := cacheBase + `cache:
  memory: {max_size: 12 parsecs}
  disk: {path: relative/dir}
  slice_size: 16MiB
  compression: {types: [html]}
admin: {token: short}
routes:
  - path: /a/*
    origin: s
    public: true
    cache: {policy: sometimes}
  - path: /b/*
    origin: s
    public: true
    cache: {policy: optimized, default_ttl: 1h}
  - path: /c/*
    origin: s
    public: true
    cache: {policy: custom, default_ttl: 2h, max_ttl: 1h, query_keys: [Signature, v, v, X-Amz-Credential, Key-Pair-Id]}
`
	errs := parseErrors(t, src, nil)
	checkErrs(t, src, errs, []wantErr{
		{"cache.memory.max_size", "12 parsecs", "size such as"},
	})
	src2 := `
origins:
  s: {dir: {root: /srv}}
cache:
  disk: {path: relative/dir}
  slice_size: 16MiB
  read_ahead: 17
  origin_breaker: 10m
  compression: {types: [html]}
admin: {token: short}
routes:
  - path: /a/*
    origin: s
    public: true
    cache: {policy: sometimes}
  - path: /b/*
    origin: s
    public: true
    cache: {policy: optimized, default_ttl: 1h}
  - path: /c/*
    origin: s
    public: true
    cache: {policy: custom, default_ttl: 2h, max_ttl: 1h, query_keys: [Signature, v, v, X-Amz-Credential, Key-Pair-Id]}
  - path: /d/*
    origin: s
    public: true
    cache: {policy: optimized}
`
	errs = parseErrors(t, src2, nil)
	checkErrs(t, src2, errs, []wantErr{
		{"cache.disk.path", "relative/dir", "absolute"},
		{"cache.disk.max_size", "relative/dir", "at least 1MiB"},
		{"cache.slice_size", "16MiB", "between 1MiB and 8MiB"},
		{"cache.read_ahead", "read_ahead: 17", "between 0 and 16"},
		{"cache.origin_breaker", "origin_breaker: 10m", "between 0s (off) and 5m0s"},
		{"cache.compression.types[0]", "types: [html]", "media type"},
		{"admin.token", "token: short", "at least 16"},
		{"routes[0].cache.policy", "policy: sometimes", "must be one of"},
		{"routes[1].cache.policy", "default_ttl: 1h}", "only be set with policy: custom"},
		{"routes[2].cache", "default_ttl: 2h", "min_ttl <= default_ttl <= max_ttl"},
		{"routes[2].cache.query_keys[0]", "default_ttl: 2h", "signature or token"},
		{"routes[2].cache.query_keys[2]", "default_ttl: 2h", "duplicate"},
		{"routes[2].cache.query_keys[3]", "default_ttl: 2h", "signature or token"},
		{"routes[2].cache.query_keys[4]", "default_ttl: 2h", "signature or token"},
	})
	// A caching route needs the storage section.
	src3 := cacheBase + "routes: [{path: /x, origin: s, public: true, cache: {policy: optimized}}]\n"
	errs = parseErrors(t, src3, nil)
	checkErrs(t, src3, errs, []wantErr{{"routes[0].cache", "path: /x", "no top-level cache section"}})
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"0": 0, "1024": 1024, "4MiB": 4 << 20, "1 GiB": 1 << 30, "5MB": 5e6, "3kB": 3000, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5MiB", "MiB", "12 parsecs", "99999999999GiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}
