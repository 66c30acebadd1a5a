package origin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Request limits every origin can honour. The gateway checks them before any origin is
// called, so that one request gets one answer whether the route is served by S3, a
// cache or a folder, and a client can never make an origin refuse a request (which
// would look like an outage).
const (
	// MaxKeyBytes is the longest object key, in bytes of UTF-8, after the route's
	// prefixes are applied. It is AWS S3's limit: no S3 object has a longer key.
	MaxKeyBytes = 1024
	// MaxConditionBytes bounds If-Match, If-None-Match and If-Range together (all
	// their lines, as received). They are the only request headers passed on to S3
	// as sent; S3 refuses requests whose headers exceed 8 KiB in total, and the SDK's
	// own headers (signature, session token) need the rest.
	MaxConditionBytes = 2048
	// MaxETags is the most entity tags one If-Match or If-None-Match list may hold.
	MaxETags = 32
)

var (
	// ErrKeyTooLong: the object key is longer than MaxKeyBytes, or an origin refused
	// it as too long (S3's KeyTooLongError). The gateway answers 414.
	ErrKeyTooLong = errors.New("object key too long")
	// ErrHeaderTooLarge: the request's preconditions are larger than MaxConditionBytes
	// or hold more than MaxETags entity tags, or an origin refused the request's
	// headers as too large (S3's MetadataTooLarge). The gateway answers 431.
	ErrHeaderTooLarge = errors.New("request header fields too large")
	// ErrBadRequest: the origin refused something the client sent as invalid (S3's
	// InvalidArgument naming Range or a precondition header). It is the client's doing,
	// not an outage: the gateway answers 400.
	ErrBadRequest = errors.New("request refused by the origin as invalid")
)

// CheckKey reports ErrKeyTooLong (wrapped, with the length) for a key longer than
// MaxKeyBytes.
func CheckKey(key string) error {
	if len(key) > MaxKeyBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrKeyTooLong, len(key), MaxKeyBytes)
	}
	return nil
}

// CheckConditionHeaders reports ErrHeaderTooLarge (wrapped, with the reason) when a
// request's If-Match, If-None-Match and If-Range together are longer than
// MaxConditionBytes, or an If-Match or If-None-Match list names more than MaxETags
// entity tags. Headers repeated on several lines count as one list, as ConditionsFrom
// reads them.
func CheckConditionHeaders(h http.Header) error {
	n := 0
	for _, name := range []string{"If-Match", "If-None-Match", "If-Range"} {
		for _, v := range h.Values(name) {
			n += len(v)
		}
	}
	if n > MaxConditionBytes {
		return fmt.Errorf("%w: If-Match, If-None-Match and If-Range have %d bytes, at most %d", ErrHeaderTooLarge, n, MaxConditionBytes)
	}
	for _, name := range []string{"If-Match", "If-None-Match"} {
		if c := len(splitETags(joinValues(h, name))); c > MaxETags {
			return fmt.Errorf("%w: %s lists %d entity tags, at most %d", ErrHeaderTooLarge, name, c, MaxETags)
		}
	}
	return nil
}

// joinValues is every line of header name as one comma-separated list (RFC 9110
// section 5.3).
func joinValues(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// splitETags splits an If-Match or If-None-Match field into its members, trimmed and
// without empty ones. A comma inside a quoted entity tag does not split it (RFC 9110
// allows commas in opaque tags); an unterminated quote runs to the end. Members that
// are not well-formed entity tags are kept as they are, so that they are compared (and
// never match) rather than refused.
//
// Hand-written: net/http keeps its entity-tag scanner unexported, and no maintained
// library parses these lists.
func splitETags(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				if m := strings.TrimSpace(s[start:i]); m != "" {
					out = append(out, m)
				}
				start = i + 1
			}
		}
	}
	if m := strings.TrimSpace(s[start:]); m != "" {
		out = append(out, m)
	}
	return out
}

// IsStrongETag reports whether s is exactly one strong entity tag: a quoted string
// without W/ prefix, inner quotes or control characters.
func IsStrongETag(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; c == '"' || c < 0x21 || c == 0x7f {
			return false
		}
	}
	return true
}
