// Package s3origin serves objects from an S3 bucket on AWS or any S3-compatible service
// (MinIO, R2, Ceph) through aws-sdk-go-v2. Range and preconditions are passed to S3, so
// one request costs one S3 call, except for preconditions S3 cannot evaluate, which cost
// a HeadObject first (see Bucket.Get); bodies are streamed, never buffered. The
// GetObject and HeadObject of reads skip the SDK's per-call middleware (lean.go) but
// use its endpoint rules, signer, credentials, HTTP client and retry policy.
package s3origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// Bucket is an origin backed by one S3 bucket.
type Bucket struct {
	client  *s3.Client
	lean    *leanReader // GetObject and HeadObject without the SDK's stack (lean.go); nil: the SDK
	bucket  string
	timeout time.Duration
	budget  *Budget // upload buffers (budget.go); nil: the process's shared one
	// observer, when set, records every S3 call (observe.go).
	observer atomic.Pointer[origin.Observer]
}

var _ origin.Origin = (*Bucket)(nil)

// New builds the S3 client. Credentials come from explicit keys when given, else from
// the SDK's default chain (environment, shared profile, web identity, instance role); they
// are resolved lazily, on the first request or probe. timeout bounds the wait for
// response headers (retries included) and any single stall while reading a body.
func New(ctx context.Context, c *config.S3Origin, timeout time.Duration) (*Bucket, error) {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = min(timeout, 10*time.Second) }).
		WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = timeout
			t.MaxIdleConns = 512
			t.MaxIdleConnsPerHost = 256
			t.IdleConnTimeout = 90 * time.Second
		}).
		WithReadTimeout(timeout)
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithRetryMaxAttempts(c.MaxAttempts),
		// The SDK would otherwise print its own debug lines to stderr; gatehouse logs
		// what matters itself. Responses are streamed, so there is no whole-body checksum
		// to validate before sending bytes on.
		awsconfig.WithLogger(logging.Nop{}),
		awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	if c.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	awsCfg.HTTPClient = tracedClient{next: awsCfg.HTTPClient} // trace.go: spans and traceparent when traced
	if awsCfg.Region == "" {
		if c.Endpoint == "" {
			return nil, errors.New("no region: set region (or AWS_REGION) for AWS S3")
		}
		awsCfg.Region = config.DefaultS3Region // S3-compatible services rarely care
	}
	b := &Bucket{bucket: c.Bucket, timeout: timeout}
	b.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		o.APIOptions = append(o.APIOptions, addArgumentMiddleware, b.addObserveMiddleware)
	})
	b.lean, _ = newLeanReader(ctx, b, awsCfg.HTTPClient)
	return b, nil
}

// Head describes the object at key. Of opt, only Cond matters: a bucket holds one
// representation per key (no variants, no codings made at the edge) and fills no Served.
func (b *Bucket) Head(ctx context.Context, key string, opt origin.HeadOptions) (origin.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	in := &s3.HeadObjectInput{Bucket: &b.bucket, Key: &key}
	cond, local := splitConditions(opt.Cond)
	setConditions(&in.IfMatch, &in.IfNoneMatch, &in.IfModifiedSince, &in.IfUnmodifiedSince, cond)
	out, err := b.headObject(ctx, in)
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			err = b.headRefusal(ctx, key, cond, err)
		}
		return origin.Info{}, b.mapErr(ctx, err)
	}
	info := origin.Info{
		Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag), LastModified: aws.ToTime(out.LastModified),
		ContentType: aws.ToString(out.ContentType), CacheControl: aws.ToString(out.CacheControl),
		ContentDisposition: aws.ToString(out.ContentDisposition), ContentEncoding: aws.ToString(out.ContentEncoding),
		ContentLanguage: aws.ToString(out.ContentLanguage), Expires: aws.ToString(out.ExpiresString),
		Metadata: out.Metadata,
	}
	if local != nil {
		if err := local.Evaluate(info); err != nil {
			return origin.Info{}, err
		}
	}
	return info, nil
}

