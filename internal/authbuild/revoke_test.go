package authbuild_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// TestSharedRevocations: a signed authenticator built with NewSharedWith checks the
// Set it was given; one built with NewShared checks nothing.
func TestSharedRevocations(t *testing.T) {
	key, err := cfsign.GenerateKey("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := cfsign.MarshalPublicKeyPEM(key.Public())
	groups := map[string]*config.KeyGroup{"g": {Keys: []*config.PublicKey{{ID: "K1", PEM: string(pub)}}}}
	u, err := cfsign.SignURL("https://site.test/a", "K1", key, cfsign.SignOptions{Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	set := revoke.NewSet(revoke.SetOptions{MaxStaleness: time.Minute})
	set.Replace([]revoke.Revocation{{Kind: revoke.KindKey, Value: "K1"}}, time.Now())
	m := &config.AuthMethod{Name: "s", Signed: &config.SignedAuth{KeyGroups: []string{"g"}}}
	for _, tc := range []struct {
		shared  *authbuild.Shared
		revoked bool
	}{{authbuild.NewShared(), false}, {authbuild.NewSharedWith(authbuild.SharedOptions{Revocations: set}), true}} {
		a, err := authbuild.New(m, authbuild.Env{Log: slog.New(slog.DiscardHandler), Groups: groups, Shared: tc.shared})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Authenticate(context.Background(), &policy.Request{HTTP: httptest.NewRequest("GET", u, nil), Scheme: "https"})
		if errors.Is(err, revoke.ErrRevoked) != tc.revoked || (!tc.revoked && err != nil) {
			t.Errorf("revocations %v: %v", tc.revoked, err)
		}
	}
}
