// Package cache is gatehouse's edge cache: a Store (a size-bounded memory tier and an
// optional disk tier) and Origin, a decorator that serves an origin.Origin's objects from
// the Store. Objects are kept as fixed-size slices keyed by (origin, key, variant, ETag,
// index), so a Range request fetches only the slices it covers and slices of different
// object versions are never mixed. Concurrent misses for one object or slice make one
// origin request. The decorator sits behind the gateway's authorization: it is only
// reached once a request has been allowed, so a cache hit never bypasses auth.
package cache

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/semaphore"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// Stats are the cache's counters since the Store was made (metrics read them at scrape
// time). They are safe to read concurrently.
type Stats struct {
	Hits        atomic.Int64 // served from the cache, fresh
	RefreshHits atomic.Int64 // stale, revalidated with a 304
	Misses      atomic.Int64 // fetched from the origin
	StaleServes atomic.Int64 // stale copies served because the origin failed
	// BreakerServes are the stale copies served without asking the origin because its
	// breaker was open (also counted in StaleServes).
	BreakerServes atomic.Int64
	Collapses     atomic.Int64 // requests that waited for another request's origin fetch
	// Retries are requests that fetched again after a fetch they had joined failed.
	Retries     atomic.Int64
	Evictions   atomic.Int64 // entries dropped for space
	OriginBytes atomic.Int64 // body bytes fetched from origins
	HitBytes    atomic.Int64 // body bytes served from stored slices
	DiskHits    atomic.Int64 // slices or metadata found on disk after a memory miss
	Invalidated atomic.Int64 // entries removed by invalidation
	// MemoryHits and MemoryMisses count entries (metadata or slices) looked up in the
	// memory tier; DiskMisses those then not found on disk either (with a disk tier).
	MemoryHits, MemoryMisses, DiskMisses atomic.Int64
}

// meta is what the cache knows about one object version. It is immutable once stored;
// a revalidation stores a new one.
type meta struct {
	Info   origin.Info   `json:"info"`
	Stored time.Time     `json:"stored"` // fetched or last validated
	TTL    time.Duration `json:"ttl"`
}

func (m *meta) fresh(now time.Time) bool { return now.Sub(m.Stored) < m.TTL }

// item is a stored value: either an object's metadata or one slice of its body.
type item struct {
	meta *meta
	data []byte
}

// Options configure a Store.
type Options struct {
	MemoryBytes int64
	SliceSize   int64
	// DiskPath and DiskBytes enable the disk tier when DiskPath is set.
	DiskPath  string
	DiskBytes int64
	// MemoryObjectMax: with a disk tier, the slices of objects larger than this are
	// stored on disk only and sent from their files (see Store.getSlice); the memory tier
	// keeps the small objects. 0: DefaultMemoryObjectMax. Without a disk tier every
	// object goes to memory, bounded by MemoryBytes.
	MemoryObjectMax int64
	// Inspect, for `gatehouse check` and `explain`, only checks that DiskPath could be
	// used, changing nothing there: a running server may own the folder, and opening it
	// removes unfinished and damaged files and evicts. The Store then has no disk tier.
	Inspect bool
}

// DefaultMemoryObjectMax is Options.MemoryObjectMax when it is 0.
const DefaultMemoryObjectMax = 1 << 20

// FetchBudget is how many bytes of slice buffers being filled from origins a Store of
// memoryBytes allows at once: max(128 MiB, a quarter of memoryBytes), the headroom that
// the Go memory limit gatehouse derives from cache.memory.max_size leaves above the
// memory tier (internal/server's memoryLimit). Fetches past it wait. A slice's buffer
// then goes into the memory tier (counted there), or is dropped once written to the disk
// tier (large objects: readers send the file), so the tier plus the fetches stay within
// that limit.
func FetchBudget(memoryBytes int64) int64 { return max(128<<20, memoryBytes/4) }

