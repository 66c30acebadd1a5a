package origin

import (
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestFDExhausted(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"dial EMFILE, as the AWS SDK wraps it", Unavailable(&smithy.OperationError{ServiceID: "S3", OperationName: "GetObject",
			Err: &retry.MaxAttemptsError{Attempt: 3, Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Get", URL: "http://s3", Err: dial(syscall.EMFILE)}}}}), true},
		{"dial ENFILE", Unavailable(dial(syscall.ENFILE)), true},
		{"open EMFILE", Unavailable(&os.PathError{Op: "openat", Path: "a.txt", Err: syscall.EMFILE}), true},
		{"connection refused", Unavailable(dial(syscall.ECONNREFUSED)), false},
		{"not found", NotFound("no such key"), false},
		{"nil", nil, false},
	} {
		if got := FDExhausted(tc.err); got != tc.want {
			t.Errorf("%s: FDExhausted = %v, want %v", tc.name, got, tc.want)
		}
	}
}
