package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestBinaryServesS3 builds the real binary and runs `gatehouse serve` against a real
// MinIO: it streams a large object while watching the process's resident memory, then
// sends SIGTERM in the middle of a download and expects the download to finish and the
// process to exit 0. GATEHOUSE_E2E_MIB sets the object size (default 256).
func TestBinaryServesS3(t *testing.T) {
	m, err := testenv.StartMinIO()
	if errors.Is(err, testenv.ErrNoMinIO) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	size := int64(256) << 20
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_E2E_MIB")); err == nil && v > 0 {
		size = int64(v) << 20
	}
	m.CreateBucket(t, "media")
	sum := putZeroesObject(t, m, "media", "big.bin", size)
	if _, err := m.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("media"), Key: aws.String("small.txt"), Body: strings.NewReader("small")}); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "gatehouse")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port, _ := testenv.FreePort()
	aport, _ := testenv.FreePort()
	cfgPath := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:%d", shutdown_timeout: 20s}
admin: {listen: "127.0.0.1:%d"}
log: {access: "off"}
origins:
  media:
    s3:
      bucket: media
      endpoint: ${MINIO_ENDPOINT}
      path_style: true
      access_key_id: ${MINIO_KEY}
      secret_access_key: ${MINIO_SECRET}
routes:
  - {path: /media/*, origin: media, strip_prefix: /media, public: true}
`, port, aport)), 0o644)

	if out, err := exec.Command(bin, "check", "--config", cfgPath).CombinedOutput(); err == nil {
		t.Fatalf("check passed without the environment variables:\n%s", out)
	} else if !strings.Contains(string(out), "MINIO_ENDPOINT is not set") {
		t.Fatalf("check output does not name the missing variable:\n%s", out)
	}

	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "MINIO_ENDPOINT="+m.Endpoint, "MINIO_KEY="+m.AccessKey, "MINIO_SECRET="+m.SecretKey)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", aport), &stderr)

	if body := fetch(t, base+"/media/small.txt"); string(body) != "small" {
		t.Fatalf("small object: %q", body)
	}
	rssBefore := procStatusKiB(t, cmd.Process.Pid, "VmRSS")
	start := time.Now()
	got := sha256Of(t, base+"/media/big.bin")
	elapsed := time.Since(start)
	if got != sum {
		t.Fatal("checksum mismatch")
	}
	hwm := procStatusKiB(t, cmd.Process.Pid, "VmHWM")
	t.Logf("streamed %d MiB in %s (%.0f MiB/s); process RSS %d KiB before, peak %d KiB (growth %.1f MiB)",
		size>>20, elapsed.Round(time.Millisecond), float64(size>>20)/elapsed.Seconds(), rssBefore, hwm, float64(hwm-rssBefore)/1024)
	if growth := hwm - rssBefore; growth > 32<<10 {
		t.Errorf("peak RSS grew by %d MiB while streaming %d MiB", growth>>10, size>>20)
	}

	// SIGTERM with a download in flight: it completes, then the process exits 0.
	resp, err := http.Get(base + "/media/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown closes the listener first: once a new connection is refused, the process
	// is shutting down with the download still in flight.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("still accepting connections 10s after SIGTERM:\n%s", stderr.String())
		}
	}
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatalf("download cut by shutdown: %v", err)
	}
	resp.Body.Close()
	if [32]byte(h.Sum(nil)) != sum {
		t.Fatal("checksum mismatch after SIGTERM")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// putZeroesObject uploads size bytes of a repeating pattern from a temp file.
func putZeroesObject(t *testing.T, m *testenv.MinIO, bucket, key string, size int64) [32]byte {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "obj")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	chunk := bytes.Repeat([]byte("gatehouse streams, never buffers. "), 1<<15)
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	for n := int64(0); n < size; {
		c := chunk[:min(int64(len(chunk)), size-n)]
		w.Write(c)
		n += int64(len(c))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	if _, err := m.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f}); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func waitReady(t *testing.T, url string, stderr *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready: %s", stderr.String())
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

func sha256Of(t *testing.T, url string) [32]byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return [32]byte(h.Sum(nil))
}

// procStatusKiB reads a "Name:   1234 kB" line of /proc/PID/status.
func procStatusKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}
