package main

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseBuild runs scripts/release for this platform and checks what it made: the
// version stamp shows in `gatehouse version` and `gatehouse --version`; SHA256SUMS
// holds the binary's digest; the build was static, trimmed and stripped; and no
// test-only dependency (buildkit, Kubernetes' API types) is linked in.
func TestReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary")
	}
	const ver = "v0.0.0-test.1"
	out := t.TempDir()
	cmd := exec.Command("../../scripts/release", ver)
	cmd.Env = append(os.Environ(), "GATEHOUSE_RELEASE_PLATFORMS="+runtime.GOOS+"/"+runtime.GOARCH, "GATEHOUSE_RELEASE_OUT="+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, stderr.String())
	}
	if strings.TrimSpace(string(stdout)) != out {
		t.Errorf("stdout %q, want the output folder %s", stdout, out)
	}
	name := "gatehouse-" + ver + "-" + runtime.GOOS + "-" + runtime.GOARCH
	bin := filepath.Join(out, name)

	for _, args := range [][]string{{"version"}, {"--version"}} {
		got, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		if want := "gatehouse " + ver + " "; !strings.HasPrefix(string(got), want) {
			t.Errorf("%s %v = %q, want it to start with %q", name, args, got, want)
		}
	}

	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS = %q, want %q", sums, want)
	}

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// With -trimpath, Go leaves -ldflags out of the build information; the version
	// above shows -X, the missing symbol table below shows -s.
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings %v: want CGO_ENABLED=0 and -trimpath", settings)
	}
	for _, d := range info.Deps {
		for _, testOnly := range []string{"k8s.io/", "sigs.k8s.io/", "github.com/moby/"} {
			if strings.HasPrefix(d.Path, testOnly) {
				t.Errorf("the binary links %s, a test-only dependency", d.Path)
			}
		}
	}

	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary has a dynamic loader (PT_INTERP): not static")
			}
		}
		if f.Section(".symtab") != nil {
			t.Error("the binary has a symbol table: not stripped")
		}
	}
}
