package loginauth

import (
	"net/url"
	"strings"
)

// maxReturnURL bounds a return URL; longer ones are refused rather than truncated.
const maxReturnURL = 2048

// SafeReturn validates where to send the browser after signing in or out. It accepts a
// relative path on this site (one leading '/', never "//" or "/\", which browsers treat
// as another host) or an absolute http(s) URL whose host is in hosts (lower-case,
// with port when not the default). It refuses control characters (CR, LF, tab),
// backslashes, spaces and non-ASCII bytes anywhere, and applies the same checks to the
// percent-decoded form, so "/%2F%2Fevil.com", "/%5Cevil.com" and "%0d%0a" variants fail
// too. It returns the URL to put in Location.
func SafeReturn(raw string, hosts map[string]bool) (string, bool) {
	if raw == "" || len(raw) > maxReturnURL || !plainASCII(raw) {
		return "", false
	}
	dec, err := url.PathUnescape(raw)
	if err != nil || strings.ContainsFunc(dec, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) {
		return "", false
	}
	if strings.HasPrefix(raw, "/") {
		if strings.HasPrefix(dec, "//") {
			return "", false
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
			return "", false
		}
		return raw, true
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	if !strings.HasPrefix(raw, u.Scheme+"://") || !hosts[strings.ToLower(u.Host)] {
		return "", false
	}
	return u.String(), true
}

// plainASCII reports whether s has only printable ASCII other than space and '\'.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return false
		}
	}
	return true
}
