// Package testenv starts the real services gatehouse's integration tests run against. It
// is imported by tests only.
//
// MinIO: the binary is found at $GATEHOUSE_MINIO, else $GATEHOUSE_CACHE/bin/minio (default
// ~/.cache/gatehouse/bin/minio, where scripts/test installs a pinned version), else on
// PATH. When it is missing the tests that need it are skipped, unless
// GATEHOUSE_REQUIRE_MINIO=1 (set by scripts/test and CI), which makes them fail instead:
// a green CI run has always talked to a real MinIO. Redis (redis.go) follows the same
// rule.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MinIO is a running MinIO server on loopback.
type MinIO struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Client    *s3.Client

	cmd  *exec.Cmd
	dir  string
	logs *bytes.Buffer
}

// ErrNoMinIO means the binary is not installed and GATEHOUSE_REQUIRE_MINIO is not set.
var ErrNoMinIO = errors.New("minio binary not found (run scripts/test, or set GATEHOUSE_MINIO)")

// MinIOBinary returns the path of the MinIO binary, or "" if there is none.
func MinIOBinary() string {
	if p := os.Getenv("GATEHOUSE_MINIO"); p != "" {
		return p
	}
	cache := os.Getenv("GATEHOUSE_CACHE")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "gatehouse")
		}
	}
	if p := filepath.Join(cache, "bin", "minio"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Required reports whether missing services must fail tests rather than skip them.
func Required() bool { return os.Getenv("GATEHOUSE_REQUIRE_MINIO") == "1" }

// StartMinIO starts a MinIO server with its data in a fresh temporary folder. Call Stop
// when done. It returns ErrNoMinIO when the binary is missing and not Required.
func StartMinIO() (*MinIO, error) {
	bin := MinIOBinary()
	if bin == "" {
		if Required() {
			return nil, errors.New("GATEHOUSE_REQUIRE_MINIO=1 but " + ErrNoMinIO.Error())
		}
		return nil, ErrNoMinIO
	}
	dir, err := os.MkdirTemp("", "gatehouse-minio-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cport, err := FreePort()
	if err != nil {
		return nil, err
	}
	m := &MinIO{
		Endpoint:  fmt.Sprintf("http://127.0.0.1:%d", port),
		AccessKey: "gatehouse-test",
		SecretKey: "gatehouse-test-secret",
		dir:       dir,
		logs:      &bytes.Buffer{},
	}
	m.cmd = exec.Command(bin, "server", "--quiet",
		"--address", fmt.Sprintf("127.0.0.1:%d", port),
		"--console-address", fmt.Sprintf("127.0.0.1:%d", cport),
		filepath.Join(dir, "data"))
	m.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey, "MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CALLHOME_ENABLE=off")
	m.cmd.Stdout, m.cmd.Stderr = m.logs, m.logs
	if err := m.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start minio: %w", err)
	}
	if err := m.waitReady(60 * time.Second); err != nil {
		m.Stop()
		return nil, fmt.Errorf("%w\nminio output:\n%s", err, m.logs.String())
	}
	m.Client = s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(m.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
	return m, nil
}

func (m *MinIO) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("minio not ready after %s", limit)
}

// Stop kills the server and removes its data.
func (m *MinIO) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
	os.RemoveAll(m.dir)
}

// CreateBucket makes a bucket, failing the test on error.
func (m *MinIO) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	if _, err := m.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
