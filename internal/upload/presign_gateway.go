package upload

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// Gateway-mode uploads (upload.presign.mode: gateway) are PUTs to the route itself,
// for buckets clients cannot reach. The URL's query carries a grant signed by
// gatehouse with HMAC-SHA256 under upload.presign.key: the route, the exact key, the
// method PUT, the largest body, the exact Content-Type (or none), the expiry and the
// caller's user and email (so the route's key_prefix expands as it did for the
// caller). GatewayAuth, in the route's policy, accepts a PUT that carries a valid grant
// for exactly its key; the body then goes through the route's ordinary write path.

// The query parameters of a gateway-signed upload.
const (
	paramExpires   = "X-Gatehouse-Expires"
	paramMaxSize   = "X-Gatehouse-Max-Size"
	paramType      = "X-Gatehouse-Content-Type"
	paramUser      = "X-Gatehouse-User"
	paramEmail     = "X-Gatehouse-Email"
	paramSignature = "X-Gatehouse-Signature"
)

// grantVersion starts every MAC input, so a future format never verifies as this one.
const grantVersion = "gatehouse-upload-v1"

// Grant is what a gateway-signed upload allows: one PUT of Key on Route.
type Grant struct {
	Route, Key  string
	MaxSize     int64  // the largest Content-Length accepted
	ContentType string // the exact Content-Type required; "": any the route accepts
	Expires     time.Time
	User, Email string // the caller's, for the route's key_prefix
}

// Signer signs and verifies one route's grants.
type Signer struct {
	key []byte
}

// ErrGrant is a grant that is malformed, expired, or not signed for this request.
var ErrGrant = errors.New("invalid upload signature")

// NewSigner signs with key (config.Presign.Key, at least config.MinPresignKey bytes).
func NewSigner(key []byte) *Signer { return &Signer{key: append([]byte(nil), key...)} }

// mac is the grant's HMAC-SHA256: every field length-prefixed, so no two grants share
// an input.
func (s *Signer) mac(g Grant) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, f := range []string{grantVersion, g.Route, g.Key, http.MethodPut,
		strconv.FormatInt(g.MaxSize, 10), g.ContentType, strconv.FormatInt(g.Expires.Unix(), 10), g.User, g.Email} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// Sign returns the query parameters that carry g.
func (s *Signer) Sign(g Grant) url.Values {
	q := url.Values{}
	q.Set(paramExpires, strconv.FormatInt(g.Expires.Unix(), 10))
	q.Set(paramMaxSize, strconv.FormatInt(g.MaxSize, 10))
	if g.ContentType != "" {
		q.Set(paramType, g.ContentType)
	}
	if g.User != "" {
		q.Set(paramUser, g.User)
	}
	if g.Email != "" {
		q.Set(paramEmail, g.Email)
	}
	q.Set(paramSignature, base64.RawURLEncoding.EncodeToString(s.mac(g)))
	return q
}

// HasGrant reports whether a raw query carries a gateway-signed upload at all.
func HasGrant(rawQuery string) bool {
	return strings.Contains(rawQuery, paramSignature)
}

// parseGrant reads a grant and its signature from a raw query. Every grant parameter
// appears at most once, the required ones exactly once; numbers are plain decimal.
// Other parameters are left alone (they are not the grant's).
func parseGrant(rawQuery string) (Grant, []byte, error) {
	var g Grant
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return g, nil, ErrGrant
	}
	one := func(name string, required bool) (string, bool) {
		v := q[name]
		if len(v) > 1 || (required && len(v) == 0) {
			return "", false
		}
		if len(v) == 0 {
			return "", true
		}
		return v[0], true
	}
	num := func(name string) (int64, bool) {
		v, ok := one(name, true)
		if !ok || v == "" || len(v) > 19 || strings.TrimLeft(v, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	exp, ok1 := num(paramExpires)
	max, ok2 := num(paramMaxSize)
	ct, ok3 := one(paramType, false)
	user, ok4 := one(paramUser, false)
	email, ok5 := one(paramEmail, false)
	sigText, ok6 := one(paramSignature, true)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return g, nil, ErrGrant
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return g, nil, ErrGrant
	}
	g = Grant{MaxSize: max, ContentType: ct, Expires: time.Unix(exp, 0), User: user, Email: email}
	return g, sig, nil
}

// Verify returns the grant a raw query carries for a PUT of key on route, checked
// against its signature (constant-time) and now.
func (s *Signer) Verify(rawQuery, route, key string, now time.Time) (Grant, error) {
	g, sig, err := parseGrant(rawQuery)
	if err != nil {
		return Grant{}, err
	}
	g.Route, g.Key = route, key
	if !hmac.Equal(sig, s.mac(g)) {
		return Grant{}, ErrGrant
	}
	if !now.Before(g.Expires) {
		return Grant{}, errors.New("upload signature expired")
	}
	return g, nil
}

// signGateway makes a gateway-signed PUT of key (at route path) for the call.
func (e *Endpoint) signGateway(r *http.Request, c *Call, key, path string, cond origin.PresignConditions) origin.Presigned {
	exp := e.now().Add(e.Expires).Truncate(time.Second)
	g := Grant{Route: e.Route, Key: key, MaxSize: cond.MaxSize, ContentType: cond.ContentType, Expires: exp}
	if c.Identity != nil {
		g.User, g.Email = c.Identity.User, c.Identity.Email
	}
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: path, RawQuery: e.Signer.Sign(g).Encode()}
	h := http.Header{}
	if cond.ContentType != "" {
		h.Set("Content-Type", cond.ContentType)
	}
	return origin.Presigned{Method: http.MethodPut, URL: u.String(), Header: h, Expires: exp}
}
