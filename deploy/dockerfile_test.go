package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/gatehouse-dev/gatehouse/internal/version"
)

// versionFlag is the linker flag that stamps the version; Dockerfile and
// scripts/release both pass it. The assignment below stops compiling if the variable
// moves.
const versionFlag = "-X github.com/gatehouse-dev/gatehouse/internal/version.Version="

var _ = &version.Version

// parseDockerfile parses a Dockerfile with buildkit's parser and instruction parser,
// every lint rule on (experimental ones too); parser and lint warnings are problems.
func parseDockerfile(data []byte) (stages []instructions.Stage, meta []instructions.ArgCommand, problems []string) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, []string{err.Error()}
	}
	for _, w := range res.Warnings {
		problems = append(problems, fmt.Sprintf("line %d: parser warning: %s %s", w.Location.Start.Line, w.Short, bytes.Join(w.Detail, []byte(" "))))
	}
	lint := linter.New(&linter.Config{ExperimentalAll: true, Warn: func(rule, desc, url, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("line %d: lint %s: %s", line, rule, msg))
	}})
	stages, meta, err = instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, nil, append(problems, err.Error())
	}
	return stages, meta, problems
}

// checkDockerfile lists what is wrong with a Dockerfile for gatehouse: it must be
// multi-stage; the binary built static (CGO_ENABLED=0), with -trimpath, stripped and
// version-stamped from a build argument; the image it ends in must run as a numeric
// non-root user from an exec-form ENTRYPOINT, run no command (it has no shell) and
// have CA certificates.
func checkDockerfile(data []byte) []string {
	stages, _, problems := parseDockerfile(data)
	if len(stages) < 2 {
		return append(problems, fmt.Sprintf("%d stage(s), want a build stage and a final one", len(stages)))
	}
	build, final := stages[0], stages[len(stages)-1]
	var goBuild string
	var args []string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				args = append(args, a.Key)
			}
		case *instructions.RunCommand:
			if line := strings.Join(c.CmdLine, " "); strings.Contains(line, "go build") {
				goBuild = line
			}
		}
	}
	for _, want := range []string{"go build", "CGO_ENABLED=0", "-trimpath", "-s -w", versionFlag + "${VERSION}", "./cmd/gatehouse"} {
		if !strings.Contains(goBuild, want) {
			problems = append(problems, fmt.Sprintf("stage %q: go build line lacks %q: %s", build.Name, want, goBuild))
		}
	}
	if !slices.Contains(args, "VERSION") {
		problems = append(problems, fmt.Sprintf("stage %q declares no ARG VERSION (has %v): --build-arg VERSION would not reach the build", build.Name, args))
	}
	// distroless/static has CA certificates and a passwd entry for 65532; scratch would
	// need them copied in.
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") {
		problems = append(problems, fmt.Sprintf("final stage is FROM %s, want distroless static (CA certificates, no shell)", final.BaseName))
	}
	var user string
	var entry *instructions.EntrypointCommand
	var copied []string
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entry = c
		case *instructions.CopyCommand:
			if c.From == build.Name {
				copied = append(copied, c.DestPath)
			}
		case *instructions.RunCommand:
			problems = append(problems, fmt.Sprintf("final stage runs %q: the image has no shell", strings.Join(c.CmdLine, " ")))
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || strings.Trim(uid, "0") == "" || strings.Trim(uid, "0123456789") != "" {
		problems = append(problems, fmt.Sprintf("USER %q: want a numeric non-root user (Kubernetes' runAsNonRoot can only check a number)", user))
	}
	switch {
	case entry == nil || len(entry.CmdLine) == 0:
		problems = append(problems, "no ENTRYPOINT")
	case entry.PrependShell:
		problems = append(problems, "ENTRYPOINT in shell form: want the exec form (a JSON array), which needs no shell")
	case !slices.Contains(copied, entry.CmdLine[0]):
		problems = append(problems, fmt.Sprintf("ENTRYPOINT runs %s, but the final stage copies only %v from %q", entry.CmdLine[0], copied, build.Name))
	}
	return problems
}

// TestDockerfile checks ../Dockerfile, and that its Go version is go.mod's.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDockerfile(data) {
		t.Errorf("Dockerfile: %s", p)
	}
	_, meta, _ := parseDockerfile(data)
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range meta {
		for _, a := range m.Args {
			if a.Key == "GO_VERSION" && (a.Value == nil || !strings.Contains(string(gomod), "\ngo "+*a.Value+"\n")) {
				t.Errorf("ARG GO_VERSION=%v is not go.mod's go version", a.ValueString())
			}
		}
	}
}

// TestDockerfileChecks: checkDockerfile catches each property broken on its own.
func TestDockerfileChecks(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	for _, tc := range []struct{ name, old, new, want string }{
		{"root user", "USER 65532:65532", "USER 0", "non-root"},
		{"named user", "USER 65532:65532", "USER nonroot", "numeric"},
		{"no user", "USER 65532:65532\n", "", "non-root"},
		{"shell-form entrypoint", `ENTRYPOINT ["/usr/local/bin/gatehouse"]`, "ENTRYPOINT /usr/local/bin/gatehouse", "exec form"},
		{"cgo", "RUN CGO_ENABLED=0", "RUN CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"no stamp", "-X github.com", "-X example.com", "internal/version.Version"},
		{"no version arg", "ARG VERSION=dev", "ARG OTHER=dev", "ARG VERSION"},
		{"one stage", "FROM gcr.io/distroless/static-debian12:nonroot\n", "", "stage(s)"},
		{"lint: casing", "AS build", "as build", "lint FromAsCasing"},
		{"run in the final stage", "USER 65532:65532", "RUN adduser x\nUSER 65532:65532", "no shell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the Dockerfile has no %q to change", tc.old)
			}
			problems := strings.Join(checkDockerfile([]byte(strings.Replace(good, tc.old, tc.new, 1))), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("problems %q, want one about %q", problems, tc.want)
			}
		})
	}
}

// TestDockerignore: the build context lets in every file `go build ./cmd/gatehouse`
// reads (so a new package folder cannot be silently left out) and keeps out .git and
// the bulky folders.
func TestDockerignore(t *testing.T) {
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(rel string) bool {
		ex, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			t.Fatal(err)
		}
		return ex
	}
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		"../cmd/gatehouse").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	need := []string{"go.mod", "go.sum"}
	for _, p := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		need = append(need, filepath.ToSlash(rel))
	}
	if len(need) < 50 {
		t.Fatalf("go list found %d files: %v", len(need), need)
	}
	for _, rel := range need {
		if excluded(rel) {
			t.Errorf(".dockerignore keeps out %s, which the build needs", rel)
		}
	}
	for _, rel := range []string{".git/HEAD", "bench/results/x", "tests/e2e/login/node_modules/x", "test-artifacts/x", "docs/configuration.md"} {
		if !excluded(rel) {
			t.Errorf(".dockerignore lets in %s", rel)
		}
	}
}
