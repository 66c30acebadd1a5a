package s3origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// s3Answer is what the fake S3 answers for one key.
type s3Answer struct {
	status  int
	headers []string // "Name: value"
	body    string
}

func errDoc(code, msg string, extra ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" + msg +
		"</Message>" + strings.Join(extra, "") + "<RequestId>REQ123</RequestId><HostId>host-id</HostId></Error>"
}

// fakeS3Answers are the answers TestLeanMatchesSDK compares the two paths on: every
// status and error document mapErr and the probe tell apart.
var fakeS3Answers = map[string]s3Answer{
	"ok": {200, []string{"ETag: \"abc\"", "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT", "Content-Type: text/plain",
		"Cache-Control: max-age=60", "Content-Disposition: inline", "Content-Encoding: identity", "Content-Language: fr",
		"Expires: Thu, 01 Dec 1994 16:00:00 GMT", "X-Amz-Meta-Color: blue", "x-amz-meta-Two-Words:  spaced ",
		"X-Amz-Request-Id: R1"}, "hello world"},
	"partial":          {206, []string{"ETag: \"abc\"", "Content-Range: bytes 0-4/11"}, "hello"},
	"bad-range-header": {206, []string{"Content-Range: bytes 0-9/11"}, "hello"},
	"bad-last-mod":     {200, []string{"Last-Modified: yesterday"}, "x"},
	"nosuchkey":        {404, nil, errDoc("NoSuchKey", "The specified key does not exist.")},
	"denied":           {403, nil, errDoc("AccessDenied", "Access Denied")},
	"range-arg":        {400, nil, errDoc("InvalidArgument", "Invalid Range", "<ArgumentName>Range</ArgumentName>")},
	"sse-arg":          {400, nil, errDoc("InvalidArgument", "Requests specifying SSE need SigV4", "<ArgumentName>Authorization</ArgumentName>")},
	"bad-name":         {400, nil, errDoc("XMinioInvalidObjectName", "Object name contains unsupported characters.")},
	"too-long":         {400, nil, errDoc("KeyTooLongError", "Your key is too long")},
	"meta-large":       {400, nil, errDoc("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")},
	"precondition":     {412, nil, errDoc("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")},
	"not-modified":     {304, []string{"ETag: \"abc\"", "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT", "Cache-Control: no-cache"}, ""},
	"range":            {416, nil, errDoc("InvalidRange", "The requested range is not satisfiable")},
	"slowdown":         {503, []string{"Retry-After: 1"}, errDoc("SlowDown", "Please reduce your request rate.")},
	"html-502":         {502, []string{"Content-Type: text/html"}, "<html><body>bad gateway</body>"},
	"not-xml-500":      {500, nil, "{oops"},
	"redirect":         {301, []string{"X-Amz-Bucket-Region: eu-central-1"}, errDoc("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")},
	"uri-too-long":     {414, nil, ""},
	"headers-large":    {431, nil, ""},
	"no-bucket":        {404, nil, errDoc("NoSuchBucket", "The specified bucket does not exist")},
	"signature":        {403, nil, errDoc("SignatureDoesNotMatch", "The request signature we calculated does not match")},
}

// seenRequest is what the fake S3 saw of one request, for comparing the two paths.
type seenRequest struct {
	Method, Path, Query         string
	Range, IfMatch, IfNoneMatch string
	IfModifiedSince, IfUnmod    string
	AcceptEncoding, Sha256      string
	Signed                      bool
}

// answeringS3 serves fakeS3Answers for bucket "b" (path style), whatever the method, and
// records what each path sent under the User-Agent it came with.
func answeringS3(t *testing.T) (endpoint string, seen func() []seenRequest) {
	var mu sync.Mutex
	var log []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/b/")
		q := r.URL.Query()
		q.Del("x-id") // the SDK's HeadObject sends none, its GetObject "x-id=GetObject": compared apart
		mu.Lock()
		log = append(log, seenRequest{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query().Get("x-id"),
			Range: r.Header.Get("Range"), IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
			IfModifiedSince: r.Header.Get("If-Modified-Since"), IfUnmod: r.Header.Get("If-Unmodified-Since"),
			AcceptEncoding: r.Header.Get("Accept-Encoding"), Sha256: r.Header.Get("X-Amz-Content-Sha256"),
			Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIAX/"),
		})
		mu.Unlock()
		a, ok := fakeS3Answers[key]
		if !ok {
			a = fakeS3Answers["nosuchkey"]
		}
		for _, h := range a.headers {
			name, value, _ := strings.Cut(h, ": ")
			w.Header()[name] = append(w.Header()[name], value)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		out := log
		log = nil
		return out
	}
}

// outcome is everything a caller of Get or Head can observe of one call.
type outcome struct {
	Status        int // origin.StatusOf
	Unavailable   bool
	Timeout       bool
	S3Status      int // statusOf
	Code, Message string
	Argument      string
	NotModified   *origin.Info
	RangeSize     int64
	MaxAttempts   bool
	Info          origin.Info
	Range         *origin.Range
	Body          string
	Observed      []int
	APIType       string // the API error's type, for the raw S3 calls
}

