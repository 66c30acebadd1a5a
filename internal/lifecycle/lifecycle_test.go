package lifecycle

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

func TestStartOnceCloseWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group
		var runs, exited atomic.Int32
		loop := func(ctx context.Context) {
			runs.Add(1)
			<-ctx.Done()
			exited.Add(1)
		}
		if !g.Start(context.Background(), loop, loop) {
			t.Fatal("first Start did not start")
		}
		if g.Start(context.Background(), loop) {
			t.Fatal("second Start started again")
		}
		synctest.Wait()
		if runs.Load() != 2 || !g.Started() {
			t.Fatalf("runs %d, started %v; want 2 and true", runs.Load(), g.Started())
		}
		if !g.Close() || g.Close() {
			t.Fatal("Close should report true once, then false")
		}
		if exited.Load() != 2 {
			t.Fatalf("Close returned with %d of 2 loops exited", exited.Load())
		}
		if g.Start(context.Background(), loop) {
			t.Fatal("Start after Close started")
		}
	})
}

func TestStartContextEndsLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group
		ctx, cancel := context.WithCancel(context.Background())
		exited := false
		g.Start(ctx, func(ctx context.Context) { <-ctx.Done(); exited = true })
		cancel()
		synctest.Wait()
		if !exited {
			t.Fatal("loop still running after Start's context ended")
		}
		if g.Context().Err() != nil {
			t.Fatal("Start's context ended the Group's own context")
		}
		g.Close()
	})
}

func TestTrack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group
		done, ok := g.Track()
		if !ok {
			t.Fatal("Track refused before Close")
		}
		finished := false
		go func() {
			<-g.Context().Done()
			finished = true
			done()
		}()
		g.Close() // without Start: still waits for tracked work
		if !finished {
			t.Fatal("Close returned before tracked work ended")
		}
		if _, ok := g.Track(); ok {
			t.Fatal("Track accepted work after Close")
		}
	})
}
