package ratelimit

import (
	"testing"
	"time"
)

// FuzzAllow drives one key with arbitrary limits, windows and gaps between requests and
// checks the invariants: no fixed window admits more than the limit, every denial's
// Retry-After is at least a second, and waiting it out admits the next request.
func FuzzAllow(f *testing.F) {
	f.Add(uint16(10), uint16(60), []byte{0, 1, 2, 200, 3, 255, 0, 0})
	f.Add(uint16(1), uint16(1), []byte{0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, limit, perSecs uint16, gaps []byte) {
		if limit == 0 || perSecs == 0 || len(gaps) > 2000 {
			return
		}
		per := time.Duration(perSecs) * time.Second
		c := newClock(at(0, 0))
		l := NewRegistry(Options{Now: c.Now}).New("f", int(limit), per)
		k := key("k")
		perWindow := map[int64]int{}
		for _, g := range gaps {
			c.Add(time.Duration(g) * per / 64)
			d := l.Allow(k)
			if d.Allowed {
				w := c.Now().UnixNano() / int64(per)
				if perWindow[w]++; perWindow[w] > int(limit) {
					t.Fatalf("window %d admitted %d, limit %d", w, perWindow[w], limit)
				}
				continue
			}
			if d.RetryAfter < time.Second || d.RetryAfter > 2*per+time.Second {
				t.Fatalf("Retry-After %s for a window of %s", d.RetryAfter, per)
			}
			if g%8 == 0 { // now and then, wait it out
				c.Add(d.RetryAfter)
				if !l.Allow(k).Allowed {
					t.Fatalf("denied after waiting Retry-After %s", d.RetryAfter)
				}
				perWindow[c.Now().UnixNano()/int64(per)]++
			}
		}
	})
}
