// Package reqpath turns the path of an incoming request into the one canonical form that
// route matching and key mapping see, and rejects paths that try to escape: '..'
// segments (plain, percent-encoded or double-encoded), encoded slashes and backslashes,
// raw backslashes, NUL and other control characters, and invalid UTF-8.
//
// Rejecting rather than "fixing" hostile paths is deliberate: a path that two components
// could read differently (an encoded slash an S3 gateway decodes, a backslash Windows
// treats as a separator) is the root of most traversal bugs in proxies.
package reqpath

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ErrBadPath is returned (wrapped with the reason) for every rejected path.
var ErrBadPath = errors.New("bad request path")

type pathError string

func (e pathError) Error() string { return "bad request path: " + string(e) }
func (e pathError) Unwrap() error { return ErrBadPath }

// MaxLen bounds the escaped path. S3 keys are at most 1024 bytes; room is left for
// route prefixes and percent-encoding.
const MaxLen = 4096

// Clean takes the escaped path of a request (url.URL.EscapedPath) and returns the decoded,
// cleaned path: it starts with '/', has no empty or '.' segments, and keeps a trailing
// '/' when the request had one (index documents depend on it).
func Clean(escaped string) (string, error) {
	if escaped == "" {
		return "/", nil
	}
	if len(escaped) > MaxLen {
		return "", pathError("too long")
	}
	if escaped[0] != '/' {
		return "", pathError("does not start with '/'")
	}
	if hasEncoded(escaped) {
		return "", pathError("encoded slash, backslash, dot or NUL")
	}
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return "", pathError("invalid percent-encoding")
	}
	if !utf8.ValidString(decoded) {
		return "", pathError("invalid UTF-8")
	}
	for i := 0; i < len(decoded); i++ {
		if c := decoded[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", pathError("control character or backslash")
		}
	}
	// A second round of encoding ("%252e%252e") decodes to "%2e%2e": harmless to us, but
	// a component behind us might decode again. Nothing legitimate needs it.
	if hasEncoded(decoded) {
		return "", pathError("double-encoded slash, backslash, dot or NUL")
	}
	segs := strings.Split(decoded[1:], "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "..":
			return "", pathError("'..' segment")
		case "", ".":
			continue
		}
		out = append(out, s)
	}
	clean := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(decoded, "/") {
		clean += "/"
	}
	return clean, nil
}

// hasEncoded reports whether s holds a percent-encoded '/', '\', '.' or NUL. Encoded
// dots are refused too: the only reason to encode a dot is to smuggle "..".
func hasEncoded(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0 && i+2 < len(s); {
		switch strings.ToLower(s[i+1 : i+3]) {
		case "2f", "5c", "2e", "00":
			return true
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}