// Get fetches the object (or range). Each S3 call's header phase, retries included, is
// bounded by the origin timeout; the body then streams for as long as it keeps moving.
//
// Preconditions S3 can evaluate travel with the GetObject. Those it cannot (see
// splitConditions) are evaluated on a HeadObject first, so that a 304 or 412 costs no
// body: a GetObject body closed unread makes Go's HTTP client drop its connection, and
// S3 may already be sending a large object. When a body is needed, the GetObject asks
// for the version the HEAD described (If-Match with its ETag); if that version has gone
// (412: the object changed in between), the GetObject is sent once more without
// conditions and they are evaluated on what it returns. As for Head, only Cond and Range
// of opt matter.
func (b *Bucket) Get(ctx context.Context, key string, opt origin.GetOptions) (*origin.Object, error) {
	remote, local := splitConditions(opt.Cond)
	if local == nil {
		return b.get(ctx, key, opt.Range, remote, nil)
	}
	info, err := b.Head(ctx, key, opt.HeadOptions)
	if err != nil {
		return nil, err
	}
	if origin.IsStrongETag(info.ETag) {
		obj, err := b.get(ctx, key, opt.Range, origin.Conditions{IfMatch: info.ETag}, local)
		if !errors.Is(err, origin.ErrPreconditionFailed) {
			return obj, err
		}
	}
	// Changed since the HEAD (or no strong ETag to pin it by): the one GetObject whose
	// body may be closed unread.
	return b.get(ctx, key, opt.Range, origin.Conditions{}, local)
}

// get sends one GetObject with the remote preconditions and evaluates local (nil: none)
// on its answer, closing the body unread when they do not hold.
func (b *Bucket) get(ctx context.Context, key string, rng *origin.ByteRange, remote origin.Conditions, local *origin.Conditions) (*origin.Object, error) {
	ctx, cancelCause := context.WithCancelCause(ctx)
	cancel := func() { cancelCause(nil) }
	timer := time.AfterFunc(b.timeout, func() { cancelCause(errNoHeaders) })
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: &key}
	if rng != nil {
		in.Range = aws.String(rng.Header())
	}
	setConditions(&in.IfMatch, &in.IfNoneMatch, &in.IfModifiedSince, &in.IfUnmodifiedSince, remote)
	out, err := b.getObject(ctx, in)
	if !timer.Stop() {
		if err == nil {
			out.Body.Close()
		}
		cancel()
		return nil, origin.Timeout(fmt.Errorf("no response headers within %s", b.timeout))
	}
	if err != nil {
		defer cancel()
		err = b.mapErr(ctx, err)
		if errors.Is(err, origin.ErrRangeNotSatisfiable) {
			// S3's 416 does not say how big the object is; Content-Range needs it.
			info, herr := b.Head(ctx, key, origin.HeadOptions{})
			if herr != nil {
				return nil, herr
			}
			if local != nil { // preconditions come before the range (RFC 9110 13.2.2)
				if err := local.Evaluate(info); err != nil {
					return nil, err
				}
			}
			return nil, &origin.RangeError{Size: info.Size}
		}
		return nil, err
	}
	obj := &origin.Object{
		Info: origin.Info{
			Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag), LastModified: aws.ToTime(out.LastModified),
			ContentType: aws.ToString(out.ContentType), CacheControl: aws.ToString(out.CacheControl),
			ContentDisposition: aws.ToString(out.ContentDisposition), ContentEncoding: aws.ToString(out.ContentEncoding),
			ContentLanguage: aws.ToString(out.ContentLanguage), Expires: aws.ToString(out.ExpiresString),
			Metadata: out.Metadata,
		},
		Body: &cancelBody{ReadCloser: out.Body, cancel: cancel},
	}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		r, size, ok := parseContentRange(cr)
		if !ok || r.Length() != obj.Size {
			obj.Body.Close()
			return nil, origin.Unavailable(fmt.Errorf("origin sent Content-Range %q with length %d", cr, obj.Size))
		}
		obj.Range, obj.Size = &r, size
	}
	if local != nil {
		if err := local.Evaluate(obj.Info); err != nil {
			obj.Body.Close()
			return nil, err
		}
	}
	return obj, nil
}

// setConditions copies preconditions to an S3 input's fields.
func setConditions(ifMatch, ifNoneMatch **string, ims, ius **time.Time, c origin.Conditions) {
	if c.IfMatch != "" {
		*ifMatch = aws.String(c.IfMatch)
	}
	if c.IfNoneMatch != "" {
		*ifNoneMatch = aws.String(c.IfNoneMatch)
	}
	if !c.IfModifiedSince.IsZero() {
		*ims = aws.Time(c.IfModifiedSince)
	}
	if !c.IfUnmodifiedSince.IsZero() {
		*ius = aws.Time(c.IfUnmodifiedSince)
	}
}

// cancelBody releases the request's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelBody) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(s string) (origin.Range, int64, bool) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return origin.Range{}, 0, false
	}
	span, total, ok := strings.Cut(rest, "/")
	if !ok {
		return origin.Range{}, 0, false
	}
	first, last, ok := strings.Cut(span, "-")
	if !ok {
		return origin.Range{}, 0, false
	}
	a, err1 := strconv.ParseInt(first, 10, 64)
	z, err2 := strconv.ParseInt(last, 10, 64)
	n, err3 := strconv.ParseInt(total, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || a < 0 || z < a || z >= n {
		return origin.Range{}, 0, false
	}
	return origin.Range{Start: a, End: z}, n, true
}

