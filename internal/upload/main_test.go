package upload

import (
	"os"
	"testing"
)

// TestMain stops the MinIO the Uppy tests share (newUppyServer starts it on first use);
// without it each run of the package left a MinIO server running.
func TestMain(m *testing.M) {
	code := m.Run()
	if minio != nil {
		minio.Stop()
	}
	os.Exit(code)
}
