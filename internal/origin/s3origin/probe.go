package s3origin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// probeKey is fetched by Probe. It need not exist: "no such key" proves the endpoint,
// bucket and credentials all work.
const probeKey = ".gatehouse-readiness-probe"

// Probe checks that the bucket exists and the credentials are accepted. It GETs a key that
// normally does not exist rather than calling HeadBucket, so that it needs no more
// permission than serving does (HeadBucket needs s3:ListBucket), and reads the error code
// from the body (HEAD errors have none).
//
// A failure is a *probe.Error saying why (wrong secret key, unknown access key, missing
// bucket, no credentials, connection refused...), wrapping the error serving would see
// (origin.ErrUnavailable, origin.ErrTimeout).
//
// AccessDenied is also S3's answer for a missing key when the credentials lack
// s3:ListBucket, which serving does not need; so it passes unless S3 says the denied
// action is another one (AWS names it in the message), or the credentials may list the
// bucket (then a missing key would have been NoSuchKey, so reading is what is denied).
func (b *Bucket) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	opts := b.client.Options()
	target := displayEndpoint(opts)
	accessKey := ""
	if opts.Credentials != nil {
		creds, err := opts.Credentials.Retrieve(ctx)
		if err != nil {
			return probe.New(probe.NoCredentials, origin.Unavailable(err),
				"no AWS credentials for bucket %q: set access_key_id and secret_access_key, a profile, "+
					"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance role", b.bucket)
		}
		accessKey = creds.AccessKeyID
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(probeKey), Range: aws.String("bytes=0-0")})
	if err == nil {
		out.Body.Close()
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "Forbidden") {
		if b.accessDenied(ctx, api) {
			return probe.New(probe.AccessDenied, origin.Unavailable(err),
				"access key %s may not read bucket %q at %s (AccessDenied)", accessKey, b.bucket, target)
		}
		return nil
	}
	mapped := b.mapErr(ctx, err)
	if errors.Is(mapped, origin.ErrNotFound) || errors.Is(mapped, origin.ErrRangeNotSatisfiable) {
		return nil // NoSuchKey, or the probe key exists and is empty
	}
	return b.classify(ctx, err, mapped, target, accessKey)
}

// accessDenied decides whether an AccessDenied for the probe key means the credentials
// may not read the bucket (true) or only that the key is missing and listing is not
// allowed (false; S3 answers both the same way).
func (b *Bucket) accessDenied(ctx context.Context, api smithy.APIError) bool {
	msg := api.ErrorMessage()
	switch {
	case strings.Contains(msg, "s3:ListBucket"):
		return false // AWS: the missing key's existence is what is hidden
	case strings.Contains(msg, "s3:GetObject"), strings.Contains(msg, "explicit deny"):
		return true
	}
	_, err := b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(probeKey), MaxKeys: aws.Int32(1)})
	return err == nil
}

// classify turns a failed probe GET into a *probe.Error. err is the SDK's error, mapped
// what mapErr made of it (kept as the cause, so callers still see ErrUnavailable or
// ErrTimeout).
func (b *Bucket) classify(ctx context.Context, err, mapped error, target, accessKey string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch code {
		case "SignatureDoesNotMatch":
			return probe.New(probe.WrongSecretKey, mapped, "the secret key is wrong for access key %s (SignatureDoesNotMatch)", accessKey)
		case "InvalidAccessKeyId":
			return probe.New(probe.UnknownAccessKey, mapped, "access key %s is not known at %s (InvalidAccessKeyId)", accessKey, target)
		case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return probe.New(probe.ExpiredCredentials, mapped, "the session token of access key %s is expired or invalid (%s)", accessKey, code)
		case "NoSuchBucket":
			return probe.New(probe.BucketMissing, mapped, "bucket %q does not exist at %s", b.bucket, target)
		case "AllAccessDisabled", "AccountProblem":
			return probe.New(probe.AccessDenied, mapped, "access key %s may not read bucket %q at %s (%s)", accessKey, b.bucket, target, code)
		case "RequestTimeTooSkewed":
			return probe.New(probe.ClockSkew, mapped, "this machine's clock is too far from the time at %s; set it right (RequestTimeTooSkewed)", target)
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "TemporaryRedirect":
			return b.wrongRegion(err, mapped, target, code)
		}
		if st := statusOf(err); st == http.StatusMovedPermanently || st == http.StatusTemporaryRedirect {
			return b.wrongRegion(err, mapped, target, code)
		}
		return probe.New(probe.Other, mapped, "%s answered %s (HTTP %d) for bucket %q: %s", target, code, statusOf(err), b.bucket, clip(api.ErrorMessage()))
	}
	limit := b.timeout
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return probe.New(probe.Timeout, mapped, "no answer from %s within %s (timeout)", target, limit)
	}
	if pe := probe.Network(err, target, limit); pe != nil {
		pe.Err = mapped
		return pe
	}
	if st := statusOf(err); st != 0 {
		return probe.New(probe.Other, mapped, "%s answered HTTP %d for bucket %q without an S3 error code (not an S3 endpoint?)", target, st, b.bucket)
	}
	return probe.New(probe.Other, mapped, "request to %s for bucket %q failed", target, b.bucket)
}

// wrongRegion explains a redirect or a refused region: the region S3 names, if any.
func (b *Bucket) wrongRegion(err, mapped error, target, code string) error {
	region := b.client.Options().Region
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if want := re.Response.Header.Get("X-Amz-Bucket-Region"); want != "" {
			return probe.New(probe.WrongRegion, mapped, "bucket %q is in region %s, not %s: set region (%s)", b.bucket, want, region, code)
		}
	}
	var api smithy.APIError
	detail := ""
	if errors.As(err, &api) && api.ErrorMessage() != "" {
		detail = ": " + clip(api.ErrorMessage())
	}
	return probe.New(probe.WrongRegion, mapped, "bucket %q is not in region %s at %s (%s%s)", b.bucket, region, target, code, detail)
}

// displayEndpoint is the endpoint as the operator configured it, or AWS's for the region.
func displayEndpoint(o s3.Options) string {
	if e := aws.ToString(o.BaseEndpoint); e != "" {
		return e
	}
	return "https://s3." + o.Region + ".amazonaws.com"
}

// clip shortens a service's message for display.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
