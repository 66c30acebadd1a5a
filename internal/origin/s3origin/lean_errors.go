package s3origin

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxErrorBody bounds how much of an error response the lean path reads. S3's error
// documents are a few hundred bytes; the SDK reads them whole, and so does this path up
// to here (a longer body is not an S3 document, and fails to parse as one).
const maxErrorBody = 1 << 20

// errorDoc is what an S3 error document says (its root element is Error).
type errorDoc struct {
	Code         string `xml:"Code"`
	Message      string `xml:"Message"`
	RequestID    string `xml:"RequestId"`
	HostID       string `xml:"HostId"`
	ArgumentName string `xml:"ArgumentName"`
	// fromStatus: Code and Message were made from the status, the document had neither.
	fromStatus bool
}

// parseErrorDoc reads an S3 error response body as the SDK does
// (s3shared.GetErrorResponseComponents): the first XML element's Code, Message,
// RequestId and HostId children, whatever the element's name; an empty body is no
// error. When the document names neither a code nor a message (a HEAD's error has no
// body), both come from the status: 404 is "NotFound" / "Not Found", 403 "Forbidden".
// A body that is not XML is an error, as it is for the SDK, which then reports that
// rather than an API error. ArgumentName (trimmed) is what argumentReader reads.
func parseErrorDoc(status int, body []byte) (errorDoc, error) {
	var doc errorDoc
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&doc); err != nil && err != io.EOF {
		return errorDoc{}, fmt.Errorf("error while deserializing xml error response : %w", err)
	}
	doc.ArgumentName = strings.TrimSpace(doc.ArgumentName)
	if doc.Code == "" && doc.Message == "" {
		text := http.StatusText(status)
		doc.Code, doc.Message, doc.fromStatus = strings.ReplaceAll(text, " ", ""), text, true
	}
	return doc, nil
}

// apiError is the error the SDK's deserializer of op returns for doc: its modeled
// types where it has them (NoSuchKey and InvalidObjectState for GetObject, NotFound for
// HeadObject), else a *smithy.GenericAPIError with the code and message. A modeled
// type's message is the document's own (the SDK reads the body again for it), none when
// the message was made from the status.
func apiError(op string, doc errorDoc) error {
	var msg *string
	if doc.Message != "" && !doc.fromStatus {
		msg = &doc.Message
	}
	switch {
	case op == "GetObject" && strings.EqualFold(doc.Code, "NoSuchKey"):
		return &types.NoSuchKey{Message: msg}
	case op == "GetObject" && strings.EqualFold(doc.Code, "InvalidObjectState"):
		return &types.InvalidObjectState{Message: msg}
	case op == "HeadObject" && strings.EqualFold(doc.Code, "NotFound"):
		return &types.NotFound{Message: msg}
	}
	code := doc.Code
	if code == "" {
		code = "UnknownError"
	}
	return &smithy.GenericAPIError{Code: code, Message: doc.Message}
}

// errorFromResponse reads and closes a non-2xx response and returns the attempt's error
// as the SDK's stack builds it: the API error (wrapped in an *argumentError when a 400
// named its argument), inside an *awshttp.ResponseError carrying the response (its
// status and headers: mapErr reads a 304's, the probe a redirect's) and request ID.
func errorFromResponse(op string, resp *http.Response) error {
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	var err error
	doc, perr := parseErrorDoc(resp.StatusCode, body)
	switch {
	case rerr != nil:
		err = &smithy.DeserializationError{Err: fmt.Errorf("failed to copy error response body, %w", rerr)}
	case perr != nil:
		err = perr
	default:
		err = apiError(op, doc)
		if resp.StatusCode == http.StatusBadRequest && doc.ArgumentName != "" {
			err = &argumentError{name: doc.ArgumentName, err: err}
		}
	}
	re := responseError(resp, err)
	if id := resp.Header.Get("X-Amz-Request-Id"); id != "" {
		re.RequestID = id
	} else {
		re.RequestID = doc.RequestID
	}
	return re
}

// responseError wraps err with the response it came with, as the SDK does for every
// failed attempt (a transport failure's response is an empty one, status 0).
func responseError(resp *http.Response, err error) *awshttp.ResponseError {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: resp}, Err: err,
	}}
}
