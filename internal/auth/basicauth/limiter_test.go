package basicauth

import (
	"net/netip"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		if got := clientKey(netip.MustParseAddr(tt.addr)); got.String() != tt.want {
			t.Errorf("clientKey(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if got := clientKey(netip.Addr{}); got.IsValid() {
		t.Errorf("unknown client: %s, want the zero prefix", got)
	}
	if clientKey(netip.MustParseAddr("2001:db8:1:2::1")) == clientKey(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Error("different /64s share a group")
	}
}

func TestLimiterSlidingWindow(t *testing.T) {
	l := newLimiter(3)
	k := clientKey(netip.MustParseAddr("192.0.2.1"))
	other := clientKey(netip.MustParseAddr("192.0.2.2"))
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	l.fail(k, at(0))
	l.fail(k, at(30))
	if l.blocked(k, at(31)) {
		t.Fatal("blocked after 2 of 3 failures")
	}
	l.fail(k, at(50))
	if !l.blocked(k, at(51)) {
		t.Fatal("not blocked after 3 failures within a minute")
	}
	if l.blocked(other, at(51)) {
		t.Fatal("another address is blocked")
	}
	if !l.blocked(k, at(59)) {
		t.Fatal("not blocked 59 s after the first failure")
	}
	// The failure at 0 leaves the window at 60: two remain, so one more try is allowed.
	if l.blocked(k, at(60)) {
		t.Fatal("still blocked once the oldest failure is a minute old")
	}
	l.fail(k, at(61))
	if !l.blocked(k, at(62)) {
		t.Fatal("not blocked after failures at 30, 50, 61")
	}
	if l.blocked(k, at(91)) {
		t.Fatal("blocked at 91 with failures at 50 and 61 only in the window")
	}
	// A minute after the last failure the group is forgotten.
	if l.blocked(k, at(121)) || l.tracked() != 0 {
		t.Fatalf("group kept a minute after its last failure (%d tracked)", l.tracked())
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := newLimiter(2)
	if l.limit != maxTrackedAddrs {
		t.Fatalf("limit %d, want %d", l.limit, maxTrackedAddrs)
	}
	if big := newLimiter(1 << 20); big.limit != minTrackedAddrs {
		t.Fatalf("limit for a huge max_failures: %d, want %d", big.limit, minTrackedAddrs)
	}
	l.limit = 4
	now := time.Unix(1_700_000_000, 0)
	addr := func(i int) netip.Prefix { return clientKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})) }
	// Group 0 fails twice and is blocked; groups 1-3 fill the table.
	l.fail(addr(0), now)
	l.fail(addr(0), now)
	for i := 1; i <= 3; i++ {
		l.fail(addr(i), now.Add(time.Second))
	}
	if !l.blocked(addr(0), now.Add(2*time.Second)) {
		t.Fatal("group 0 not blocked")
	}
	// A fifth group evicts the least recently failing one, group 0.
	l.fail(addr(4), now.Add(3*time.Second))
	if l.tracked() != 4 {
		t.Fatalf("%d groups tracked, want 4", l.tracked())
	}
	if l.blocked(addr(0), now.Add(3*time.Second)) {
		t.Fatal("evicted group still blocked")
	}
	// Expired groups are dropped before anything recent is evicted.
	later := now.Add(64 * time.Second)
	l.fail(addr(5), later)
	if l.tracked() != 1 {
		t.Fatalf("%d groups tracked after expiry, want 1", l.tracked())
	}
	// Many addresses never grow the table past its limit, and a ring never past max.
	for i := range 1000 {
		l.fail(addr(i), later)
		l.fail(addr(i), later)
		l.fail(addr(i), later)
	}
	if l.tracked() != 4 {
		t.Fatalf("%d groups tracked, want 4", l.tracked())
	}
	for _, el := range l.groups {
		if n := len(el.Value.(*failures).times); n > l.max {
			t.Fatalf("a group holds %d times, max %d", n, l.max)
		}
	}
}
