// Package probe says why a readiness probe failed. An origin or an authenticator source
// that cannot be used returns an *Error: a stable machine word (Reason, shown as
// "reason" in /readyz) and a short message an operator can act on (shown by /readyz and
// `gatehouse check --probe`), wrapping the full cause, which only the log sees.
//
// Messages name what was contacted (an endpoint, a bucket, a folder, an access key ID)
// and never a secret. Network failures that every prober meets (connection refused, a
// name not in DNS, TLS, timeouts) are classified once, by Network.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Reasons: the stable words in /readyz's "reason". Documented in docs/configuration.md
// (Health and readiness); a new one must be added there.
const (
	// S3 origins.
	WrongSecretKey     = "wrong_secret_key"    // SignatureDoesNotMatch
	UnknownAccessKey   = "unknown_access_key"  // InvalidAccessKeyId
	ExpiredCredentials = "expired_credentials" // ExpiredToken, InvalidToken
	BucketMissing      = "bucket_missing"      // NoSuchBucket
	AccessDenied       = "access_denied"       // the credentials may not read the bucket
	NoCredentials      = "no_credentials"      // the SDK's default chain found none
	WrongRegion        = "wrong_region"        // PermanentRedirect, AuthorizationHeaderMalformed
	ClockSkew          = "clock_skew"          // RequestTimeTooSkewed

	// Folder origins.
	FolderMissing    = "folder_missing"    // the folder is gone
	FolderReplaced   = "folder_replaced"   // deleted and made again since it was opened
	NotAFolder       = "not_a_folder"      // the path is a file
	PermissionDenied = "permission_denied" // gatehouse's user may not read it

	// Any network peer (S3, an OpenID provider, a JWKS URL).
	ConnectionRefused = "connection_refused" // nothing listens at the address
	DNSNotFound       = "dns_not_found"      // the host name is not in DNS
	TLSError          = "tls_error"          // handshake or certificate refused
	Timeout           = "timeout"            // no answer in time
	Unreachable       = "unreachable"        // any other network failure

	// OpenID providers (login issuers, jwt discovery) and key sets.
	HTTPStatus     = "http_status"     // the provider answered with an error status
	IssuerMismatch = "issuer_mismatch" // discovery names another issuer
	BadDocument    = "bad_document"    // discovery document or key set unusable
	NotLoaded      = "not_loaded"      // no attempt has finished yet

	// Redis (the fleet's shared state).
	AuthFailed = "auth_failed" // WRONGPASS, NOAUTH: the password (or ACL user) is refused

	// Other is anything else; the message says what (for S3, with its error code).
	Other = "other"
)

// Reasons lists every reason, in the order docs/configuration.md's table gives them (a
// test keeps the two the same).
var Reasons = []string{
	WrongSecretKey, UnknownAccessKey, ExpiredCredentials, BucketMissing, AccessDenied, NoCredentials, WrongRegion, ClockSkew,
	FolderMissing, FolderReplaced, NotAFolder, PermissionDenied,
	ConnectionRefused, DNSNotFound, TLSError, Timeout, Unreachable,
	HTTPStatus, IssuerMismatch, BadDocument, NotLoaded,
	AuthFailed,
	Other,
}

// Error is a classified probe failure. Error() is the message and the cause, for logs;
// Message alone is what /readyz and `check --probe` show.
type Error struct {
	Reason  string
	Message string
	Err     error // the cause; may be nil
}

// Error returns the message followed by the cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with a formatted message and a cause.
func New(reason string, cause error, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Of returns the *Error in err's chain, if there is one.
func Of(err error) (*Error, bool) {
	var pe *Error
	ok := errors.As(err, &pe)
	return pe, ok
}

// Network classifies a failure to reach target (a URL or host, as the operator wrote
// it) that happened below HTTP: connection refused, DNS, TLS, a timeout, or another
// dial or connection failure. limit, when positive, is the time allowed, named in a
// timeout's message. It returns nil when err is none of those.
func Network(err error, target string, limit time.Duration) *Error {
	var dns *net.DNSError
	var hdr tls.RecordHeaderError
	var unknownCA x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var ne net.Error
	var op *net.OpError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return New(ConnectionRefused, err, "nothing is listening at %s (connection refused)", target)
	case errors.As(err, &dns) && dns.IsNotFound:
		return New(DNSNotFound, err, "host %q of %s is not in DNS", dns.Name, target)
	case errors.As(err, &dns):
		return New(Unreachable, err, "DNS lookup of %q for %s failed", dns.Name, target)
	case errors.As(err, &hdr), errors.Is(err, http.ErrSchemeMismatch):
		return New(TLSError, err, "%s does not speak TLS (an http:// server at an https:// URL?)", target)
	case errors.As(err, &unknownCA), errors.As(err, &host), errors.As(err, &invalid), errors.As(err, &verify):
		return New(TLSError, err, "the TLS certificate of %s is not accepted: %s", target, certProblem(err))
	case errors.As(err, &alert):
		return New(TLSError, err, "TLS handshake with %s failed: %v", target, alert)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		if limit > 0 {
			return New(Timeout, err, "no answer from %s within %s (timeout)", target, limit)
		}
		return New(Timeout, err, "no answer from %s in time (timeout)", target)
	case errors.As(err, &op):
		return New(Unreachable, err, "cannot reach %s: %s: %v", target, op.Op, op.Err)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ECONNRESET):
		return New(Unreachable, err, "cannot reach %s", target)
	}
	return nil
}

// certProblem is the certificate error itself, without the wrapping of the HTTP client.
func certProblem(err error) string {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) && verify.Err != nil {
		return verify.Err.Error()
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return unknownCA.Error()
	}
	var host x509.HostnameError
	if errors.As(err, &host) {
		return host.Error()
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		return invalid.Error()
	}
	return err.Error()
}

// Describe returns the reason and message for any probe error: those of the *Error in
// its chain, else Other and fallback.
func Describe(err error, fallback string) (reason, message string) {
	if pe, ok := Of(err); ok {
		return pe.Reason, pe.Message
	}
	return Other, fallback
}
