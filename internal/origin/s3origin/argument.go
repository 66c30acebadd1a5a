package s3origin

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 answers InvalidArgument both for what a request carries (a malformed precondition)
// and for a setup it refuses (KMS objects fetched without Signature Version 4, a
// requester-pays bucket without x-amz-request-payer). Only its error XML's ArgumentName
// tells them apart, and the SDK keeps no field but Code and Message. Two middlewares
// recover it: argumentReader, next to the transport, reads the name from a 400's body
// (and puts the bytes back for the SDK's own deserializer) into the call's metadata;
// argumentWrapper, outside the deserializer, wraps the call's error with it as an
// *argumentError.

// maxErrorPeek bounds how much of an error body is read for its ArgumentName; S3's error
// documents are a few hundred bytes. The rest of a longer body still reaches the SDK.
const maxErrorPeek = 16 << 10

// argumentNameKey is the metadata key argumentReader sets.
type argumentNameKey struct{}

// argumentError is an S3 error whose document named the argument it refused.
type argumentError struct {
	name string
	err  error
}

func (e *argumentError) Error() string { return e.err.Error() + " (argument " + e.name + ")" }
func (e *argumentError) Unwrap() error { return e.err }

// argumentName is the ArgumentName of S3's error err, or "" when it named none.
func argumentName(err error) string {
	var ae *argumentError
	if errors.As(err, &ae) {
		return ae.name
	}
	return ""
}

// clientArguments are the request headers gatehouse sends S3 from what the client sent:
// the preconditions and Range (parsed and rewritten, but the client chose it). An
// InvalidArgument naming one of them is the client's doing.
var clientArguments = []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"}

// clientArgument reports whether name (S3's ArgumentName, any letter case) is one of
// clientArguments.
func clientArgument(name string) bool {
	for _, a := range clientArguments {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}

// addArgumentMiddleware installs argumentReader and argumentWrapper around the
// operation's deserializer. It is one of the client's APIOptions.
func addArgumentMiddleware(stack *middleware.Stack) error {
	const deserializer = "OperationDeserializer"
	if _, ok := stack.Deserialize.Get(deserializer); !ok {
		return nil // a presign client's stack: nothing is sent, nothing to read
	}
	if err := stack.Deserialize.Insert(argumentReader{}, deserializer, middleware.After); err != nil {
		return err
	}
	return stack.Deserialize.Insert(argumentWrapper{}, deserializer, middleware.Before)
}

// argumentReader peeks at a 400 response's body for ArgumentName. It runs inside the
// deserializer, which then reads the same bytes.
type argumentReader struct{}

func (argumentReader) ID() string { return "GatehouseArgumentReader" }

func (argumentReader) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode != http.StatusBadRequest || resp.Body == nil {
		return out, md, err
	}
	body := resp.Body
	peek, _ := io.ReadAll(io.LimitReader(body, maxErrorPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), body), body}
	var doc struct {
		ArgumentName string `xml:"ArgumentName"`
	}
	if xml.Unmarshal(peek, &doc) == nil && doc.ArgumentName != "" {
		md.Set(argumentNameKey{}, strings.TrimSpace(doc.ArgumentName))
	}
	return out, md, err
}

// argumentWrapper wraps the deserializer's error in an *argumentError when
// argumentReader found an ArgumentName.
type argumentWrapper struct{}

func (argumentWrapper) ID() string { return "GatehouseArgumentWrapper" }

func (argumentWrapper) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if name, ok := md.Get(argumentNameKey{}).(string); ok && err != nil {
		err = &argumentError{name: name, err: err}
	}
	return out, md, err
}
