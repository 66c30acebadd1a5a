// Package upload holds what every way of writing through gatehouse shares: which object
// keys a caller may write on a route (the route's key_prefix, expanded with the caller's
// identity) and which keys are acceptable at all. The request path (PUT, DELETE), the
// presigned-upload endpoint and the listing page's form all ask it, so the rules are the
// same whichever way a client writes.
package upload

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// ErrOutsidePrefix: the key is not under the caller's key prefix (403).
var ErrOutsidePrefix = errors.New("key outside the caller's upload prefix")

// ErrIdentity: the route's key_prefix needs something the caller's identity does not
// have, or has in a form that is not one safe path segment (403).
var ErrIdentity = errors.New("identity cannot name an upload prefix")

// ErrBadKey: the key cannot be written (empty, a folder, '.' or '..' segments, control
// characters, backslashes, invalid UTF-8, or over origin.MaxKeyLength) (400).
var ErrBadKey = errors.New("object key cannot be written")

// maxSegment bounds an identity value used as a key segment.
const maxSegment = 255

// Prefix expands a key_prefix template (validated by config: variables {user} and
// {email}, each a whole segment) with id. An empty template is no restriction ("").
// A variable id lacks, or whose value is not one safe segment, is ErrIdentity.
func Prefix(template string, id *policy.Identity) (string, error) {
	if template == "" || !strings.Contains(template, "{") {
		return template, nil
	}
	segs := strings.Split(template, "/")
	for i, s := range segs {
		var v, name string
		switch s {
		case "{user}":
			name = "user"
			if id != nil {
				v = id.User
			}
		case "{email}":
			name = "email"
			if id != nil {
				v = id.Email
			}
		default:
			continue
		}
		if err := safeSegment(v); err != nil {
			return "", fmt.Errorf("%w: {%s} %v", ErrIdentity, name, err)
		}
		segs[i] = v
	}
	return strings.Join(segs, "/"), nil
}

// safeSegment accepts a value usable as one key segment whatever the origin: non-empty,
// at most 255 bytes of valid UTF-8, no '/', '\', control characters, and not '.' or '..'.
func safeSegment(v string) error {
	switch {
	case v == "":
		return errors.New("is empty for this caller")
	case len(v) > maxSegment:
		return errors.New("is longer than 255 bytes")
	case v == "." || v == "..":
		return errors.New("is a dot segment")
	case !utf8.ValidString(v):
		return errors.New("is not valid UTF-8")
	}
	for _, r := range v {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return errors.New("contains a slash, backslash or control character")
		}
	}
	return nil
}

// CheckKey reports whether key may be written: what a GET could address (origin.CheckKey)
// and more, since a write creates the name: no empty, '.' or '..' segments, no trailing
// '/', no backslashes, control characters or invalid UTF-8.
func CheckKey(key string) error {
	if err := origin.CheckKey(key); err != nil {
		return fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrBadKey)
	case strings.HasSuffix(key, "/"):
		return fmt.Errorf("%w: names a folder", ErrBadKey)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrBadKey)
	}
	for _, s := range strings.Split(key, "/") {
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("%w: empty, '.' or '..' segment", ErrBadKey)
		}
	}
	for _, r := range key {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: backslash or control character", ErrBadKey)
		}
	}
	return nil
}

// Allowed reports whether the caller with identity id may write key on a route whose
// key_prefix is template: key is writable (CheckKey) and lies under the expanded prefix.
func Allowed(template string, id *policy.Identity, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	prefix, err := Prefix(template, id)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(key, prefix) {
		return fmt.Errorf("%w: %q is not under %q", ErrOutsidePrefix, key, prefix)
	}
	return nil
}
