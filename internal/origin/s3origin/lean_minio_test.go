package s3origin

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestLeanMinIO: against a real MinIO, the lean path signs what MinIO accepts for every
// kind of key, and Get and Head answer as on the SDK's path: the object's Info (content
// headers, user metadata), ranges, preconditions (304, 412, and those evaluated here),
// unsatisfiable ranges and missing keys.
func TestLeanMinIO(t *testing.T) {
	lean := newBucket(t)
	if lean.lean == nil {
		t.Fatal("no lean path on MinIO")
	}
	sdk, err := New(context.Background(), &config.S3Origin{
		Bucket: lean.bucket, Endpoint: minio.Endpoint, PathStyle: true, MaxAttempts: 2,
		AccessKeyID: minio.AccessKey, SecretAccessKey: minio.SecretKey,
	}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sdk.lean = nil
	ctx := context.Background()
	for _, key := range append(leanKeys[:len(leanKeys):len(leanKeys)], "obj") {
		if strings.HasSuffix(key, "/") || strings.HasPrefix(key, "/") || strings.Contains(key, "//") {
			continue // MinIO refuses these names as object names
		}
		if _, err := minio.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &lean.bucket, Key: aws.String(key), Body: strings.NewReader("hello, world"),
			ContentType: aws.String("text/plain; charset=utf-8"), CacheControl: aws.String("max-age=300"),
			ContentDisposition: aws.String(`attachment; filename="x.txt"`), ContentLanguage: aws.String("de"),
			ContentEncoding: aws.String("identity"), Expires: aws.Time(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
			Metadata: map[string]string{"Color": "blue", "two-words": "a b"},
		}); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
	}
	info, err := sdk.Head(ctx, "obj", origin.HeadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	etag, later := info.ETag, info.LastModified.Add(time.Hour)
	options := map[string]origin.GetOptions{
		"plain":              {},
		"range":              {Range: &origin.ByteRange{First: 7, Last: 11}},
		"suffix range":       {Range: &origin.ByteRange{First: -1, Last: -1, SuffixLen: 5}},
		"range past the end": {Range: &origin.ByteRange{First: 100, Last: -1}},
		"if-none-match":      {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfNoneMatch: etag}}},
		"if-match other":     {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfMatch: `"other"`}}},
		"if-match list":      {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfMatch: `"other", ` + etag}}},
		"if-modified-since":  {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfModifiedSince: later}}},
		"weak if-none-match": {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfNoneMatch: "W/" + etag}}},
	}
	for _, key := range append(leanKeys[:len(leanKeys):len(leanKeys)], "obj", "missing") {
		for name, opt := range options {
			for _, op := range []string{"Get", "Head"} {
				run := func(b *Bucket) outcome {
					if op == "Get" {
						obj, err := b.Get(ctx, key, opt)
						return outcomeOf(obj, origin.Info{}, err, nil)
					}
					info, err := b.Head(ctx, key, opt.HeadOptions)
					return outcomeOf(nil, info, err, nil)
				}
				got, want := run(lean), run(sdk)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %q %s: lean path\n%+v\nSDK\n%+v", op, key, name, got, want)
				}
				if key == "obj" && name == "plain" && op == "Get" && (got.Body != "hello, world" || got.Info.Metadata["color"] != "blue") {
					t.Errorf("Get: %+v", got)
				}
			}
		}
	}
}
