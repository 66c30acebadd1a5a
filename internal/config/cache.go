package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Size is a number of bytes, written in the file as a whole number or with a unit:
// 512KiB, 256MiB, 1GiB (powers of 1024) or kB, MB, GB (powers of 1000).
type Size int64

// UnmarshalYAML reads a Size from a number or a string with a unit.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSize parses a size such as 4MiB, 1GB or 1048576.
func ParseSize(text string) (Size, error) {
	t := strings.TrimSpace(text)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("want a size such as 256MiB or 1GB, got %q", text)
	}
	return Size(n * mult), nil
}

// Cache configures the edge cache's storage; routes opt in with their own cache section.
type Cache struct {
	Memory CacheMemory `yaml:"memory"`
	// Disk is an optional second tier; nil: memory only.
	Disk *CacheDisk `yaml:"disk"`
	// SliceSize is the unit large objects are fetched and stored in (1-8 MiB).
	SliceSize Size `yaml:"slice_size"`
	// ReadAhead is how many slices past the one being sent a request fetches at once when
	// they are not stored (0-16; nil: DefaultCacheReadAhead; 0: none).
	ReadAhead *int `yaml:"read_ahead"`
	// OriginBreaker is how long after a failed origin call routes with stale_if_error
	// serve their stale copies at once instead of asking the origin (0-5m; nil:
	// DefaultCacheOriginBreaker; 0: never, each request waits for the origin).
	OriginBreaker *time.Duration    `yaml:"origin_breaker"`
	Compression   *CacheCompression `yaml:"compression"`
}

// CacheMemory is the in-memory tier.
type CacheMemory struct {
	MaxSize Size `yaml:"max_size"`
}

// CacheDisk is the on-disk tier.
type CacheDisk struct {
	Path    string `yaml:"path"`
	MaxSize Size   `yaml:"max_size"`
}

// CacheCompression selects what is compressed at the edge.
type CacheCompression struct {
	MinSize Size     `yaml:"min_size"`
	Types   []string `yaml:"types"`
}

// RouteCache is a route's cache policy. Policy optimized and disabled are presets
// (CloudFront's CachingOptimized and CachingDisabled); custom takes the TTLs given.
type RouteCache struct {
	Policy       string        `yaml:"policy"`
	DefaultTTL   time.Duration `yaml:"default_ttl"`
	MinTTL       time.Duration `yaml:"min_ttl"`
	MaxTTL       time.Duration `yaml:"max_ttl"`
	StaleIfError time.Duration `yaml:"stale_if_error"`
	// QueryKeys are the query parameters whose values are part of the cache key.
	QueryKeys []string `yaml:"query_keys"`
	// Compress is set by the optimized preset (and may be set by custom).
	Compress *bool `yaml:"compress"`

	presetTTLs bool // TTLs were written beside a preset, which overrides them
}

// Cache policy names and their presets.
const (
	CachePolicyOptimized = "optimized"
	CachePolicyDisabled  = "disabled"
	CachePolicyCustom    = "custom"

	DefaultCacheMemory    = Size(256 << 20)
	DefaultCacheSliceSize = Size(4 << 20)
	DefaultCacheReadAhead = 4
	MaxCacheReadAhead     = 16
	DefaultCompressMin    = Size(1000)
	OptimizedDefaultTTL   = 24 * time.Hour
	OptimizedMinTTL       = time.Second
	OptimizedMaxTTL       = 365 * 24 * time.Hour
)

// The origin breaker's interval (cache.origin_breaker). The default is short: long
// enough that the requests of an outage do not wait on the origin one after another,
// short enough that a recovered origin is asked again soon even when no probe reached it.
const (
	DefaultCacheOriginBreaker = 5 * time.Second
	MaxCacheOriginBreaker     = 5 * time.Minute
)

// DefaultCompressTypes are compressed when compression.types is empty. An entry ending
// in "/" matches every subtype.
var DefaultCompressTypes = []string{"text/", "application/javascript", "application/json", "application/xml",
	"application/wasm", "image/svg+xml", "application/manifest+json"}

