package fleet

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// TestACMECache is the autocert.Cache contract against a real redis-server: a miss is
// autocert.ErrCacheMiss itself, bytes come back as stored (binary too) under the fleet's
// prefix, Delete of a missing name is no error, and an entry one replica stores (an
// http-01 answer, as autocert names it) is read by another.
func TestACMECache(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	a, b := startFleet(t, cfg, "a", nil), startFleet(t, cfg, "b", nil)
	eventually(t, 5*time.Second, "connected", func() bool { return a.Connected() && b.Connected() })
	ca, cb := a.ACMECache(), b.ACMECache()
	ctx := context.Background()

	if _, err := ca.Get(ctx, "acme_account+key"); err != autocert.ErrCacheMiss {
		t.Fatalf("Get of a missing name = %v, want autocert.ErrCacheMiss itself", err)
	}
	token := []byte("tok.en-key\x00\xff\n authorization")
	if err := ca.Put(ctx, "abc123+http-01", token); err != nil {
		t.Fatal(err)
	}
	got, err := cb.Get(ctx, "abc123+http-01")
	if err != nil || !bytes.Equal(got, token) {
		t.Fatalf("the other replica's Get = %q, %v; want %q", got, err, token)
	}
	if v, err := rd.Do("STRLEN", "{gatehouse}:acme:abc123+http-01"); err != nil || v != fmt.Sprint(len(token)) {
		t.Errorf("not stored under {gatehouse}:acme:<name>: STRLEN %q, %v", v, err)
	}
	if err := cb.Put(ctx, "abc123+http-01", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := ca.Get(ctx, "abc123+http-01"); string(got) != "new" {
		t.Errorf("Put does not replace: %q", got)
	}
	if err := cb.Delete(ctx, "abc123+http-01"); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Get(ctx, "abc123+http-01"); err != autocert.ErrCacheMiss {
		t.Errorf("Get after Delete = %v, want a miss", err)
	}
	if err := ca.Delete(ctx, "never-stored"); err != nil {
		t.Errorf("Delete of a missing name = %v", err)
	}
	if err := ca.Put(ctx, "acme_account+key", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := cb.Get(ctx, "acme_account+key"); err != nil || len(got) != 0 {
		t.Errorf("an empty value = %q, %v; want it stored and empty, not a miss", got, err)
	}

	// An outage is an error, never a miss: a miss would make autocert order again.
	if err := rd.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = ca.Get(ctx, "acme_account+key")
	rd.Resume()
	if err == nil || err == autocert.ErrCacheMiss {
		t.Errorf("Get while Redis is stopped = %v, want an error that is not a miss", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Get while Redis is stopped took %s; redis.timeout is %s", d, cfg.Timeout)
	}
}

// TestACMEOrderLock: one replica holds a domain's lock at a time; the other waits until
// it is released, and a wait bounded by ctx ends with ctx's error.
func TestACMEOrderLock(t *testing.T) {
	rd := startRedis(t)
	cfg := redisConfig(rd.Addr)
	a, b := startFleet(t, cfg, "a", nil), startFleet(t, cfg, "b", nil)
	ctx := context.Background()

	releaseA, err := a.LockACMEOrder(ctx, "files.example.com")
	if err != nil {
		t.Fatal(err)
	}
	// The lock is {gatehouse}:acme:lock:<domain>, which the Cache reads as "lock:<domain>"
	// (autocert's names hold no ':').
	if v, _ := a.ACMECache().Get(ctx, "lock:files.example.com"); string(v) != "a" {
		t.Errorf("the lock holds %q, want the holder's replica ID", v)
	}
	short, cancel := context.WithTimeout(ctx, 600*time.Millisecond)
	defer cancel()
	if _, err := b.LockACMEOrder(short, "files.example.com"); err == nil {
		t.Fatal("b took the lock a holds")
	}
	// Another domain's lock is free.
	releaseOther, err := b.LockACMEOrder(ctx, "other.example.com")
	if err != nil {
		t.Fatal(err)
	}
	releaseOther()

	got := make(chan error, 1)
	go func() {
		release, err := b.LockACMEOrder(ctx, "files.example.com")
		if err == nil {
			release()
		}
		got <- err
	}()
	releaseA() // b may be waiting already or not yet: either way it gets the lock
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b did not get the lock after a released it")
	}
	if v, err := rd.Do("EXISTS", "{gatehouse}:acme:lock:files.example.com"); err != nil || v != "0" {
		t.Errorf("after both released, the lock key exists: %q, %v", v, err)
	}
}
