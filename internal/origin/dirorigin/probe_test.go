package dirorigin

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// TestProbeReasons: a folder that is gone, replaced by a file, replaced by another
// folder, or unreadable is reported with its reason and path.
func TestProbeReasons(t *testing.T) {
	open := func(t *testing.T) (*Dir, string) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "site")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d, dir
	}
	want := func(t *testing.T, err error, reason, msg string) {
		t.Helper()
		pe, ok := probe.Of(err)
		if !ok || pe.Reason != reason || !strings.Contains(pe.Message, msg) {
			t.Fatalf("Probe = %v, want reason %s and a message with %q", err, reason, msg)
		}
		if !errors.Is(err, origin.ErrUnavailable) {
			t.Errorf("%v does not wrap ErrUnavailable", err)
		}
	}

	t.Run("ok, empty", func(t *testing.T) {
		d, _ := open(t)
		if err := d.Probe(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		d, dir := open(t)
		os.Remove(dir)
		want(t, d.Probe(context.Background()), probe.FolderMissing, `folder "`+dir+`" does not exist`)
	})
	t.Run("not a folder", func(t *testing.T) {
		d, dir := open(t)
		os.Remove(dir)
		os.WriteFile(dir, []byte("x"), 0o644)
		want(t, d.Probe(context.Background()), probe.NotAFolder, `"`+dir+`" is not a folder`)
	})
	t.Run("replaced", func(t *testing.T) {
		d, dir := open(t)
		os.Remove(dir)
		os.Mkdir(dir, 0o755)
		want(t, d.Probe(context.Background()), probe.FolderReplaced, "reload")
	})
	t.Run("no permission", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any folder; TestProbePermissionClassified covers the classification")
		}
		d, dir := open(t)
		os.Chmod(dir, 0)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		want(t, d.Probe(context.Background()), probe.PermissionDenied, `no permission to read folder "`+dir+`"`)
	})
}

// TestProbePermissionClassified: the tests may run as root, whom no folder mode stops,
// so the permission case is also checked on the error the system gives a user who may
// not read the folder (EACCES).
func TestProbePermissionClassified(t *testing.T) {
	err := probeError("/srv/site", &fs.PathError{Op: "open", Path: "/srv/site", Err: syscall.EACCES})
	pe, ok := probe.Of(err)
	if !ok || pe.Reason != probe.PermissionDenied || !strings.Contains(pe.Message, `no permission to read folder "/srv/site"`) {
		t.Fatalf("probeError(EACCES) = %v, want permission_denied", err)
	}
	if err := probeError("/srv/site", errors.New("input/output error")); !strings.Contains(err.Error(), "/srv/site") {
		t.Errorf("other error: %v", err)
	} else if pe, _ := probe.Of(err); pe.Reason != probe.Other {
		t.Errorf("other error reason %q", pe.Reason)
	}
}
