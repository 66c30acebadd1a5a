package internal_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxBinaryBytes bounds the gatehouse binary (a plain `go build`, symbols kept). It was
// 72 MB while internal/pages used html/template, whose reflection made the linker keep
// every exported method of every linked type (812 EC2 client methods, 11 used); 23.7 MB
// without it; 24.9 MB with uploads. Issue 15 added 6.2 MB on purpose: the Prometheus
// client (3.4 MB: its protobuf data model and the text/OpenMetrics encoders), the
// OpenTelemetry SDK with gatehouse's own OTLP/HTTP exporter (1.3 MB; the official
// otlptracehttp exporter links gRPC and protobuf reflection: 79 MB), and ACME with OCSP
// stapling (0.6 MB), for 31.1 MB.
const maxBinaryBytes = 33 << 20

// deadCodeKillers are packages known to make the linker keep every exported method.
var deadCodeKillers = []string{"html/template"}

// TestBinaryStaysSmall fails when a dependency that defeats dead-code elimination creeps
// back into the gatehouse binary: first by name (fast, says which), then by size.
func TestBinaryStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/gatehouse").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, bad := range deadCodeKillers {
		for _, d := range deps {
			if d == bad {
				t.Errorf("cmd/gatehouse links %s (find who: go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/gatehouse | grep %s)", bad, bad)
			}
		}
	}
	if testing.Short() {
		return
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/gatehouse")
	cmd.Env = append(os.Environ(), "GOFLAGS=") // the binary users build, whatever the test's flags
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > maxBinaryBytes {
		t.Errorf("gatehouse binary is %.1f MB, over %d MB: a new dependency may defeat dead-code elimination (check for reflect.Value.Method/MethodByName with non-constant names)", float64(fi.Size())/1e6, maxBinaryBytes>>20)
	}
	t.Logf("gatehouse binary: %.1f MB", float64(fi.Size())/1e6)
}
