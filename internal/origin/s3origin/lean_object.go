package s3origin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// getObject sends a GetObject: on the lean path (lean.go) when the bucket has one and the
// input holds only what Bucket sends (key, range, preconditions), else through the SDK.
// Either way the output holds the same fields and a failure is the same error.
func (b *Bucket) getObject(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	if b.lean == nil || key == "" || !leanGetInput(in) {
		return b.client.GetObject(ctx, in)
	}
	r := &request{op: "GetObject", method: http.MethodGet, key: key, rng: aws.ToString(in.Range), cond: conditionsOf(
		in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince)}
	resp, err := b.lean.do(ctx, r)
	if err != nil {
		return nil, err
	}
	out := &s3.GetObjectOutput{Body: resp.Body}
	if err := readObjectHeaders(resp.Header, &objectFields{
		length: &out.ContentLength, etag: &out.ETag, lastModified: &out.LastModified,
		contentType: &out.ContentType, cacheControl: &out.CacheControl,
		disposition: &out.ContentDisposition, encoding: &out.ContentEncoding,
		language: &out.ContentLanguage, expires: &out.ExpiresString,
		contentRange: &out.ContentRange, metadata: &out.Metadata,
	}); err != nil {
		resp.Body.Close()
		return nil, b.lean.opErr(r, responseError(resp, err))
	}
	return out, nil
}

// headObject is getObject's HeadObject.
func (b *Bucket) headObject(ctx context.Context, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	key := aws.ToString(in.Key)
	if b.lean == nil || key == "" || !leanHeadInput(in) {
		return b.client.HeadObject(ctx, in)
	}
	r := &request{op: "HeadObject", method: http.MethodHead, key: key, rng: aws.ToString(in.Range), cond: conditionsOf(
		in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince)}
	resp, err := b.lean.do(ctx, r)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	out := &s3.HeadObjectOutput{}
	if err := readObjectHeaders(resp.Header, &objectFields{
		length: &out.ContentLength, etag: &out.ETag, lastModified: &out.LastModified,
		contentType: &out.ContentType, cacheControl: &out.CacheControl,
		disposition: &out.ContentDisposition, encoding: &out.ContentEncoding,
		language: &out.ContentLanguage, expires: &out.ExpiresString,
		contentRange: &out.ContentRange, metadata: &out.Metadata,
	}); err != nil {
		return nil, b.lean.opErr(r, responseError(resp, err))
	}
	return out, nil
}

// leanGetInput reports whether in asks for nothing but what the lean path sends.
func leanGetInput(in *s3.GetObjectInput) bool {
	return aws.ToString(in.Bucket) != "" && in.VersionId == nil && in.PartNumber == nil && in.ChecksumMode == "" &&
		in.ExpectedBucketOwner == nil && in.RequestPayer == "" && in.SSECustomerAlgorithm == nil &&
		in.ResponseCacheControl == nil && in.ResponseContentDisposition == nil && in.ResponseContentEncoding == nil &&
		in.ResponseContentLanguage == nil && in.ResponseContentType == nil && in.ResponseExpires == nil
}

// leanHeadInput is leanGetInput for a HeadObject.
func leanHeadInput(in *s3.HeadObjectInput) bool {
	return aws.ToString(in.Bucket) != "" && in.VersionId == nil && in.PartNumber == nil && in.ChecksumMode == "" &&
		in.ExpectedBucketOwner == nil && in.RequestPayer == "" && in.SSECustomerAlgorithm == nil &&
		in.ResponseCacheControl == nil && in.ResponseContentDisposition == nil && in.ResponseContentEncoding == nil &&
		in.ResponseContentLanguage == nil && in.ResponseContentType == nil && in.ResponseExpires == nil
}

// conditionsOf collects an S3 input's precondition fields.
func conditionsOf(ifMatch, ifNoneMatch *string, ims, ius *time.Time) origin.Conditions {
	c := origin.Conditions{IfMatch: aws.ToString(ifMatch), IfNoneMatch: aws.ToString(ifNoneMatch)}
	if ims != nil {
		c.IfModifiedSince = *ims
	}
	if ius != nil {
		c.IfUnmodifiedSince = *ius
	}
	return c
}

// objectFields points at the output fields readObjectHeaders fills.
type objectFields struct {
	length                          **int64
	etag, contentType, cacheControl **string
	disposition, encoding, language **string
	expires, contentRange           **string
	lastModified                    **time.Time
	metadata                        *map[string]string
}

// readObjectHeaders maps a GetObject's or HeadObject's response headers to output
// fields as the SDK's deserializers do: the first value of each, trimmed; a
// Content-Length or Last-Modified that does not parse fails the call; x-amz-meta-*
// become Metadata under their lower-case names without the prefix.
func readObjectHeaders(h http.Header, f *objectFields) error {
	str := func(dst **string, name string) {
		if v := h[name]; len(v) != 0 {
			s := strings.TrimSpace(v[0])
			*dst = &s
		}
	}
	str(f.etag, "Etag")
	str(f.contentType, "Content-Type")
	str(f.cacheControl, "Cache-Control")
	str(f.disposition, "Content-Disposition")
	str(f.encoding, "Content-Encoding")
	str(f.language, "Content-Language")
	str(f.expires, "Expires")
	str(f.contentRange, "Content-Range")
	if v := h["Content-Length"]; len(v) != 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 0, 64)
		if err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response with invalid Http bindings, %w", err)}
		}
		*f.length = &n
	}
	if v := h["Last-Modified"]; len(v) != 0 {
		t, err := smithytime.ParseHTTPDate(strings.TrimSpace(v[0]))
		if err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response with invalid Http bindings, %w", err)}
		}
		*f.lastModified = &t
	}
	const prefix = "x-amz-meta-"
	for k, v := range h {
		if len(k) >= len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) {
			if *f.metadata == nil {
				*f.metadata = map[string]string{}
			}
			(*f.metadata)[strings.ToLower(k[len(prefix):])] = strings.TrimSpace(v[0])
		}
	}
	return nil
}
