package s3origin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// The lean read path. An uncached GET spent about 38% of gatehouse's CPU inside the
// SDK's GetObject, most of it in the per-call middleware stack (about 500 allocations a
// call: endpoint resolution, auth scheme selection, user agent, checksum setup, the
// retry loop's metrics and spans, the deserializers). leanReader sends the GetObject and
// HeadObject that Bucket.Get and Bucket.Head make with none of that, yet out of the
// SDK's own parts, so that what S3 sees and what callers get back are the same:
//
//   - the endpoint is the one the SDK's endpoint rules give for the bucket, resolved
//     once at New with the client's own resolver and options (path-style or virtual
//     host, region, custom endpoint, FIPS and dual-stack from the environment, bucket
//     names that cannot be a host name); the rules do not depend on the key;
//   - requests are signed by the client's own SigV4 signer (its cache of derived
//     signing keys) with the client's credentials (the SDK's chain behind
//     aws.CredentialsCache), S3's empty-body payload hash, and sent by the client's own
//     HTTP client (tracedClient over the tuned transport: the same connection pool,
//     timeouts, redirect policy and client spans);
//   - retries use the client's own Retryer (max_attempts, backoff, the retry quota
//     shared with the SDK's calls), deciding on the same error values;
//   - failures are built as the SDK builds them (lean_errors.go): an
//     *smithy.OperationError around an *awshttp.ResponseError around the API error, so
//     mapErr, statusOf, headRefusal and the probe read them unchanged;
//   - each attempt is reported to the observer as observeCall reports the SDK's.
//
// When the endpoint rules ask for anything but plain SigV4 (S3 Express directory
// buckets, multi-region access points, extra endpoint headers), or the key is empty,
// New leaves lean nil or the call goes to the SDK: the SDK stays the only path for
// what is not re-implemented here, as for writes, listings, presigning and the probe.
//
// Why not minio-go (measured against the same MinIO, v7.0.91, Core.GetObject of 4 KiB):
// it costs 2.0 MB more binary (this path: 49 KB) and, with no gatehouse mapping around
// it, 182 allocations and about the same CPU per GET as this path's 151 allocations
// including Bucket.get's own; and it would put a second S3 stack (signer, credential
// chain, endpoint rules, retry policy, error type) beside the SDK that writes,
// presigning and the probe still need, so the two could disagree on credentials (SSO,
// web identity, profiles as the SDK reads them), endpoints and what is retried, and
// every error would need a second mapping. The SDK's signer is already linked in.

// emptyPayloadHash is the SHA-256 of an empty body: the x-amz-content-sha256 of a GET
// or HEAD, as the SDK sends it for them.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// userAgent is sent with lean requests.
var userAgent = "aws-sdk-go-v2/" + aws.SDKVersion + " gatehouse-lean"

// httpDoer is the SDK's HTTP client interface.
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// leanReader sends GetObject and HeadObject for one bucket (see the comment above).
type leanReader struct {
	http    httpDoer
	signer  s3.HTTPSignerV4
	creds   aws.CredentialsProvider // nil: anonymous, requests are not signed
	retryer aws.Retryer
	b       *Bucket // for its observer

	scheme, host  string
	path, rawPath string // the bucket's base path, "" or "/bucket" as the rules give it
	signingName   string
	signingRegion string

	skew      atomic.Int64 // clock skew (ns) the last call measured; see do
	noSkewFix bool         // the client's DisableClockSkewCorrection
}

