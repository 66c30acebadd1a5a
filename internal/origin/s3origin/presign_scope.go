package s3origin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Why presigned uploads are signed with scoped-down credentials.
//
// A presigned PUT (or UploadPart) signs the host and a few headers; any other header the
// client adds is not covered by the signature. AWS S3 refuses a presigned request that
// carries an unsigned x-amz-* header (403 AccessDenied, HeadersNotSigned: SigV4 requires
// every x-amz-* header to be signed). MinIO does not: it accepts an unsigned
// x-amz-copy-source and runs the PUT as CopyObject (the part PUT as UploadPartCopy) with
// the signer's permissions, so a caller holding a URL for their own key could copy into
// it any object the origin's credentials can read, from any bucket, and at any size up
// to 5 GiB whatever max_size says.
//
// So on an S3-compatible endpoint every presigned upload is signed with temporary
// credentials from STS AssumeRole, asked of that same endpoint with the origin's
// credentials and an inline session policy that allows only s3:PutObject on the exact
// key (on the key prefix for a POST form with ${filename}). A session's permissions are
// the intersection of its parent's and the policy, so a copy, which needs s3:GetObject on
// the source, is refused (403) whatever header the client adds; s3:PutObject also covers
// UploadPart. The secret key of the session never leaves gatehouse: the URL carries only
// its access key id and session token, so the session signs nothing but the one request
// gatehouse presigned.
//
// MinIO answers AssumeRole for its root user and for regular users (the RoleArn is not
// used); about 2 ms on loopback, so each presign call costs one STS round trip and
// nothing is cached (a session policy names its key, so sessions cannot be shared between
// keys). An endpoint without STS (R2) or whose AssumeRole needs a real role (Ceph RGW)
// fails every presign call with 502 (fail closed): use presign mode gateway there.
//
// On AWS (no endpoint, or an amazonaws.com one) the origin's own credentials sign, since
// S3 itself refuses the unsigned header; AssumeRole there would need a role ARN and a
// trust policy the operator has not given.

// stsMinDuration is STS's shortest session; stsMargin keeps a session alive a little
// beyond the URL it signs, so the URL's own expiry is the one that counts.
const (
	stsMinDuration = 15 * time.Minute
	stsMargin      = time.Minute
	// presignRoleARN is sent because the API requires one; MinIO does not use it.
	presignRoleARN     = "arn:aws:iam::000000000000:role/gatehouse-presign"
	presignSessionName = "gatehouse-presign"
)

// scoper returns an STS client for the bucket's endpoint with the bucket's credentials,
// or nil when the origin is AWS S3 (which refuses unsigned x-amz-* headers on presigned
// requests). Building one costs a few small allocations, nothing on the network.
func (b *Bucket) scoper() *sts.Client {
	o := b.client.Options()
	if o.BaseEndpoint == nil || isAWSEndpoint(*o.BaseEndpoint) {
		return nil
	}
	return sts.New(sts.Options{
		Region:           o.Region,
		Credentials:      o.Credentials,
		HTTPClient:       o.HTTPClient,
		BaseEndpoint:     o.BaseEndpoint,
		RetryMaxAttempts: o.RetryMaxAttempts,
		Logger:           o.Logger,
	})
}

// isAWSEndpoint reports whether an origin's endpoint is AWS S3's own: none (the SDK's
// default), or a host under amazonaws.com(.cn).
func isAWSEndpoint(endpoint string) bool {
	if endpoint == "" {
		return true
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn")
}

// presignClient returns a presign client whose credentials may only PutObject on the
// object key (prefix: every key starting with key), valid at least for expires, and
// the time the credentials expire (zero: they do not).
func (b *Bucket) presignClient(ctx context.Context, key string, prefix bool, expires time.Duration, optFns ...func(*s3.PresignOptions)) (*s3.PresignClient, time.Time, error) {
	optFns = append(optFns, s3.WithPresignClientFromClientOptions(whenRequired))
	sc := b.scoper()
	if sc == nil {
		return s3.NewPresignClient(b.client, optFns...), time.Time{}, nil
	}
	policy, err := putOnlyPolicy(b.bucket, key, prefix)
	if err != nil {
		return nil, time.Time{}, err
	}
	d := max(stsMinDuration, expires+stsMargin)
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	out, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(presignRoleARN),
		RoleSessionName: aws.String(presignSessionName),
		Policy:          aws.String(policy),
		DurationSeconds: aws.Int32(int32(min(math.Ceil(d.Seconds()), math.MaxInt32))),
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("scoped presign credentials (STS AssumeRole at the origin's endpoint): %w", err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return nil, time.Time{}, fmt.Errorf("scoped presign credentials: STS answered without credentials")
	}
	creds := credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	optFns = append(optFns, s3.WithPresignClientFromClientOptions(func(o *s3.Options) { o.Credentials = creds }))
	var exp time.Time
	if c.Expiration != nil {
		exp = *c.Expiration
	}
	return s3.NewPresignClient(b.client, optFns...), exp, nil
}

// maxSessionPolicy is the longest inline session policy STS takes (AWS and MinIO: 2048
// bytes).
const maxSessionPolicy = 2048

// putOnlyPolicy is an IAM session policy allowing s3:PutObject on one object, or on every
// key under a prefix. A key too long for the policy (quotes and control characters are
// escaped, so a 1024-byte key can need more than 2048 bytes) is cut to a prefix that
// fits, with '*'; a '*' or '?' in a key also widens the resource to other keys. Both are
// harmless: what matters is that the session has no s3:GetObject, and its secret signs
// only the one request gatehouse presigns.
func putOnlyPolicy(bucket, key string, prefix bool) (string, error) {
	wild := ""
	if prefix {
		wild = "*"
	}
	for {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		err := enc.Encode(map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect":   "Allow",
				"Action":   []string{"s3:PutObject"},
				"Resource": []string{"arn:aws:s3:::" + bucket + "/" + key + wild},
			}},
		})
		if err != nil {
			return "", err
		}
		p := strings.TrimSuffix(buf.String(), "\n")
		if len(p) <= maxSessionPolicy {
			return p, nil
		}
		if key == "" {
			return "", fmt.Errorf("session policy for bucket %q longer than %d bytes", bucket, maxSessionPolicy)
		}
		// Drop a tail of the key, at a rune boundary, and widen to its prefix.
		cut := max(0, len(key)-(len(p)-maxSessionPolicy)-1)
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key, wild = key[:cut], "*"
	}
}

// urlExpiry is when a URL signed at now for expires stops working: its own expiry, or
// its credentials' if they end first.
func urlExpiry(now time.Time, expires time.Duration, credsExpire time.Time) time.Time {
	t := now.Add(expires)
	if !credsExpire.IsZero() && credsExpire.Before(t) {
		return credsExpire
	}
	return t
}
