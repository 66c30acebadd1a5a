package ttlcache

import (
	"sync"
	"testing"
	"time"
)

func TestGetPutExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[string, int](10)
	c.Put("a", 1, now.Add(time.Minute), now)
	if v, ok := c.Get("a", now); !ok || v != 1 {
		t.Fatalf("Get = %d, %v", v, ok)
	}
	if _, ok := c.Get("a", now.Add(time.Minute)); ok {
		t.Fatal("entry alive at its deadline")
	}
	c.Put("past", 2, now, now)
	if c.Len() != 1 {
		t.Fatal("stored an entry whose deadline had passed")
	}
	c.Delete("a")
	if _, ok := c.Get("a", now); ok {
		t.Fatal("Delete")
	}
	c.Put("b", 3, now.Add(time.Minute), now)
	c.Clear()
	if c.Len() != 0 {
		t.Fatal("Clear")
	}
}

func TestBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[int, int](100)
	for i := range 10_000 {
		c.Put(i, i, now.Add(time.Hour), now)
		if c.Len() > 100 {
			t.Fatalf("%d entries, bound 100", c.Len())
		}
	}
	// Expired entries go first.
	c = New[int, int](10)
	for i := range 9 {
		c.Put(i, i, now.Add(time.Second), now)
	}
	c.Put(100, 100, now.Add(time.Hour), now)
	later := now.Add(2 * time.Second)
	c.Put(101, 101, later.Add(time.Hour), later)
	if _, ok := c.Get(100, later); !ok {
		t.Fatal("a live entry was evicted while expired ones remained")
	}
}

func TestConcurrent(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[int, int](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c.Put(g*1000+i, i, now.Add(time.Minute), now)
				c.Get(i, now)
			}
		})
	}
	wg.Wait()
	if c.Len() > 64 {
		t.Fatalf("%d entries", c.Len())
	}
}