// newLeanReader resolves the bucket's endpoint with the client's own rules. It returns
// nil, and the reason, when those rules ask for more than this path does.
func newLeanReader(ctx context.Context, b *Bucket, httpClient httpDoer) (*leanReader, string) {
	o := b.client.Options()
	if o.EndpointResolverV2 == nil || o.HTTPSignerV4 == nil || o.Retryer == nil {
		return nil, "the client has no endpoint resolver, signer or retryer"
	}
	if os.Getenv("AWS_NEW_RETRIES_2026") == "true" {
		return nil, "AWS_NEW_RETRIES_2026: the SDK's other retry loop" // do follows the default one
	}
	if strings.Contains(o.Region, "fips") {
		return nil, "a FIPS pseudo-region" // the SDK maps these before resolving
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, s3.EndpointParameters{
		Bucket:                         aws.String(b.bucket),
		Region:                         aws.String(o.Region),
		UseFIPS:                        aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack:                   aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		Endpoint:                       o.BaseEndpoint,
		ForcePathStyle:                 aws.Bool(o.UsePathStyle),
		Accelerate:                     aws.Bool(o.UseAccelerate),
		DisableMultiRegionAccessPoints: aws.Bool(o.DisableMultiRegionAccessPoints),
		UseArnRegion:                   aws.Bool(o.UseARNRegion),
		DisableS3ExpressSessionAuth:    o.DisableS3ExpressSessionAuth,
	})
	if err != nil {
		return nil, "endpoint: " + err.Error() // the SDK reports it on each call
	}
	if len(ep.Headers) != 0 {
		return nil, "the endpoint asks for extra headers"
	}
	opts, _ := smithyauth.GetAuthOptions(&ep.Properties)
	// The rules name schemes "sigv4", "sigv4a", "sigv4-s3express"; the SDK maps them to
	// smithyauth.SchemeIDSigV4 and the others.
	if len(opts) != 1 || (opts[0].SchemeID != "sigv4" && opts[0].SchemeID != smithyauth.SchemeIDSigV4) {
		return nil, "the endpoint asks for an auth scheme other than SigV4"
	}
	name, _ := smithyhttp.GetSigV4SigningName(&opts[0].SignerProperties)
	region, _ := smithyhttp.GetSigV4SigningRegion(&opts[0].SignerProperties)
	if name == "" {
		name = "s3"
	}
	if region == "" {
		region = o.Region
	}
	l := &leanReader{
		http: httpClient, signer: o.HTTPSignerV4, retryer: o.Retryer, b: b,
		scheme: ep.URI.Scheme, host: ep.URI.Host, path: ep.URI.Path, rawPath: ep.URI.RawPath,
		signingName: name, signingRegion: region, noSkewFix: o.DisableClockSkewCorrection,
	}
	if l.rawPath == "" {
		l.rawPath = l.path
	}
	if _, anon := o.Credentials.(aws.AnonymousCredentials); o.Credentials != nil && !anon {
		l.creds = o.Credentials
	}
	return l, ""
}

// request is one lean call: the operation and what it sends besides the key.
type request struct {
	op, method string
	key        string
	rng        string
	cond       origin.Conditions
}

// newHTTPRequest builds the attempt's request, signed at signingTime, as the SDK would
// send it.
func (l *leanReader) newHTTPRequest(ctx context.Context, r *request, signingTime time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, l.scheme+"://"+l.host, nil)
	if err != nil {
		return nil, err
	}
	u := req.URL
	u.Path = smithyhttp.JoinPath(l.path, "/"+r.key)
	u.RawPath = smithyhttp.JoinPath(l.rawPath, "/"+httpbinding.EscapePath(r.key, false))
	if r.op == "GetObject" {
		u.RawQuery = "x-id=GetObject"
	}
	h := req.Header
	h["User-Agent"] = []string{userAgent}
	h["Accept-Encoding"] = []string{"identity"} // as the SDK: no transparent gunzip
	h["X-Amz-Content-Sha256"] = []string{emptyPayloadHash}
	if r.rng != "" {
		h["Range"] = []string{r.rng}
	}
	c := r.cond
	if c.IfMatch != "" {
		h["If-Match"] = []string{c.IfMatch}
	}
	if c.IfNoneMatch != "" {
		h["If-None-Match"] = []string{c.IfNoneMatch}
	}
	if !c.IfModifiedSince.IsZero() {
		h["If-Modified-Since"] = []string{smithytime.FormatHTTPDate(c.IfModifiedSince)}
	}
	if !c.IfUnmodifiedSince.IsZero() {
		h["If-Unmodified-Since"] = []string{smithytime.FormatHTTPDate(c.IfUnmodifiedSince)}
	}
	if l.creds == nil {
		return req, nil
	}
	creds, err := l.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to retrieve credentials: %w", err)
	}
	if err := l.signer.SignHTTP(ctx, creds, req, emptyPayloadHash, l.signingName, l.signingRegion, signingTime.UTC()); err != nil {
		return nil, fmt.Errorf("failed to sign request: %w", err)
	}
	return req, nil
}

// do sends r, retrying as the client's Retryer says (the SDK's retry loop, without its
// metrics and spans), and returns a 2xx response or the error the SDK would return.
//
// Clock skew is corrected as the SDK corrects it: each attempt is signed at the local
// time plus the skew the previous attempt measured (the server's Date against the local
// clock), starting from the skew the last call measured; an attempt refused for its
// signature or time (RequestTimeTooSkewed...) with a skew that changed by more than 4
// minutes is retried. The skew is this path's own: the SDK's client keeps its own for
// the calls it makes.
func (l *leanReader) do(ctx context.Context, r *request) (*http.Response, error) {
	if trace.SpanFromContext(ctx).SpanContext().IsValid() {
		ctx = awsmiddleware.SetOperationName(ctx, r.op) // tracedClient names the span by it
	}
	release := func(error) error { return nil }
	maxAttempts := l.retryer.MaxAttempts()
	var attemptSkew time.Duration
	if !l.noSkewFix {
		attemptSkew = time.Duration(l.skew.Load())
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, l.opErr(r, err)
		}
		releaseAttempt, err := l.attemptToken(ctx)
		if err != nil {
			return nil, l.opErr(r, fmt.Errorf("failed to get retry Send token, %w", err))
		}
		resp, skew, measured, err := l.attempt(ctx, r, attemptSkew)
		_ = release(err)
		_ = releaseAttempt(err)
		if !l.noSkewFix && err != nil && measured && skewRefusal(err) && (attemptSkew-skew).Abs() > skewThreshold {
			err = &clockSkewError{err}
		}
		attemptSkew = skew
		if err == nil || !l.retryer.IsErrorRetryable(err) || (maxAttempts > 0 && attempt >= maxAttempts) {
			if !l.noSkewFix && measured {
				l.skew.Store(int64(skew))
			}
			switch {
			case err == nil:
				return resp, nil
			case !l.retryer.IsErrorRetryable(err):
				return nil, l.opErr(r, err)
			}
			return nil, l.opErr(r, &retry.MaxAttemptsError{Attempt: attempt, Err: err})
		}
		var terr error
		if release, terr = l.retryer.GetRetryToken(ctx, err); terr != nil {
			return nil, l.opErr(r, errors.Join(err, terr))
		}
		delay, derr := l.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, l.opErr(r, derr)
		}
		if serr := sleep(ctx, delay); serr != nil {
			return nil, l.opErr(r, &aws.RequestCanceledError{Err: serr})
		}
	}
}

