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

// observeCall times one attempt until its response headers are read.
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
	(*o).ObserveCall(awsmiddleware.GetOperationName(ctx), status, time.Since(start))
	return out, md, err
}
