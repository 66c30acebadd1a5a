package s3origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// benchBucket is a Bucket on a fresh bucket of the shared MinIO holding a 4 KiB object
// at "obj-4k", as newBucket makes one for tests.
func benchBucket(tb testing.TB) *Bucket {
	tb.Helper()
	minioOnce.Do(func() { minio, minioErr = testenv.StartMinIO() })
	if errors.Is(minioErr, testenv.ErrNoMinIO) {
		tb.Skip(minioErr)
	}
	if minioErr != nil {
		tb.Fatal(minioErr)
	}
	name := fmt.Sprintf("bench-%d", buckets.Add(1))
	minio.CreateBucket(tb, name)
	b, err := New(context.Background(), &config.S3Origin{
		Bucket: name, Endpoint: minio.Endpoint, PathStyle: true, MaxAttempts: 3,
		AccessKeyID: minio.AccessKey, SecretAccessKey: minio.SecretKey,
	}, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := minio.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(name), Key: aws.String("obj-4k"), Body: bytes.NewReader(make([]byte, 4096)),
		ContentType: aws.String("application/octet-stream"),
	}); err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkS3Get4KiB is an uncached 4 KiB GET through the origin against a real MinIO:
// the origin side of the harness's "uncached 4 KiB" scenario. MinIO runs on the same
// machine, so ns/op includes its own work; allocs/op and the CPU profile's share of the
// client code (go test -cpuprofile, go tool pprof -top) are the figures to compare, and
// cpu-ns/op: the CPU time this process (not MinIO) spent per request, GC included.
//
//	GATEHOUSE_MINIO=$HOME/.cache/gatehouse/bin/minio go test -run '^$' -bench S3Get4KiB -benchmem ./internal/origin/s3origin/
func BenchmarkS3Get4KiB(bm *testing.B) {
	b := benchBucket(bm)
	ctx := context.Background()
	buf := make([]byte, 8192)
	bm.ReportAllocs()
	bm.SetBytes(4096)
	defer reportCPU(bm)()
	for bm.Loop() {
		obj, err := b.Get(ctx, "obj-4k", origin.GetOptions{})
		if err != nil {
			bm.Fatal(err)
		}
		n, err := io.ReadFull(obj.Body, buf[:4096])
		obj.Body.Close()
		if err != nil || n != 4096 {
			bm.Fatalf("%d bytes, %v", n, err)
		}
	}
}

// BenchmarkS3Head is a HEAD of the same object (a cache's revalidation, a HEAD request).
func BenchmarkS3Head(bm *testing.B) {
	b := benchBucket(bm)
	ctx := context.Background()
	bm.ReportAllocs()
	defer reportCPU(bm)()
	for bm.Loop() {
		if _, err := b.Head(ctx, "obj-4k", origin.HeadOptions{}); err != nil {
			bm.Fatal(err)
		}
	}
}

// reportCPU starts counting this process's CPU time (user and system); the function it
// returns reports it per iteration as cpu-ns/op. MinIO's CPU, in its own process, is
// not counted, unlike in ns/op.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }
}

func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
