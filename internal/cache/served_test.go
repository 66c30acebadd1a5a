package cache

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// getServed reads key (or range r of it) through o and returns how the Get was reported
// and how many GETs the origin answered meanwhile.
func getServed(t *testing.T, o *Origin, mo *memOrigin, key string, r *origin.ByteRange, want []byte) (origin.Served, int64) {
	t.Helper()
	before := mo.gets.Load()
	var served origin.Served
	obj, err := o.Get(context.Background(), key, origin.GetOptions{Range: r, HeadOptions: origin.HeadOptions{Served: &served}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, err %v; want %d bytes", len(got), err, len(want))
	}
	return served, mo.gets.Load() - before
}

// TestRegression_PartialHitReportedAsHit: a whole GET whose metadata was cached but most
// of whose slices came from the origin was reported as a Hit (X-Cache: Hit from
// gatehouse). A response that needs any slice from the origin is a Miss; one served
// from stored slices alone is a Hit.
func TestRegression_PartialHitReportedAsHit(t *testing.T) {
	mo := newMemOrigin()
	body := make([]byte, 3<<20+100) // 4 slices of 1 MiB
	for i := range body {
		body[i] = byte(i % 251)
	}
	mo.put("obj", body, "")
	o := testStore(t).Wrap("o", mo, testPolicy)

	first := &origin.ByteRange{First: 0, Last: 99}
	if s, gets := getServed(t, o, mo, "obj", first, body[:100]); s.Status != origin.CacheMiss || gets != 1 {
		t.Fatalf("first range: %v after %d origin GETs, want Miss after 1", s.Status, gets)
	}
	if s, gets := getServed(t, o, mo, "obj", first, body[:100]); s.Status != origin.CacheHit || gets != 0 {
		t.Fatalf("the same range again: %v after %d origin GETs, want Hit after 0", s.Status, gets)
	}
	// The metadata and slice 0 are stored; slices 1 to 3 are not.
	s, gets := getServed(t, o, mo, "obj", nil, body)
	if gets != 3 {
		t.Fatalf("whole object: %d origin GETs, want 3", gets)
	}
	if s.Status != origin.CacheMiss || s.Age != 0 {
		t.Fatalf("whole object with 3 of 4 slices from the origin: %v (age %v), want Miss", s.Status, s.Age)
	}
	if s, gets := getServed(t, o, mo, "obj", nil, body); s.Status != origin.CacheHit || gets != 0 {
		t.Fatalf("whole object again: %v after %d origin GETs, want Hit after 0", s.Status, gets)
	}
	// A range inside stored slices is a Hit; one reaching past them is a Miss.
	o2 := testStore(t).Wrap("o", mo, testPolicy)
	getServed(t, o2, mo, "obj", first, body[:100])
	two := &origin.ByteRange{First: 1<<20 - 10, Last: 1<<20 + 10}
	if s, gets := getServed(t, o2, mo, "obj", two, body[1<<20-10:1<<20+11]); s.Status != origin.CacheMiss || gets != 1 {
		t.Fatalf("range over a stored and a missing slice: %v after %d origin GETs, want Miss after 1", s.Status, gets)
	}
}
