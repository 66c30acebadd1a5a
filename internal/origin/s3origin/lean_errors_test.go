package s3origin

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

func TestParseErrorDoc(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        int
		body          string
		code, message string
		argument      string
		fails         bool
	}{
		{"no such key", 404, errDoc("NoSuchKey", "The specified key does not exist."), "NoSuchKey", "The specified key does not exist.", "", false},
		{"invalid range argument", 400, errDoc("InvalidArgument", "Invalid", "<ArgumentName>\n Range </ArgumentName>"), "InvalidArgument", "Invalid", "Range", false},
		{"slow down", 503, errDoc("SlowDown", "Reduce your request rate."), "SlowDown", "Reduce your request rate.", "", false},
		{"HEAD 404 without a body", 404, "", "NotFound", "Not Found", "", false},
		{"HEAD 403 without a body", 403, "", "Forbidden", "Forbidden", "", false},
		{"HEAD 412 without a body", 412, "", "PreconditionFailed", "Precondition Failed", "", false},
		{"304", 304, "", "NotModified", "Not Modified", "", false},
		{"416 without a body", 416, "", "RequestedRangeNotSatisfiable", "Requested Range Not Satisfiable", "", false},
		{"any root element", 400, "<Oops><Code>X</Code></Oops>", "X", "", "", false},
		{"message only", 500, "<Error><Message>m</Message></Error>", "", "m", "", false},
		{"whitespace body", 500, "  \n", "InternalServerError", "Internal Server Error", "", false},
		{"not XML", 502, "<html><body>bad gateway", "", "", "", true},
		{"JSON: no element, as if empty", 500, `{"code":"x"}`, "InternalServerError", "Internal Server Error", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parseErrorDoc(tc.status, []byte(tc.body))
			if (err != nil) != tc.fails {
				t.Fatalf("err %v, want failure %v", err, tc.fails)
			}
			if err == nil && (doc.Code != tc.code || doc.Message != tc.message || doc.ArgumentName != tc.argument) {
				t.Errorf("got %+v, want code %q message %q argument %q", doc, tc.code, tc.message, tc.argument)
			}
		})
	}
}

// FuzzParseErrorDoc: whatever an S3 endpoint (or a proxy in front of it) answers, an
// error response becomes an error that carries its status, that mapErr sorts without
// panicking, and that is never mistaken for success; a well-formed document's code,
// message and argument are read back as written.
func FuzzParseErrorDoc(f *testing.F) {
	f.Add(404, errDoc("NoSuchKey", "The specified key does not exist."), "NoSuchKey", "gone", "")
	f.Add(400, errDoc("InvalidArgument", "bad", "<ArgumentName>Range</ArgumentName>"), "InvalidArgument", "x", "Range")
	f.Add(503, "<html>", "SlowDown", "slow <down> & out", "")
	f.Add(304, "", "", "", "")
	f.Add(301, "<Error><Code>PermanentRedirect</Code><Endpoint>b.s3.amazonaws.com</Endpoint></Error>", "A", "", "If-Match")
	f.Add(500, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><Error><Code>&a;</Code></Error>", "C", "m", "")
	f.Fuzz(func(t *testing.T, status int, body, code, message, argument string) {
		status = 300 + (status%300+300)%300 // a non-2xx status, 300 to 599
		for _, op := range []string{"GetObject", "HeadObject"} {
			resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
			err := errorFromResponse(op, resp)
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != status {
				t.Fatalf("%s %d %q: error %v does not carry the status", op, status, body, err)
			}
			mapped := (&Bucket{}).mapErr(context.Background(), &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err})
			if mapped == nil || origin.StatusOf(mapped) == http.StatusOK {
				t.Fatalf("%s %d %q: mapped to %v", op, status, body, mapped)
			}
		}
		if !plainText(code) || !plainText(message) || !plainText(argument) {
			return
		}
		var doc bytes.Buffer
		doc.WriteString("<Error><Code>")
		xml.EscapeText(&doc, []byte(code))
		doc.WriteString("</Code><Message>")
		xml.EscapeText(&doc, []byte(message))
		doc.WriteString("</Message><ArgumentName>")
		xml.EscapeText(&doc, []byte(argument))
		doc.WriteString("</ArgumentName></Error>")
		got, err := parseErrorDoc(status, doc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", doc.String(), err)
		}
		if code == "" && message == "" {
			return // made from the status
		}
		if got.Code != code || got.Message != message || got.ArgumentName != strings.TrimSpace(argument) {
			t.Fatalf("%s: read back as %+v", doc.String(), got)
		}
	})
}

// plainText reports whether s survives an XML round trip unchanged: printable ASCII
// (XML normalizes line ends and refuses control characters).
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
