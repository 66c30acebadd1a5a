package s3origin

import (
	"context"
	"errors"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var _ origin.Observable = (*Bucket)(nil)

// SetObserver makes the bucket report every S3 call it makes (each attempt of a retried
// one), with the operation's name and the HTTP status S3 answered (origin.Observable).
func (b *Bucket) SetObserver(o origin.Observer) {
	if o == nil {
		b.observer.Store(nil)
		return
	}
	b.observer.Store(&o)
}

// addObserveMiddleware puts observeCall first in the deserialize step, around the
// sending of each attempt. It is one of the client's APIOptions.
func (b *Bucket) addObserveMiddleware(stack *middleware.Stack) error {
	if _, ok := stack.Deserialize.Get("OperationDeserializer"); !ok {
		return nil // a presign client's stack: nothing is sent
	}
	return stack.Deserialize.Add(observeCall{b}, middleware.Before)
}

// errNoHeaders is the cause Bucket.get cancels a GetObject's context with when S3 sent
// no response headers within the timeout: the origin's slowness, not the caller leaving.
var errNoHeaders = errors.New("no response headers within the origin timeout")

// observeCall times one attempt until its response headers are read. An attempt that
// got no answer because the caller's context was canceled (a client that went away) is
// reported as origin.StatusCanceled, not as a failure of S3; one that the bucket's own
// timeout ended (errNoHeaders, or a deadline) stays a failure (status 0). A call whose
// request body failed on the caller's side (origin.ErrClientBody) is the caller's too.
type observeCall struct{ b *Bucket }

func (observeCall) ID() string { return "GatehouseObserveCall" }

func (m observeCall) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	o := m.b.observer.Load()
	if o == nil {
		return next.HandleDeserialize(ctx, in)
	}
	start := time.Now()
	out, md, err := next.HandleDeserialize(ctx, in)
	status := 0
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
		status = resp.StatusCode
	} else if re := (*smithyhttp.ResponseError)(nil); errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case status != 0 || err == nil:
	case errors.Is(ctx.Err(), context.Canceled) && !errors.Is(context.Cause(ctx), errNoHeaders),
		errors.Is(err, origin.ErrClientBody): // a PutObject whose streamed body failed
		status = origin.StatusCanceled
	}
	(*o).ObserveCall(awsmiddleware.GetOperationName(ctx), status, time.Since(start))
	return out, md, err
}