// reservedQueryKeys can never be part of a cache key: they carry signatures and tokens.
var reservedQueryKeys = []string{"Expires", "Signature", "Key-Pair-Id", "Policy", "X-Amz-Signature",
	"X-Amz-Credential", "X-Amz-Security-Token", "X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "access_token", "token", "id_token", "jwt"}

func (c *Cache) applyDefaults() {
	if c.Memory.MaxSize == 0 {
		c.Memory.MaxSize = DefaultCacheMemory
	}
	if c.SliceSize == 0 {
		c.SliceSize = DefaultCacheSliceSize
	}
	if c.ReadAhead == nil {
		n := DefaultCacheReadAhead
		c.ReadAhead = &n
	}
	if c.OriginBreaker == nil {
		d := DefaultCacheOriginBreaker
		c.OriginBreaker = &d
	}
	if c.Compression != nil {
		if c.Compression.MinSize == 0 {
			c.Compression.MinSize = DefaultCompressMin
		}
		if len(c.Compression.Types) == 0 {
			c.Compression.Types = DefaultCompressTypes
		}
	}
}

func (rc *RouteCache) applyDefaults() {
	rc.presetTTLs = rc.Policy != CachePolicyCustom && (rc.DefaultTTL != 0 || rc.MinTTL != 0 || rc.MaxTTL != 0)
	switch rc.Policy {
	case "", CachePolicyOptimized:
		rc.Policy = CachePolicyOptimized
		rc.DefaultTTL, rc.MinTTL, rc.MaxTTL = OptimizedDefaultTTL, OptimizedMinTTL, OptimizedMaxTTL
		if rc.Compress == nil {
			t := true
			rc.Compress = &t
		}
	case CachePolicyDisabled:
		rc.DefaultTTL, rc.MinTTL, rc.MaxTTL = 0, 0, 0
	}
	if rc.Compress == nil {
		f := false
		rc.Compress = &f
	}
}

// Cached reports whether the route caches at all.
func (rc *RouteCache) Cached() bool { return rc != nil && rc.Policy != CachePolicyDisabled }

func validateCache(c *collector, p string, ch *Cache) {
	if ch.Memory.MaxSize < 1<<20 {
		c.addf(p+".memory.max_size", "must be at least 1MiB")
	}
	if ch.SliceSize < 1<<20 || ch.SliceSize > 8<<20 {
		c.addf(p+".slice_size", "must be between 1MiB and 8MiB, got %d bytes", ch.SliceSize)
	}
	if n := ch.ReadAhead; n != nil && (*n < 0 || *n > MaxCacheReadAhead) {
		c.addf(p+".read_ahead", "must be between 0 and %d slices, got %d", MaxCacheReadAhead, *n)
	}
	if d := ch.OriginBreaker; d != nil && (*d < 0 || *d > MaxCacheOriginBreaker) {
		c.addf(p+".origin_breaker", "must be between 0s (off) and %s, got %s", MaxCacheOriginBreaker, *d)
	}
	if d := ch.Disk; d != nil {
		if d.Path == "" {
			c.addf(p+".disk.path", "required")
		} else if !filepath.IsAbs(d.Path) {
			c.addf(p+".disk.path", "must be an absolute path")
		}
		if d.MaxSize < 1<<20 {
			c.addf(p+".disk.max_size", "must be at least 1MiB")
		}
	}
	if cc := ch.Compression; cc != nil {
		for i, t := range cc.Types {
			if !strings.Contains(t, "/") || strings.ContainsAny(t, " ;,") {
				c.addf(fmt.Sprintf("%s.compression.types[%d]", p, i), "want a media type such as text/html or a family such as text/, got %q", t)
			}
		}
	}
}

func validateRouteCache(c *collector, p string, rc *RouteCache, global *Cache) {
	oneOf(c, p+".policy", rc.Policy, CachePolicyOptimized, CachePolicyDisabled, CachePolicyCustom)
	if rc.presetTTLs {
		// presets fix the TTLs; say so rather than ignore what was written
		c.addf(p+".policy", "default_ttl, min_ttl and max_ttl can only be set with policy: custom")
	}
	if rc.MinTTL < 0 || rc.DefaultTTL < 0 || rc.MaxTTL < 0 || rc.StaleIfError < 0 {
		c.addf(p, "TTLs and stale_if_error must not be negative")
	}
	if rc.Policy == CachePolicyCustom && !(rc.MinTTL <= rc.DefaultTTL && rc.DefaultTTL <= rc.MaxTTL) {
		c.addf(p, "want min_ttl <= default_ttl <= max_ttl, got %s, %s, %s", rc.MinTTL, rc.DefaultTTL, rc.MaxTTL)
	}
	seen := map[string]bool{}
	for i, q := range rc.QueryKeys {
		qp := fmt.Sprintf("%s.query_keys[%d]", p, i)
		switch {
		case q == "":
			c.addf(qp, "empty query parameter name")
		case isReservedQueryKey(q):
			c.addf(qp, "%q carries a signature or token and can never be part of a cache key", q)
		case seen[q]:
			c.addf(qp, "duplicate query parameter %q", q)
		}
		seen[q] = true
	}
	if rc.Cached() && global == nil {
		c.addf(p, "the route caches but there is no top-level cache section")
	}
}

func isReservedQueryKey(q string) bool {
	for _, r := range reservedQueryKeys {
		if strings.EqualFold(q, r) {
			return true
		}
	}
	return strings.HasPrefix(strings.ToLower(q), "x-amz-")
}
