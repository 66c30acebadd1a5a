package gateway_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
	"github.com/gatehouse-dev/gatehouse/internal/revoke/revoketest"
)

// TestSignedRevocation: through a running gateway built with a revocation Set, a
// signed URL is served until its key is revoked in the store (403, reason "revoked"),
// served again once lifted, and refused with 503 when the list goes stale.
func TestSignedRevocation(t *testing.T) {
	key, err := cfsign.GenerateKey("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, _ := cfsign.MarshalPublicKeyPEM(key.Public())
	os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o644)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	os.WriteFile(filepath.Join(dir, "site", "a.txt"), []byte("hello"), 0o644)
	cfg, err := config.Parse("test.yaml", []byte(`
key_groups:
  media:
    keys:
      - {id: KREVOKE0000001, file: `+strconv.Quote(filepath.Join(dir, "pub.pem"))+`}
origins:
  site:
    dir: {root: `+strconv.Quote(filepath.Join(dir, "site"))+`}
routes:
  - path: /media/*
    origin: site
    strip_prefix: /media
    auth:
      methods:
        - signed: {key_groups: [media]}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time
	clock := func() time.Time { return now }
	now = time.Now()
	set := revoke.NewSet(revoke.SetOptions{MaxStaleness: 30 * time.Second, Now: clock})
	set.Replace(nil, now)
	store := revoketest.New(set)
	st, err := gateway.BuildShared(context.Background(), cfg, slog.New(slog.DiscardHandler), authbuild.NewSharedWith(authbuild.SharedOptions{Revocations: set}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	access := &syncBuffer{}
	srv := httptest.NewServer(gateway.NewHandler(st, slog.New(slog.DiscardHandler), slog.New(slog.NewJSONHandler(access, nil))))
	t.Cleanup(srv.Close)

	u, err := cfsign.SignURL(srv.URL+"/media/a.txt", "KREVOKE0000001", key, cfsign.SignOptions{Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	status := func() int {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != 200 {
		t.Fatalf("before revocation: %d", got)
	}
	r, err := store.Add(context.Background(), revoke.Revocation{Kind: revoke.KindKey, Value: "KREVOKE0000001", Created: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(); got != 403 || !strings.Contains(access.String(), "signed: revoked (key revocation "+r.ID+")") {
		t.Fatalf("revoked key: %d\n%s", got, access.String())
	}
	if err := store.Lift(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != 200 {
		t.Fatalf("after lifting: %d", got)
	}
	now = now.Add(31 * time.Second) // no sync since: the list is stale
	if got := status(); got != 503 {
		t.Fatalf("stale list: %d, want 503", got)
	}
}
