package signedauth

import (
	"fmt"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// ErrHostNotSigned: the request's Host is not one of the authenticator's hosts. The
// failure names the host where this value says HOST: host "media.example.org" not signed
// for. errors.Is matches any host.
var ErrHostNotSigned error = hostNotSigned("HOST")

type hostNotSigned string

func (h hostNotSigned) Error() string { return fmt.Sprintf("host %q not signed for", string(h)) }

// Is makes every host's failure match ErrHostNotSigned.
func (hostNotSigned) Is(target error) bool {
	_, ok := target.(hostNotSigned)
	return ok
}

// Reasons are all the reasons a signed request is refused (403). The access log's reason
// for such a request is the authenticator's name, ": ", then the reason's text and its
// detail (signed: expired at 2026-05-01T10:00:00Z); the failure wraps exactly one of
// these (errors.Is). docs/signed-urls.md lists their texts, and a test keeps the two the
// same.
var Reasons = []error{
	cfsign.ErrMissing,
	cfsign.ErrUnknownKey,
	cfsign.ErrMalformedPolicy,
	cfsign.ErrBadSignature,
	cfsign.ErrExpired,
	cfsign.ErrNotYetValid,
	cfsign.ErrWrongIP,
	cfsign.ErrResourceMismatch,
	cfsign.ErrUnsupportedHash,
	ErrHostNotSigned,
	revoke.ErrRevoked,
}
