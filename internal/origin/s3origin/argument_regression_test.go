package s3origin

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestRegression_PresignWithoutArgumentReader: the middleware that reads S3's
// InvalidArgument detail was added to every client stack, presign clients too, whose
// stacks have no deserializer for it to sit beside, so every presign failed with "not
// found: GatehouseArgumentReader". On AWS (no endpoint) presigning is offline: no MinIO
// or network needed.
func TestRegression_PresignWithoutArgumentReader(t *testing.T) {
	b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Region: "eu-west-1",
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", MaxAttempts: 1}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.PresignPut(ctx, "k", origin.PresignConditions{Expires: time.Minute, Size: 5, MaxSize: 5}); err != nil {
		t.Errorf("PresignPut: %v", err)
	}
	if _, _, err := b.PresignPart(ctx, "k", "upload-id", 1, time.Minute); err != nil {
		t.Errorf("PresignPart: %v", err)
	}
}