func outcomeOf(obj *origin.Object, info origin.Info, err error, observed []int) outcome {
	o := outcome{Status: origin.StatusOf(err), Unavailable: errors.Is(err, origin.ErrUnavailable),
		Timeout: errors.Is(err, origin.ErrTimeout), S3Status: statusOf(err), Argument: argumentName(err), Info: info, Observed: observed}
	var api smithy.APIError
	if errors.As(err, &api) {
		o.Code, o.Message, o.APIType = api.ErrorCode(), api.ErrorMessage(), fmt.Sprintf("%T", api)
	}
	var nm *origin.NotModifiedError
	if errors.As(err, &nm) {
		o.NotModified = &nm.Info
	}
	var re *origin.RangeError
	if errors.As(err, &re) {
		o.RangeSize = re.Size
	}
	var mae *retry.MaxAttemptsError
	o.MaxAttempts = errors.As(err, &mae)
	if obj != nil {
		o.Info, o.Range = obj.Info, obj.Range
		data, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		o.Body = string(data)
	}
	return o
}

// TestLeanMatchesSDK: for every answer of fakeS3Answers, Get and Head on the lean path
// return what they return on the SDK's path (the errors mapErr makes, the S3 status and
// code the probe reads, the object's Info, range and body, what the observer is told),
// having sent S3 the same request.
func TestLeanMatchesSDK(t *testing.T) {
	endpoint, seen := answeringS3(t)
	newPair := func(t *testing.T) (lean, sdk *Bucket, leanCalls, sdkCalls *calls) {
		mk := func() (*Bucket, *calls) {
			b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: endpoint, PathStyle: true,
				MaxAttempts: 1, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c := &calls{}
			b.SetObserver(c)
			return b, c
		}
		lean, leanCalls = mk()
		sdk, sdkCalls = mk()
		if lean.lean == nil {
			t.Fatal("no lean path for a path-style custom endpoint")
		}
		sdk.lean = nil
		return lean, sdk, leanCalls, sdkCalls
	}
	ims := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	options := map[string]origin.GetOptions{
		"plain":        {},
		"range":        {Range: &origin.ByteRange{First: 0, Last: 4}},
		"conditions":   {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfMatch: `"abc"`, IfModifiedSince: ims}}},
		"conditions 2": {HeadOptions: origin.HeadOptions{Cond: origin.Conditions{IfNoneMatch: `"abc"`, IfUnmodifiedSince: ims}}},
	}
	for key := range fakeS3Answers {
		for optName, opt := range options {
			t.Run(key+"/"+optName, func(t *testing.T) {
				lean, sdk, leanCalls, sdkCalls := newPair(t)
				for _, op := range []string{"Get", "Head", "GetObject", "HeadObject"} {
					run := func(b *Bucket, c *calls) (outcome, []seenRequest) {
						seen()
						cond := opt.Cond
						switch op {
						case "GetObject": // the S3 call as the probe and headRefusal see it
							in := &s3.GetObjectInput{Bucket: &b.bucket, Key: &key}
							setConditions(&in.IfMatch, &in.IfNoneMatch, &in.IfModifiedSince, &in.IfUnmodifiedSince, cond)
							if opt.Range != nil {
								in.Range = aws.String(opt.Range.Header())
							}
							out, err := b.getObject(context.Background(), in)
							if err == nil {
								out.Body.Close()
							}
							return outcomeOf(nil, origin.Info{}, err, c.get()), seen()
						case "HeadObject":
							in := &s3.HeadObjectInput{Bucket: &b.bucket, Key: &key}
							setConditions(&in.IfMatch, &in.IfNoneMatch, &in.IfModifiedSince, &in.IfUnmodifiedSince, cond)
							_, err := b.headObject(context.Background(), in)
							return outcomeOf(nil, origin.Info{}, err, c.get()), seen()
						}
						if op == "Get" {
							obj, err := b.Get(context.Background(), key, opt)
							return outcomeOf(obj, origin.Info{}, err, c.get()), seen()
						}
						info, err := b.Head(context.Background(), key, opt.HeadOptions)
						return outcomeOf(nil, info, err, c.get()), seen()
					}
					gotLean, sentLean := run(lean, leanCalls)
					gotSDK, sentSDK := run(sdk, sdkCalls)
					if !reflect.DeepEqual(gotLean, gotSDK) {
						t.Errorf("%s: lean path\n%+v\nSDK\n%+v", op, gotLean, gotSDK)
					}
					if !reflect.DeepEqual(sentLean, sentSDK) {
						t.Errorf("%s: lean path sent\n%+v\nSDK\n%+v", op, sentLean, sentSDK)
					}
					for _, r := range sentLean {
						if !r.Signed {
							t.Errorf("%s: unsigned request %+v", op, r)
						}
					}
				}
			})
		}
	}
}

// TestLeanErrorDetail: the lean path's errors carry the S3 detail the log needs.
func TestLeanErrorDetail(t *testing.T) {
	endpoint, _ := answeringS3(t)
	b, err := New(context.Background(), &config.S3Origin{Bucket: "b", Endpoint: endpoint, PathStyle: true,
		MaxAttempts: 1, AccessKeyID: "AKIAX", SecretAccessKey: "s"}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(context.Background(), "denied", origin.GetOptions{})
	for _, want := range []string{"operation error S3: GetObject", "StatusCode: 403", "RequestID: REQ123", "AccessDenied", "Access Denied"} {
		if !strings.Contains(fmt.Sprint(err), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
