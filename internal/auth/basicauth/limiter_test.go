package basicauth

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
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

// newTestLimiter is a Limiter for authenticators allowing n failures.
func newTestLimiter(n int) *Limiter {
	l := NewLimiter()
	l.allow(n)
	return l
}

func key(addr string) limitKey {
	return limitKey{group: clientKey(netip.MustParseAddr(addr))}
}

func TestLimiterSlidingWindow(t *testing.T) {
	l := newTestLimiter(3)
	k := key("192.0.2.1")
	other := key("192.0.2.2")
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	l.failLocal(k, at(0))
	l.failLocal(k, at(30))
	if l.blocked(k, 3, at(31)) {
		t.Fatal("blocked after 2 of 3 failures")
	}
	if !l.blocked(k, 2, at(31)) {
		t.Fatal("an authenticator allowing 2 failures does not block after 2")
	}
	l.failLocal(k, at(50))
	if !l.blocked(k, 3, at(51)) {
		t.Fatal("not blocked after 3 failures within a minute")
	}
	if l.blocked(other, 3, at(51)) {
		t.Fatal("another address is blocked")
	}
	if !l.blocked(k, 3, at(59)) {
		t.Fatal("not blocked 59 s after the first failure")
	}
	// The failure at 0 leaves the window at 60: two remain, so one more try is allowed.
	if l.blocked(k, 3, at(60)) {
		t.Fatal("still blocked once the oldest failure is a minute old")
	}
	l.failLocal(k, at(61))
	if !l.blocked(k, 3, at(62)) {
		t.Fatal("not blocked after failures at 30, 50, 61")
	}
	if l.blocked(k, 3, at(91)) {
		t.Fatal("blocked at 91 with failures at 50 and 61 only in the window")
	}
	// A minute after the last failure the group is forgotten.
	if l.blocked(k, 3, at(121)) || l.tracked() != 0 {
		t.Fatalf("group kept a minute after its last failure (%d tracked)", l.tracked())
	}
}

// TestLimiterKeysByCredentials: the same credentials share a count, different ones do
// not, and a relative path is the same file as its absolute form.
func TestLimiterKeysByCredentials(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	a := newCredentialsID("htpasswd", map[string]string{"u": fixedBcrypt})
	switch {
	case a != newCredentialsID(filepath.Join(wd, "htpasswd"), map[string]string{"u": fixedBcrypt}):
		t.Error("relative and absolute paths of one file differ")
	case a == newCredentialsID("htpasswd", nil):
		t.Error("inline users ignored")
	case a == newCredentialsID("other", map[string]string{"u": fixedBcrypt}):
		t.Error("file ignored")
	case newCredentialsID("", map[string]string{"ab": "c"}) == newCredentialsID("", map[string]string{"a": "bc"}):
		t.Error("inline users collide")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := newTestLimiter(2)
	if l.limit != maxTrackedAddrs {
		t.Fatalf("limit %d, want %d", l.limit, maxTrackedAddrs)
	}
	if big := newTestLimiter(1 << 20); big.limit != minTrackedAddrs {
		t.Fatalf("limit for a huge max_failures: %d, want %d", big.limit, minTrackedAddrs)
	}
	l.limit = 4
	now := time.Unix(1_700_000_000, 0)
	addr := func(i int) limitKey {
		return limitKey{group: clientKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))}
	}
	// Group 0 fails twice and is blocked; groups 1-3 fill the table.
	l.failLocal(addr(0), now)
	l.failLocal(addr(0), now)
	for i := 1; i <= 3; i++ {
		l.failLocal(addr(i), now.Add(time.Second))
	}
	if !l.blocked(addr(0), 2, now.Add(2*time.Second)) {
		t.Fatal("group 0 not blocked")
	}
	// A fifth group evicts the least recently failing one, group 0.
	l.failLocal(addr(4), now.Add(3*time.Second))
	if l.tracked() != 4 {
		t.Fatalf("%d groups tracked, want 4", l.tracked())
	}
	if l.blocked(addr(0), 2, now.Add(3*time.Second)) {
		t.Fatal("evicted group still blocked")
	}
	// Expired groups are dropped before anything recent is evicted.
	later := now.Add(64 * time.Second)
	l.failLocal(addr(5), later)
	if l.tracked() != 1 {
		t.Fatalf("%d groups tracked after expiry, want 1", l.tracked())
	}
	// Many addresses never grow the table past its limit, and a group never holds more
	// than keep times (or twice that in its array).
	for i := range 1000 {
		for range 7 {
			l.failLocal(addr(i), later)
		}
	}
	if l.tracked() != 4 {
		t.Fatalf("%d groups tracked, want 4", l.tracked())
	}
	for _, el := range l.groups {
		if f := el.Value.(*failures); len(f.times) > l.keep || cap(f.times) > 2*l.keep+1 {
			t.Fatalf("a group holds %d times (capacity %d), keep %d", len(f.times), cap(f.times), l.keep)
		}
	}
	// A larger max_failures registered later keeps more times, with fewer groups.
	l.allow(1000)
	if l.keep != 1000 || l.limit != maxTrackedTimes/1000 {
		t.Fatalf("after allow(1000): keep %d, limit %d", l.keep, l.limit)
	}
}

// TestLimiterSharedByAuthenticators: authenticators given one Limiter (the gateway gives
// every basic authenticator the same) count a client's failures together when their
// credentials are the same, each refusing at its own max_failures, and apart when not.
func TestLimiterSharedByAuthenticators(t *testing.T) {
	file := writeTemp(t, "alice:"+fixedBcrypt+"\n")
	other := writeTemp(t, "alice:"+fixedBcrypt+"\n")
	clock := newClock()
	shared := NewLimiter()
	build := func(name, file string, maxFailures int) *Authenticator {
		a, err := New(name, &config.BasicAuth{HtpasswdFile: file, MaxFailures: maxFailures}, Options{Now: clock.Now, Failures: shared})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b, c := build("a", file, 3), build("b", file, 5), build("c", other, 3)
	try := func(x *Authenticator, client string) error {
		_, err := x.Authenticate(context.Background(), request(client, basic("alice", "guess")))
		return err
	}
	for i, x := range []*Authenticator{a, b, a} {
		if err := try(x, "192.0.2.1"); !errors.Is(err, policy.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if err := try(a, "192.0.2.1"); !errors.Is(err, policy.ErrRateLimited) {
		t.Fatalf("a after 3 failures on a and b: %v", err)
	}
	// b allows 5: two more.
	for range 2 {
		if err := try(b, "192.0.2.1"); !errors.Is(err, policy.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if err := try(b, "192.0.2.1"); !errors.Is(err, policy.ErrRateLimited) {
		t.Fatalf("b after 5 failures: %v", err)
	}
	// Other credentials and other clients count apart.
	if err := try(c, "192.0.2.1"); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatalf("c (other credentials): %v", err)
	}
	if err := try(a, "192.0.2.2"); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatalf("another client: %v", err)
	}
	clock.Advance(time.Minute)
	if err := try(a, "192.0.2.1"); !errors.Is(err, policy.ErrBadCredentials) {
		t.Fatalf("a minute later: %v", err)
	}
}
