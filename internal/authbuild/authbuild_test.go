package authbuild_test

import (
	"log/slog"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestNewNoKind: a method with no kind set is an error, not a nil authenticator.
func TestNewNoKind(t *testing.T) {
	env := authbuild.Env{Log: slog.New(slog.DiscardHandler), Shared: authbuild.NewShared()}
	a, err := authbuild.New(&config.AuthMethod{Name: "x"}, env)
	if err == nil || a != nil {
		t.Fatalf("got %v, %v; want an error", a, err)
	}
}

// TestNewIP: an ip method builds, under its name, without warnings.
func TestNewIP(t *testing.T) {
	env := authbuild.Env{Log: slog.New(slog.DiscardHandler), Shared: authbuild.NewShared()}
	a, err := authbuild.New(&config.AuthMethod{Name: "s", IP: &config.IPAuth{CIDRs: []string{"10.0.0.0/8"}}}, env)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "s" {
		t.Errorf("Name = %q", a.Name())
	}
	if w := authbuild.Warnings(&config.Config{}, "routes[0].auth.methods[0]", a); w != nil {
		t.Errorf("warnings: %v", w)
	}
}
