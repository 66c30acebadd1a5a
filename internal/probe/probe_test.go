package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNetwork: real dial failures and the HTTP client's errors get their reasons, and
// errors that are not network failures are left to the caller.
func TestNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	_, refused := http.Get(closed)

	for _, tc := range []struct {
		name   string
		err    error
		reason string // "": Network returns nil
		msg    string
	}{
		{"refused", refused, ConnectionRefused, "nothing is listening at http://target (connection refused)"},
		{"dns", &net.DNSError{Err: "no such host", Name: "idp.invalid", IsNotFound: true}, DNSNotFound, `host "idp.invalid"`},
		{"dns other", &net.DNSError{Err: "server misbehaving", Name: "idp.example", IsTemporary: true}, Unreachable, `DNS lookup of "idp.example"`},
		{"http at https", fmt.Errorf("get: %w", http.ErrSchemeMismatch), TLSError, "does not speak TLS"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), Timeout, "within 2s"},
		{"unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.EHOSTUNREACH}, Unreachable, "cannot reach"},
		{"not network", errors.New("HTTP 500"), "", ""},
		{"nil", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pe := Network(tc.err, "http://target", 2*time.Second)
			if tc.reason == "" {
				if pe != nil {
					t.Fatalf("Network = %+v, want nil", pe)
				}
				return
			}
			if pe == nil || pe.Reason != tc.reason || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("Network(%v) = %+v, want %s with %q", tc.err, pe, tc.reason, tc.msg)
			}
			if !errors.Is(pe, tc.err) {
				t.Error("the cause is not wrapped")
			}
		})
	}
}

// TestDescribe: the reason and message of a wrapped *Error, else the fallback.
func TestDescribe(t *testing.T) {
	err := fmt.Errorf("origin x: %w", New(BucketMissing, nil, "bucket %q does not exist", "b"))
	if r, m := Describe(err, "fb"); r != BucketMissing || m != `bucket "b" does not exist` {
		t.Errorf("Describe = %q, %q", r, m)
	}
	if r, m := Describe(errors.New("boom"), "fb"); r != Other || m != "fb" {
		t.Errorf("Describe(plain) = %q, %q", r, m)
	}
	if got := New(Timeout, errors.New("cause"), "msg").Error(); got != "msg: cause" {
		t.Errorf("Error() = %q", got)
	}
}

// TestReasonsDocumented: the table of reasons in docs/configuration.md lists exactly the
// reasons probes give, in the same order.
func TestReasonsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### Probe failure reasons\n")
	if !ok {
		t.Fatal("docs/configuration.md has no Probe failure reasons section")
	}
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\|")
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		if m := row.FindStringSubmatch(line); m != nil && m[1] != "reason" { // not the header
			documented = append(documented, m[1])
		}
	}
	if !slices.Equal(documented, Reasons) {
		t.Errorf("documented reasons\n%v\nwant (probe.Reasons)\n%v", documented, Reasons)
	}
}