// Store holds cached entries. It outlives configuration reloads: routes built from a
// new configuration keep using the same Store when its options are unchanged, or when
// only its sizes change (see SetLimits).
type Store struct {
	// optMu guards opt's sizes, which SetLimits changes; the other fields never change.
	optMu   sync.Mutex
	opt     Options
	mem     *otter.Cache[string, *item]
	disk    *disk // nil: memory only
	flights flight
	// fills holds the slices being fetched (*fill by slice key), readable by any request
	// while they arrive.
	fills sync.Map
	// fetching bounds the bytes of slice buffers being filled from origins (see
	// fetchBudget); each fetch holds its slice's size until it ends.
	fetching    *semaphore.Weighted
	fetchBudget int64
	// breakers holds one *breaker per origin name; it outlives reloads with the Store.
	breakers sync.Map
	// clock, when set, replaces time.Now for the decorators (see SetClock).
	clock atomic.Pointer[func() time.Time]
	Stats Stats
}

// NewStore makes a Store. With a disk tier, the disk's index is rebuilt by scanning its
// folder.
func NewStore(opt Options) (*Store, error) {
	s := &Store{opt: opt, fetchBudget: FetchBudget(opt.MemoryBytes)}
	s.fetching = semaphore.NewWeighted(s.fetchBudget)
	var err error
	s.mem, err = otter.New(&otter.Options[string, *item]{
		MaximumWeight: uint64(opt.MemoryBytes),
		Weigher: func(k string, v *item) uint32 {
			return uint32(len(k) + len(v.data) + 256)
		},
		OnDeletion: func(e otter.DeletionEvent[string, *item]) {
			if e.Cause == otter.CauseOverflow {
				s.Stats.Evictions.Add(1)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	switch {
	case opt.DiskPath != "" && opt.Inspect:
		if err := inspectDisk(opt.DiskPath); err != nil {
			return nil, err
		}
	case opt.DiskPath != "":
		if s.disk, err = openDisk(opt.DiskPath, opt.DiskBytes, &s.Stats); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SetClock makes every decorator of the Store read the time from now instead of
// time.Now: entry ages and TTLs, stale-if-error windows and the origin breakers'
// intervals (not the disk tier's access times, nor origins' own timeouts). It is for
// tests that drive a whole gateway against a real origin, where testing/synctest cannot
// run (network I/O); it is a method rather than an Options field because Options are
// compared to decide whether a reload keeps the Store. Safe to call while serving.
func (s *Store) SetClock(now func() time.Time) { s.clock.Store(&now) }

// now is the Store's clock: time.Now unless SetClock replaced it.
func (s *Store) now() time.Time {
	if f := s.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// Options returns the options the Store was made with, with the sizes SetLimits set.
func (s *Store) Options() Options {
	s.optMu.Lock()
	defer s.optMu.Unlock()
	return s.opt
}

// SetLimits changes the sizes of the memory tier and, when the Store has one, of the disk
// tier, evicting at once what smaller sizes leave over them. It is how a reload applies
// new sizes without opening a second Store on the disk tier's folder: two Stores there
// would each index, write and evict files the other does not know about. Safe to call
// while serving.
func (s *Store) SetLimits(memoryBytes, diskBytes int64) {
	s.optMu.Lock()
	defer s.optMu.Unlock()
	s.mem.SetMaximum(uint64(memoryBytes))
	s.opt.MemoryBytes = memoryBytes
	if s.disk != nil {
		s.disk.setMax(diskBytes)
	}
	if s.opt.DiskPath != "" {
		s.opt.DiskBytes = diskBytes
	}
}

// SliceSize is the size of the slices objects are stored in.
func (s *Store) SliceSize() int64 { return s.opt.SliceSize }

func (s *Store) get(k string) (*item, bool) {
	if it, ok := s.mem.GetIfPresent(k); ok {
		s.Stats.MemoryHits.Add(1)
		return it, true
	}
	s.Stats.MemoryMisses.Add(1)
	if s.disk != nil {
		if it, ok := s.disk.get(k); ok {
			s.Stats.DiskHits.Add(1)
			s.mem.Set(k, it)
			return it, true
		}
		s.Stats.DiskMisses.Add(1)
	}
	return nil, false
}

// diskOnly reports whether the slices of an object of size bytes live on disk only: a
// large object would otherwise occupy the Go heap (and, with the collector's headroom,
// about twice that resident), where the kernel's page cache holds its files for free and
// sends them with sendfile.
func (s *Store) diskOnly(size int64) bool {
	lim := s.opt.MemoryObjectMax
	if lim <= 0 {
		lim = DefaultMemoryObjectMax
	}
	return s.disk != nil && size > lim
}

// getSlice returns slice entry k of an object of objSize bytes: from memory, or for an
// object kept on disk only an open file section of it (the caller closes it), never
// read into the heap.
func (s *Store) getSlice(k string, objSize int64) (span, bool) {
	if !s.diskOnly(objSize) {
		it, ok := s.get(k)
		return span{data: it.dataOrNil()}, ok
	}
	if df, ok := s.disk.open(k); ok {
		s.Stats.DiskHits.Add(1)
		return span{file: &fileSection{f: df.f, off: df.off, n: df.n}}, true
	}
	s.Stats.DiskMisses.Add(1)
	return span{}, false
}

// setSlice stores slice entry k of an object of objSize bytes: on disk only for a large
// object (see diskOnly), otherwise in both tiers.
func (s *Store) setSlice(k string, data []byte, objSize int64) {
	if s.diskOnly(objSize) {
		s.disk.set(k, &item{data: data})
		return
	}
	s.set(k, &item{data: data})
}

func (it *item) dataOrNil() []byte {
	if it == nil {
		return nil
	}
	return it.data
}

// has reports whether k is stored in either tier, without reading it or counting a hit.
func (s *Store) has(k string) bool {
	if _, ok := s.mem.GetEntryQuietly(k); ok {
		return true
	}
	return s.disk != nil && s.disk.has(k)
}

func (s *Store) set(k string, it *item) {
	s.mem.Set(k, it)
	if s.disk != nil {
		s.disk.set(k, it)
	}
}

func (s *Store) drop(k string) {
	s.mem.Invalidate(k)
	if s.disk != nil {
		s.disk.drop(k)
	}
}

// Entry keys. Every key starts with origin NUL objectkey NUL, so invalidation by exact
// key or key prefix is a prefix match. Object keys never hold NUL (paths with NUL are
// refused before routing).
func baseKey(originName, key, variant string) string {
	return originName + "\x00" + key + "\x00" + variant + "\x00"
}
func metaKey(base string) string { return base + "m" }

// sliceKey names slice idx of one version of an object. The slice size is part of it:
// a disk tier kept across a restart or reload with another slice_size must never serve
// a slice cut at the old size as if it were cut at the new one (the bytes would not fit).
func (s *Store) sliceKey(base, etag string, idx int64) string {
	return base + "s\x00" + etag + "\x00" + itoa(s.opt.SliceSize) + "\x00" + itoa(idx)
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Invalidate removes every entry of originName whose object key equals key or, when
// prefix is true, starts with key. It returns how many entries it removed from memory
// and disk together.
func (s *Store) Invalidate(originName, key string, prefix bool) int {
	want := originName + "\x00" + key
	if !prefix {
		want += "\x00"
	}
	n := 0
	var keys []string
	for k := range s.mem.Keys() {
		if strings.HasPrefix(k, want) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if _, ok := s.mem.Invalidate(k); ok {
			n++
		}
	}
	if s.disk != nil {
		n += s.disk.invalidate(want)
	}
	s.Stats.Invalidated.Add(int64(n))
	return n
}

// flightFor returns the Store's request-collapsing group, shared by every decorator.
func (s *Store) flightFor() *flight { return &s.flights }
