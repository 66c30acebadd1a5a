package basicauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxHeaderLen bounds an Authorization header this package will decode. Real Basic
// credentials are far shorter; a longer one is an attack or a mistake.
const maxHeaderLen = 4 << 10

// strictB64 refuses non-canonical encodings (non-zero padding bits), so one user and
// password have exactly one header value.
var strictB64 = base64.StdEncoding.Strict()

// errNotBasic says the header uses another scheme (Bearer, Digest, ...): credentials
// some other authenticator may understand, not bad ones.
var errNotBasic = errors.New("not the Basic scheme")

// parseBasicHeader splits an Authorization header value of the Basic scheme (RFC 7617)
// into user and password. It returns errNotBasic for other schemes and a descriptive
// error, which never contains the password, for a malformed value: longer than 4 KiB,
// not canonical standard base64, no colon, an empty user, a control character, or a
// user name that is not UTF-8. The scheme name is case-insensitive and may be followed
// by spaces or tabs.
func parseBasicHeader(v string) (user, password string, err error) {
	i := strings.IndexAny(v, " \t")
	scheme := v
	if i >= 0 {
		scheme = v[:i]
	}
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", errNotBasic
	}
	if len(v) > maxHeaderLen {
		return "", "", fmt.Errorf("header longer than %d bytes", maxHeaderLen)
	}
	if i < 0 {
		return "", "", errors.New("no credentials after the Basic scheme")
	}
	token := strings.Trim(v[i:], " \t")
	if token == "" {
		return "", "", errors.New("no credentials after the Basic scheme")
	}
	// The decoder would skip \r and \n; a header carrying them is refused instead.
	for j := 0; j < len(token); j++ {
		if c := token[j]; !isStdB64(c) && c != '=' {
			return "", "", errors.New("credentials are not base64")
		}
	}
	// Typical credentials decode into a buffer on the stack, so a parse allocates only
	// the string made below.
	var small [192]byte
	dst := small[:]
	if n := strictB64.DecodedLen(len(token)); n > len(small) {
		dst = make([]byte, n)
	}
	n, err := strictB64.Decode(dst, []byte(token))
	if err != nil {
		return "", "", errors.New("credentials are not base64")
	}
	s := string(dst[:n])
	user, password, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return "", "", errors.New("credentials have no colon between user and password")
	case user == "":
		return "", "", errors.New("empty user name")
	case hasControl(user):
		return "", "", errors.New("control character in the user name")
	case !utf8.ValidString(user):
		return "", "", errors.New("user name is not UTF-8")
	case hasControl(password):
		return "", "", errors.New("control character in the password")
	}
	return user, password, nil
}

func isStdB64(c byte) bool {
	return c == '+' || c == '/' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// hasControl reports whether s has an ASCII control character (C0 or DEL). Multi-byte
// UTF-8 sequences never contain such bytes, so the check is byte-wise.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
