package revoke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what a revocation may say.
const (
	// MaxValueBytes bounds Value.
	MaxValueBytes = 512
	// MaxReasonBytes bounds Reason.
	MaxReasonBytes = 256
	// MaxBeforeAhead is how far past now Before may be: clock skew between the
	// machine that made the revocation and the server, not a date in the future.
	MaxBeforeAhead = time.Hour
	// MaxLifetimeLimit bounds MaxLifetime.
	MaxLifetimeLimit = 10 * 365 * 24 * time.Hour
)

// FieldError is a refusal of one field of a revocation, named as in its JSON.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Decode reads one revocation from untrusted JSON (DecodeJSON), then Validate at now.
func Decode(data []byte, now time.Time) (Revocation, error) {
	r, err := DecodeJSON(data)
	if err != nil {
		return Revocation{}, err
	}
	return r, Validate(r, now)
}

// DecodeJSON reads one revocation object strictly: the body must be UTF-8 and one JSON
// object; unknown fields, a field given twice and data after the object are errors, and
// an error names the field it concerns. It does not validate: a server completes the
// record first.
func DecodeJSON(data []byte) (Revocation, error) {
	var r Revocation
	if !utf8.Valid(data) {
		return r, errors.New("malformed revocation: the body is not UTF-8")
	}
	fields, err := objectFields(data)
	if err != nil {
		return r, err
	}
	for _, f := range fields {
		var dst any
		switch f.name {
		case "id":
			dst = &r.ID
		case "kind":
			dst = &r.Kind
		case "value":
			dst = &r.Value
		case "before":
			dst = &r.Before
		case "max_lifetime":
			dst = &r.MaxLifetime
		case "expires":
			dst = &r.Expires
		case "created":
			dst = &r.Created
		case "reason":
			dst = &r.Reason
		default:
			return Revocation{}, fieldErr(clip(f.name), "unknown field")
		}
		if err := json.Unmarshal(f.value, dst); err != nil {
			return Revocation{}, fieldErr(f.name, "want %s", jsonType(f.name))
		}
	}
	r.Before, r.Expires, r.Created = utc(r.Before), utc(r.Expires), utc(r.Created)
	return r, nil
}

// utc is t in UTC (records are stored and shown in UTC whatever offset a client used).
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

type rawField struct {
	name  string
	value json.RawMessage
}

// objectFields splits data, which must be exactly one JSON object, into its fields in
// order, refusing a name given twice (encoding/json would keep the last silently).
func objectFields(data []byte) ([]rawField, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("malformed revocation: want a JSON object")
	}
	var out []rawField
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New("malformed revocation: not valid JSON")
		}
		name, _ := t.(string)
		if seen[name] {
			return nil, fieldErr(clip(name), "given twice")
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("malformed revocation: not valid JSON")
		}
		out = append(out, rawField{name, v})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errors.New("malformed revocation: not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed revocation: data after the object")
	}
	return out, nil
}

// Validate checks a revocation made from untrusted input, at now: the kind is known;
// the value is 1 to MaxValueBytes of printable UTF-8 (for policy, 64 lowercase hex
// digits); Before is set exactly for the kinds that take it and not more than
// MaxBeforeAhead past now; MaxLifetime only for a key revocation with Before, which
// needs it; Expires after Created; jwt needs Expires; the reason is at most
// MaxReasonBytes of printable text; an ID, if given, is ComputeID's. Errors are
// *FieldError.
func Validate(r Revocation, now time.Time) error {
	switch r.Kind {
	case KindPolicy, KindKey, KindJWT, KindSubject, KindUser:
	default:
		return fieldErr("kind", "want policy, key, jwt, subject or user, got %q", clip(string(r.Kind)))
	}
	if len(r.Value) == 0 || len(r.Value) > MaxValueBytes {
		return fieldErr("value", "want 1 to %d bytes, got %d", MaxValueBytes, len(r.Value))
	}
	if !printable(r.Value) {
		return fieldErr("value", "must be printable UTF-8 text")
	}
	if r.Kind == KindPolicy && !isHash(r.Value) {
		return fieldErr("value", "a policy revocation's value is the policy's SHA-256 in lowercase hex (64 digits)")
	}
	switch r.Kind {
	case KindPolicy, KindJWT:
		if !r.Before.IsZero() {
			return fieldErr("before", "not used by a %s revocation", r.Kind)
		}
	case KindSubject, KindUser:
		if r.Before.IsZero() {
			return fieldErr("before", "required for a %s revocation", r.Kind)
		}
	}
	if !r.Before.IsZero() {
		if r.Before.After(now.Add(MaxBeforeAhead)) {
			return fieldErr("before", "%s is in the future (at most %s ahead of the server's clock)", r.Before.UTC().Format(time.RFC3339), MaxBeforeAhead)
		}
		if r.Before.Year() < 2000 {
			return fieldErr("before", "%s is before the year 2000", r.Before.UTC().Format(time.RFC3339))
		}
	}
	switch {
	case r.MaxLifetime != 0 && (r.Kind != KindKey || r.Before.IsZero()):
		return fieldErr("max_lifetime", "only for a key revocation with before")
	case r.Kind == KindKey && !r.Before.IsZero() && r.MaxLifetime == 0:
		return fieldErr("max_lifetime", "required with before: the longest lifetime of the key's policies (CloudFront policies carry no signing time)")
	case r.MaxLifetime < 0 || time.Duration(r.MaxLifetime) > MaxLifetimeLimit:
		return fieldErr("max_lifetime", "must be between 1s and %s", MaxLifetimeLimit)
	case r.MaxLifetime != 0 && time.Duration(r.MaxLifetime) < time.Second:
		return fieldErr("max_lifetime", "must be between 1s and %s", MaxLifetimeLimit)
	}
	if r.Kind == KindJWT && r.Expires.IsZero() {
		return fieldErr("expires", "required for a jwt revocation: the token's exp")
	}
	if !r.Expires.IsZero() && !r.Created.IsZero() && !r.Expires.After(r.Created) {
		return fieldErr("expires", "must be after created")
	}
	if !r.Expires.IsZero() && r.Expires.Year() > 9999 {
		return fieldErr("expires", "past the year 9999")
	}
	if len(r.Reason) > MaxReasonBytes {
		return fieldErr("reason", "at most %d bytes, got %d", MaxReasonBytes, len(r.Reason))
	}
	if !printable(r.Reason) {
		return fieldErr("reason", "must be printable UTF-8 text")
	}
	if r.ID != "" && r.ID != r.ComputeID() {
		return fieldErr("id", "does not match the revocation (leave it out: the server computes it)")
	}
	return nil
}

// jsonType names the JSON type a field takes, for errors.
func jsonType(field string) string {
	switch field {
	case "before", "expires", "created":
		return "an RFC 3339 time string"
	case "max_lifetime":
		return "a duration string"
	}
	return "a string"
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
