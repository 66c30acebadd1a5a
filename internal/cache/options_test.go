package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// The decorator's side of the origin contract: Served is filled for an object and a 304
// (Get and Head alike) and left alone for other errors; Variant keys the cache; Encoding
// selects a compressed variant of whole objects.
func TestOptionsContract(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mo := newMemOrigin()
		mo.put("page", []byte(strings.Repeat("hello ", 100)), "")
		mo.objs["page"] = func(i origin.Info) origin.Info { i.ContentType = "text/plain"; return i }(mo.objs["page"])
		p := testPolicy
		p.Compress = &Compression{Types: []string{"text/"}}
		o := testStore(t).Wrap("o", mo, p)
		ctx := context.Background()
		etag := mo.objs["page"].ETag

		get := func(opt origin.GetOptions) (origin.Served, *origin.Object, error) {
			t.Helper()
			served := origin.Served{Status: origin.CacheStatus(99)} // "not filled" sentinel
			opt.Served = &served
			obj, err := o.Get(ctx, "page", opt)
			if err == nil {
				obj.Body.Close()
			}
			return served, obj, err
		}
		if s, _, err := get(origin.GetOptions{}); err != nil || s != (origin.Served{Status: origin.CacheMiss}) {
			t.Fatalf("first Get: %+v, %v; want a miss", s, err)
		}
		time.Sleep(3 * time.Second)
		if s, _, err := get(origin.GetOptions{}); err != nil || s != (origin.Served{Status: origin.CacheHit, Age: 3 * time.Second}) {
			t.Fatalf("second Get: %+v, %v; want a hit 3s old", s, err)
		}
		var nm *origin.NotModifiedError
		s, _, err := get(origin.GetOptions{HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfNoneMatch: etag}}})
		if !errors.As(err, &nm) || s.Status != origin.CacheHit {
			t.Fatalf("conditional Get: %+v, %v; want a 304 served as a hit", s, err)
		}
		s, _, err = get(origin.GetOptions{HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfMatch: `"other"`}}})
		if !errors.Is(err, origin.ErrPreconditionFailed) || s.Status != 99 {
			t.Fatalf("failed precondition: %+v, %v; want Served left alone", s, err)
		}

		var hs origin.Served
		if _, err := o.Head(ctx, "page", origin.HeadOptions{Cond: origin.Conditions{IfNoneMatch: etag}, Served: &hs}); !errors.As(err, &nm) || hs.Status != origin.CacheHit {
			t.Fatalf("conditional Head: %+v, %v; want a 304 served as a hit", hs, err)
		}

		gets := mo.gets.Load()
		if s, _, err := get(origin.GetOptions{HeadOptions: origin.HeadOptions{Variant: "v=1&"}}); err != nil || s.Status != origin.CacheMiss || mo.gets.Load() != gets+1 {
			t.Fatalf("another variant: %+v, %v, %d origin GETs; want its own miss", s, err, mo.gets.Load()-gets)
		}

		_, obj, err := get(origin.GetOptions{HeadOptions: origin.HeadOptions{Encoding: "gzip"}})
		if err != nil || obj.ContentEncoding != "gzip" || obj.ETag != "W/"+etag {
			t.Fatalf("Get in gzip: %v, %+v; want the gzip variant with a weak ETag", err, obj)
		}
		info, err := o.Head(ctx, "page", origin.HeadOptions{Encoding: "gzip"})
		if err != nil || info.ContentEncoding != "gzip" || info.Size != obj.Size {
			t.Fatalf("Head in gzip: %v, %+v; want the stored variant's coding and size %d", err, info, obj.Size)
		}
	})
}

// TestRegression_HeadMissNotModifiedHasNoCacheStatus: a conditional HEAD answered 304 by
// the origin (nothing cached) reported no cache status, so a cached route said
// "X-Cache: Error from gatehouse" where the same GET said "Miss".
func TestRegression_HeadMissNotModifiedHasNoCacheStatus(t *testing.T) {
	mo := newMemOrigin()
	mo.put("page", []byte("hello"), "")
	o := testStore(t).Wrap("o", mo, testPolicy)
	var s origin.Served
	_, err := o.Head(context.Background(), "page", origin.HeadOptions{Cond: origin.Conditions{IfNoneMatch: mo.objs["page"].ETag}, Served: &s})
	if !errors.Is(err, origin.ErrNotModified) || s.Status != origin.CacheMiss {
		t.Fatalf("Head: %+v, %v; want a 304 reported as a miss", s, err)
	}
}

// CacheStatus's String is the label X-Cache carries (and metrics will).
func TestCacheStatusString(t *testing.T) {
	for s, want := range map[origin.CacheStatus]string{origin.CacheNone: "", origin.CacheHit: "Hit", origin.CacheMiss: "Miss", origin.CacheRefreshHit: "RefreshHit"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s.String(), want)
		}
	}
}

// TestRegression_MissAfterFlightEndsFetchesAgain: a request that missed the Store just
// before another request's fetch of the object ended (and left the flight) started a
// second origin fetch of what was now stored (seen as 2 origin GETs for 500 concurrent
// misses on a loaded machine). The fetch itself now looks in the Store first.
func TestRegression_MissAfterFlightEndsFetchesAgain(t *testing.T) {
	mo := newMemOrigin()
	mo.put("page", []byte("hello"), "")
	o := testStore(t).Wrap("o", mo, testPolicy)
	ctx := context.Background()
	obj, err := o.Get(ctx, "page", origin.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	gets := mo.gets.Load()
	// What the late request does after its lookup missed: fetch through the flight.
	base := baseKey("o", "page", "")
	if _, err := o.fetchMeta(ctx, base, "page", 0); err != nil {
		t.Fatal(err)
	}
	m, _ := o.store.get(metaKey(base))
	if _, err := o.slice(ctx, base, "page", m.meta, 0, true); err != nil {
		t.Fatal(err)
	}
	if n := mo.gets.Load() - gets; n != 0 {
		t.Fatalf("%d origin GETs for a stored object; want 0", n)
	}
}
