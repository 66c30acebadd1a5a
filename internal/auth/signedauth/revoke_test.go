package signedauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// TestRevoked: a URL signed with the test keys is refused (403, reason revoked) once its
// policy or its key is revoked, and a stale list is an outage.
func TestRevoked(t *testing.T) {
	a, b := keys(t)
	set := revoke.NewSet(revoke.SetOptions{MaxStaleness: time.Minute, Now: func() time.Time { return now }})
	set.Replace(nil, now)
	auth := build(t, &config.SignedAuth{})
	auth.revoked = set
	canned := sign(t, "https://media.example.com/a.pdf", "KA", a, cfsign.SignOptions{})
	custom := sign(t, "https://media.example.com/b.pdf", "KA", a, cfsign.SignOptions{Resource: "https://media.example.com/*"})
	other := sign(t, "https://media.example.com/c.pdf", "KB", b, cfsign.SignOptions{})
	ok := func(u string) {
		t.Helper()
		if _, err := auth.Authenticate(context.Background(), request(u, nil)); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	refused := func(u string) {
		t.Helper()
		_, err := auth.Authenticate(context.Background(), request(u, nil))
		var f *policy.Failure
		if !errors.Is(err, revoke.ErrRevoked) || !errors.As(err, &f) || f.Outcome != policy.NotAllowed {
			t.Fatalf("%s: %v, want a 403 wrapping revoke.ErrRevoked", u, err)
		}
	}
	for _, u := range []string{canned, custom, other} {
		ok(u)
	}

	// By policy: the canned policy is the JSON cfsign rebuilds; the custom one is the
	// decoded Policy parameter.
	cannedHash := sha256.Sum256(cfsign.CannedPolicyJSON("https://media.example.com/a.pdf", now.Add(time.Hour)))
	q, _ := url.Parse(custom)
	pol, err := cfsign.DecodeBase64(q.Query().Get("Policy"))
	if err != nil {
		t.Fatal(err)
	}
	customHash := sha256.Sum256(pol)
	for _, h := range [][32]byte{cannedHash, customHash} {
		set.Apply(revoke.Revocation{Kind: revoke.KindPolicy, Value: hex.EncodeToString(h[:]), Expires: now.Add(time.Hour)})
	}
	refused(canned)
	refused(custom)
	ok(other)

	// By key, everything it signed.
	set.Replace(nil, now)
	ok(canned)
	set.Apply(revoke.Revocation{Kind: revoke.KindKey, Value: "KB"})
	refused(other)
	ok(canned)

	// By key, signed before a time, with a maximum lifetime of 2h: the URLs expire at
	// now+1h, so they were signed at now-1h at the earliest.
	set.Replace([]revoke.Revocation{{Kind: revoke.KindKey, Value: "KA", Before: now.Add(-90 * time.Minute), MaxLifetime: revoke.Duration(2 * time.Hour)}}, now)
	ok(canned) // surely signed after now-90m
	set.Replace([]revoke.Revocation{{Kind: revoke.KindKey, Value: "KA", Before: now.Add(-30 * time.Minute), MaxLifetime: revoke.Duration(2 * time.Hour)}}, now)
	refused(canned) // perhaps signed before now-30m
	ok(other)

	// A list older than max staleness: an outage, never an allow.
	set.Replace(nil, now.Add(-2*time.Minute))
	_, err = auth.Authenticate(context.Background(), request(canned, nil))
	var f *policy.Failure
	if !errors.Is(err, revoke.ErrStale) || errors.As(err, &f) {
		t.Fatalf("stale list: %v, want an outage wrapping revoke.ErrStale", err)
	}
}
