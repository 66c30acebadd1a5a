package basicauth

import (
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// benchAuthenticator has one user, alice, with a bcrypt cost-10 hash: the cheapest cost
// `gatehouse passwd` writes.
func benchAuthenticator(b *testing.B) *Authenticator {
	b.Helper()
	a, err := New("bench", &config.BasicAuth{Users: map[string]string{"alice": mustBcrypt(b, "alice-pw", 10)}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkAuthenticateCached is the cost of a request whose credentials were checked
// recently: what almost every request from a logged-in client pays.
func BenchmarkAuthenticateCached(b *testing.B) {
	a := benchAuthenticator(b)
	r := request("192.0.2.1", basic("alice", "alice-pw"))
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateUncached is the cost of a full bcrypt check (cost 10): what the
// first request with new credentials, and every failed attempt, pays.
func BenchmarkAuthenticateUncached(b *testing.B) {
	a := benchAuthenticator(b)
	r := request("192.0.2.1", basic("alice", "alice-pw"))
	ctx := context.Background()
	set := a.users.Load()
	b.ReportAllocs()
	for b.Loop() {
		set.cache = newSuccessCache(1)
		if _, err := a.Authenticate(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHeader(b *testing.B) {
	v := basic("alice@example.com", "correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseBasicHeader(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefusalByCost is the time to refuse, with users at bcrypt cost 10 and 12: an
// unknown user and a wrong password of either user should cost the same (a cost-10 and
// a cost-12 hash each).
func BenchmarkRefusalByCost(b *testing.B) {
	a, err := New("bench", &config.BasicAuth{MaxFailures: 1 << 20, Users: map[string]string{
		"ten": mustBcrypt(b, "pw", 10), "twelve": mustBcrypt(b, "pw", 12),
	}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, user := range []string{"unknown", "ten", "twelve"} {
		b.Run(user, func(b *testing.B) {
			r := request("192.0.2.1", basic(user, "wrong"))
			for b.Loop() {
				if _, err := a.Authenticate(ctx, r); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
