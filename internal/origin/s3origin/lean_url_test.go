package s3origin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// leanKeys are keys whose escaping the lean path must get exactly as the SDK does.
var leanKeys = []string{"a", "dir/file.txt", "space and+plus", "ünï/ćødé", "/leading", "a//b", "q?x=1#frag",
	"pct%2Fenc", "~!*'()$&,;=@:", "trailing/"}

// TestLeanURLMatchesSDK: for every way a bucket's endpoint can be configured, the lean
// path sends each key to the URL the SDK's own GetObject uses (read from the SDK's
// presigned URL, which runs the whole stack offline) and signs for the same region and
// service; where the SDK's rules need more than SigV4, there is no lean path.
func TestLeanURLMatchesSDK(t *testing.T) {
	const akid = "AKIDEXAMPLE"
	fromConfig := func(c config.S3Origin) func(t *testing.T) *Bucket {
		return func(t *testing.T) *Bucket {
			c.AccessKeyID, c.SecretAccessKey, c.MaxAttempts = akid, "secret", 1
			b, err := New(context.Background(), &c, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	// fromOptions builds the bucket from SDK options the configuration does not name,
	// but the SDK's shared config and environment can set (FIPS, dual-stack).
	fromOptions := func(bucket string, mod func(*s3.Options)) func(t *testing.T) *Bucket {
		return func(t *testing.T) *Bucket {
			b := &Bucket{bucket: bucket, timeout: 5 * time.Second}
			o := s3.Options{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(akid, "secret", "")}
			mod(&o)
			b.client = s3.New(o)
			b.lean, _ = newLeanReader(context.Background(), b, http.DefaultClient)
			return b
		}
	}
	for _, tc := range []struct {
		name   string
		bucket func(t *testing.T) *Bucket
		lean   bool
	}{
		{"aws virtual host", fromConfig(config.S3Origin{Bucket: "my-bucket", Region: "eu-west-1"}), true},
		{"aws us-east-1", fromConfig(config.S3Origin{Bucket: "my-bucket", Region: "us-east-1"}), true},
		{"aws path style", fromConfig(config.S3Origin{Bucket: "my-bucket", Region: "eu-west-1", PathStyle: true}), true},
		{"aws bucket with dots", fromConfig(config.S3Origin{Bucket: "my.bucket.example", Region: "eu-west-1"}), true},
		{"aws bucket not a host name", fromConfig(config.S3Origin{Bucket: "My_Bucket", Region: "eu-west-1"}), true},
		{"minio path style", fromConfig(config.S3Origin{Bucket: "b", Endpoint: "http://127.0.0.1:9000", PathStyle: true}), true},
		{"custom virtual host", fromConfig(config.S3Origin{Bucket: "b", Endpoint: "https://abc.r2.cloudflarestorage.com", Region: "auto"}), true},
		{"custom endpoint with a path", fromConfig(config.S3Origin{Bucket: "b", Endpoint: "https://ceph.example.com/s3", PathStyle: true}), true},
		{"custom virtual host with a path", fromConfig(config.S3Origin{Bucket: "b", Endpoint: "https://ceph.example.com/s3"}), true},
		{"access point arn", fromConfig(config.S3Origin{Bucket: "arn:aws:s3:eu-west-1:123456789012:accesspoint/site", Region: "eu-west-1"}), true},
		{"dual stack", fromOptions("my-bucket", func(o *s3.Options) {
			o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
		}), true},
		{"fips", fromOptions("my-bucket", func(o *s3.Options) { o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled }), true},
		{"fips dual stack", fromOptions("my-bucket", func(o *s3.Options) {
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
			o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
		}), true},
		{"accelerate", fromOptions("my-bucket", func(o *s3.Options) { o.UseAccelerate = true }), true},
		// The SDK's path only: SigV4a, S3 Express sessions.
		{"multi-region access point", fromConfig(config.S3Origin{Bucket: "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap", Region: "eu-west-1"}), false},
		{"s3 express directory bucket", fromConfig(config.S3Origin{Bucket: "site--euw1-az1--x-s3", Region: "eu-west-1"}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.bucket(t)
			if (b.lean != nil) != tc.lean {
				_, why := newLeanReader(context.Background(), b, http.DefaultClient)
				t.Fatalf("lean path: %v, want %v (%s)", b.lean != nil, tc.lean, why)
			}
			if b.lean == nil {
				return
			}
			presign := s3.NewPresignClient(b.client)
			for _, key := range leanKeys {
				p, err := presign.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(key)})
				if err != nil {
					t.Fatalf("presign %q: %v", key, err)
				}
				want, err := url.Parse(p.URL)
				if err != nil {
					t.Fatal(err)
				}
				req, err := b.lean.newHTTPRequest(context.Background(), &request{op: "GetObject", method: http.MethodGet, key: key}, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				got := req.URL
				if got.Scheme != want.Scheme || got.Host != want.Host || got.EscapedPath() != want.EscapedPath() {
					t.Errorf("key %q: lean %s://%s%s, SDK %s://%s%s", key, got.Scheme, got.Host, got.EscapedPath(), want.Scheme, want.Host, want.EscapedPath())
				}
				if got.Query().Get("x-id") != want.Query().Get("x-id") {
					t.Errorf("key %q: x-id %q, SDK %q", key, got.Query().Get("x-id"), want.Query().Get("x-id"))
				}
				// X-Amz-Credential is AKID/date/region/service/aws4_request.
				wantScope := strings.SplitN(want.Query().Get("X-Amz-Credential"), "/", 3)[2]
				auth := req.Header.Get("Authorization")
				if !strings.Contains(auth, "/"+wantScope+",") {
					t.Errorf("key %q: Authorization %q, want the scope %q", key, auth, wantScope)
				}
			}
		})
	}
}