// skewThreshold is the SDK's: a measured skew that moved by more than this makes a
// signature or time refusal worth retrying.
const skewThreshold = 4 * time.Minute

// skewRefusal reports whether err is one of the refusals the SDK blames on clock skew.
func skewRefusal(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure", "RequestTimeTooSkewed", "AccessDeniedException":
		return true
	}
	return false
}

// clockSkewError marks a refusal the SDK would retry with the corrected time.
type clockSkewError struct{ err error }

func (e *clockSkewError) Error() string {
	return "request refused, clock skew suspected: " + e.err.Error()
}
func (e *clockSkewError) Unwrap() error        { return e.err }
func (e *clockSkewError) RetryableError() bool { return true }

// measureSkew is the SDK's clock skew candidate for a response: the server's Date minus
// the local time it arrived, unless there is no Date, the answer came from a cache (an
// Age header) or the round trip took more than 15 minutes.
func measureSkew(resp *http.Response, sent, arrived time.Time) (time.Duration, bool) {
	date := resp.Header.Get("Date")
	if date == "" || resp.Header.Get("Age") != "" || arrived.Sub(sent) > 15*time.Minute {
		return 0, false
	}
	server, err := smithyhttp.ParseTime(date)
	if err != nil {
		return 0, false
	}
	return server.Sub(arrived), true
}

// attemptToken is the Retryer's token for one attempt, as the SDK's retry loop takes it
// (GetInitialToken for a Retryer that is not an aws.RetryerV2).
func (l *leanReader) attemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := l.retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return l.retryer.GetInitialToken(), nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// opErr wraps err as the SDK wraps every failed call.
func (l *leanReader) opErr(r *request, err error) error {
	return &smithy.OperationError{ServiceID: s3.ServiceID, OperationName: r.op, Err: err}
}

// attempt sends r once, signed at the local time plus skew, and reports it to the
// bucket's observer as observeCall does: the time until the response headers, S3's
// status, StatusCanceled when the caller gave up first. It returns the skew the response
// measured, if any.
func (l *leanReader) attempt(ctx context.Context, r *request, skew time.Duration) (*http.Response, time.Duration, bool, error) {
	o := l.b.observer.Load()
	start := time.Now()
	resp, err := l.send(ctx, r, start.Add(skew))
	arrived := time.Now()
	var measured time.Duration
	var ok bool
	var re *smithyhttp.ResponseError
	switch {
	case err == nil:
		measured, ok = measureSkew(resp, start, arrived)
	case errors.As(err, &re) && re.Response != nil:
		measured, ok = measureSkew(re.Response.Response, start, arrived)
	}
	if o != nil {
		status := 0
		switch {
		case err == nil:
			status = resp.StatusCode
		case re != nil:
			status = re.HTTPStatusCode()
		}
		if status == 0 && err != nil && errors.Is(ctx.Err(), context.Canceled) && !errors.Is(context.Cause(ctx), errNoHeaders) {
			status = origin.StatusCanceled
		}
		(*o).ObserveCall(r.op, status, arrived.Sub(start))
	}
	return resp, measured, ok, err
}

// send makes the request, signed at signingTime, sends it, and turns anything but a
// 2xx into the SDK's error.
func (l *leanReader) send(ctx context.Context, r *request, signingTime time.Time) (*http.Response, error) {
	req, err := l.newHTTPRequest(ctx, r, signingTime)
	if err != nil {
		return nil, err
	}
	resp, err := l.http.Do(req)
	if err != nil {
		var e error = &smithyhttp.RequestSendError{Err: err}
		if ctx.Err() != nil {
			e = &smithy.CanceledError{Err: ctx.Err()}
		}
		return nil, responseError(&http.Response{Header: http.Header{}, Body: http.NoBody}, e)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, errorFromResponse(r.op, resp)
}