// mapErr sorts SDK errors into origin errors. The messages keep the SDK's detail for the
// log; the gateway never shows them to clients.
func (b *Bucket) mapErr(ctx context.Context, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey":
			return origin.NotFound(err.Error())
		case "AccessDenied", "Forbidden": // "Forbidden": a HEAD's 403, which has no body
			// Without s3:ListBucket, S3 answers 403 for keys that do not exist.
			return origin.NotFound("access denied by the bucket (a missing key without s3:ListBucket, or credentials without s3:GetObject): " + err.Error())
		case "KeyTooLongError":
			return fmt.Errorf("%w: %w", origin.ErrKeyTooLong, err)
		case "MetadataTooLarge", "RequestHeaderSectionTooLarge":
			// MinIO says MetadataTooLarge when a request's headers pass 8 KiB.
			return fmt.Errorf("%w: %w", origin.ErrHeaderTooLarge, err)
		case "InvalidArgument":
			// Also S3's answer to a setup it refuses (see argument.go): the client's
			// doing only when it names a header gatehouse sent on the client's behalf.
			if clientArgument(argumentName(err)) {
				return fmt.Errorf("%w: %w", origin.ErrBadRequest, err)
			}
			return origin.Unavailable(err)
		case "InvalidObjectName", "XMinioInvalidObjectName":
			// The service does not allow the name (MinIO: a path segment longer than 255
			// bytes), so no object has it: "not found" is the truthful answer, and the
			// one a folder origin gives for a name too long for its file system.
			return origin.NotFound("name refused by the bucket: " + err.Error())
		case "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName", "PermanentRedirect", "AuthorizationHeaderMalformed":
			return origin.Unavailable(err) // the origin is misconfigured, not the request
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		switch re.HTTPStatusCode() {
		case http.StatusNotModified:
			h := re.Response.Header
			info := origin.Info{ETag: h.Get("ETag"), CacheControl: h.Get("Cache-Control"), Expires: h.Get("Expires")}
			info.LastModified, _ = http.ParseTime(h.Get("Last-Modified"))
			return &origin.NotModifiedError{Info: info}
		case http.StatusPreconditionFailed:
			return origin.ErrPreconditionFailed
		case http.StatusRequestedRangeNotSatisfiable:
			return &origin.RangeError{}
		case http.StatusNotFound:
			return origin.NotFound(err.Error())
		case http.StatusRequestURITooLong: // no S3 code: a proxy in front, or a HEAD
			return fmt.Errorf("%w: %w", origin.ErrKeyTooLong, err)
		case http.StatusRequestHeaderFieldsTooLarge:
			return fmt.Errorf("%w: %w", origin.ErrHeaderTooLarge, err)
		}
	}
	var ne net.Error
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return origin.Timeout(err)
	case errors.As(err, &ne) && ne.Timeout():
		return origin.Timeout(err)
	case errors.Is(err, context.Canceled):
		return err // the client went away
	}
	return origin.Unavailable(err)
}

// statusOf is the HTTP status of an S3 error response, or 0 when err is not one.
func statusOf(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.HTTPStatusCode()
	}
	return 0
}

// headRefusal finds out why S3 refused a HEAD with 400. HEAD errors have no body, so a
// 400 alone cannot tell a request the service refuses (a name it does not allow,
// headers too large) from a setup it refuses (an expired session token, a malformed
// authorization), and only the first is the client's doing. A GET of the first byte
// under the same preconditions is refused the same way, with the code in its body: that
// error is returned when it is a 400 too, and headErr otherwise. This costs a second S3
// call only for a HEAD that S3 refused. An InvalidArgument naming Range refuses the GET's
// own one-byte range, which the HEAD did not send, so it says nothing about the HEAD.
func (b *Bucket) headRefusal(ctx context.Context, key string, cond origin.Conditions, headErr error) error {
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: &key, Range: aws.String("bytes=0-0")}
	setConditions(&in.IfMatch, &in.IfNoneMatch, &in.IfModifiedSince, &in.IfUnmodifiedSince, cond)
	out, err := b.getObject(ctx, in)
	if err == nil {
		out.Body.Close()
		return headErr
	}
	if statusOf(err) != http.StatusBadRequest || strings.EqualFold(argumentName(err), "Range") {
		return headErr
	}
	return err
}
