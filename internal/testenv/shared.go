package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedTestdata returns the path of a file under the workplace's shared/testdata folder
// (../shared from the repository root), found by walking up from the test's directory.
// When it is missing the test is skipped, or fails under GATEHOUSE_REQUIRE_MINIO=1 (the
// test script and CI), so that tests against real vectors can never silently stop
// running.
func SharedTestdata(tb testing.TB, rel ...string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(append([]string{dir, "shared", "testdata"}, rel...)...)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	msg := "shared/testdata/" + filepath.Join(rel...) + " not found above the working directory"
	if Required() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}
