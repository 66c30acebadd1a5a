package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// MinIO is started by the first test that asks for it and stopped after all tests.
var (
	minioOnce sync.Once
	minio     *testenv.MinIO
	minioErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if minio != nil {
		minio.Stop()
	}
	os.Exit(code)
}

// framingBucket is the bucket the framing tests read, with the same objects as the
// folder they also run against.
const framingBucket = "framing"

var framingObjects = map[string]string{"a.txt": "A", "smuggled.txt": "SMUGGLED"}

// startMinIO returns a running MinIO holding framingBucket, or skips the test when MinIO
// is not installed (fails when testenv.Required).
func startMinIO(t *testing.T) *testenv.MinIO {
	t.Helper()
	minioOnce.Do(func() {
		minio, minioErr = testenv.StartMinIO()
		if minioErr != nil {
			return
		}
		ctx := context.Background()
		if _, err := minio.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(framingBucket)}); err != nil {
			minioErr = err
			return
		}
		for k, v := range framingObjects {
			if _, err := minio.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(framingBucket), Key: aws.String(k), Body: strings.NewReader(v)}); err != nil {
				minioErr = err
				return
			}
		}
	})
	switch {
	case errors.Is(minioErr, testenv.ErrNoMinIO):
		t.Skip("MinIO not available:", minioErr)
	case minioErr != nil:
		t.Fatal(fmt.Errorf("MinIO: %w", minioErr))
	}
	return minio
}
