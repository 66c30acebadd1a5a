package cfsign

import (
	"crypto"
	"crypto/rand"
	_ "crypto/sha1" // registers crypto.SHA1 for Hash.New
	_ "crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Hash-Algorithm values. SHA1 is the default and is never sent.
const (
	HashSHA1   = "SHA1"
	HashSHA256 = "SHA256"
)

// Sign signs policyJSON (the exact bytes sent or rebuilt, not their base64) and returns
// the signature in CloudFront base64. hash is crypto.SHA1 (what the AWS signers emit; 0
// means SHA1) or crypto.SHA256 (which must be announced with Hash-Algorithm=SHA256).
// RSA keys sign with PKCS#1 v1.5, deterministically: the same policy and key always
// give the same signature. ECDSA P-256 keys give an ASN.1 DER signature, as the AWS SDK
// for Go's signer produces when handed an *ecdsa.PrivateKey; it differs on every call.
// The key must be RSA (2048 bits or more) or ECDSA P-256; any crypto.Signer with such a
// public key works (a KMS or HSM signer, for instance).
func Sign(policyJSON []byte, key crypto.Signer, hash crypto.Hash) (string, error) {
	if hash == 0 {
		hash = crypto.SHA1
	}
	if hash != crypto.SHA1 && hash != crypto.SHA256 {
		return "", fmt.Errorf("unsupported hash %v (want SHA-1 or SHA-256)", hash)
	}
	if err := checkPublicKey(key.Public()); err != nil {
		return "", err
	}
	h := hash.New()
	h.Write(policyJSON)
	sig, err := key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return EncodeBase64(sig), nil
}

// SignOptions are the conditions of a signed URL or cookie set.
type SignOptions struct {
	// Expires is when the signature stops working (required; whole seconds).
	Expires time.Time
	// NotBefore, when set, is when it starts working (custom policy).
	NotBefore time.Time
	// IP, when valid, restricts the client address (custom policy).
	IP netip.Prefix
	// Resource is the policy's URL pattern (see MatchResource). For SignURL, empty means
	// the URL itself; for SignCookies it is required.
	Resource string
	// Hash is crypto.SHA1 (0 means SHA1) or crypto.SHA256.
	Hash crypto.Hash
}

// canned reports whether only an expiry is set (resource is the signed URL itself).
func (o SignOptions) canned(resource string) bool {
	return o.NotBefore.IsZero() && !o.IP.IsValid() && (o.Resource == "" || o.Resource == resource)
}

func (o SignOptions) policy(resource string) ([]byte, error) {
	if o.Expires.IsZero() {
		return nil, errors.New("an expiry is required")
	}
	if o.canned(resource) {
		if o.Expires.Unix() < 0 {
			return nil, errors.New("expiry before 1970")
		}
		return CannedPolicyJSON(resource, o.Expires), nil
	}
	r := o.Resource
	if r == "" {
		r = resource
	}
	return CustomPolicyJSON(Policy{Resource: r, DateLessThan: o.Expires, DateGreaterThan: o.NotBefore, IPAddress: o.IP})
}

func checkKeyID(id string) error {
	if id == "" {
		return errors.New("a key ID is required")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("key ID %q: only letters, digits, '-' and '_' are allowed", id)
		}
	}
	return nil
}

func hashName(h crypto.Hash) (string, error) {
	switch h {
	case 0, crypto.SHA1:
		return "", nil
	case crypto.SHA256:
		return HashSHA256, nil
	}
	return "", fmt.Errorf("unsupported hash %v (want SHA-1 or SHA-256)", h)
}

// SignURL returns rawURL signed for keyID, in the form CloudFront and the AWS signers
// use: the URL's own query first, then Expires (canned policy: only an expiry is set and
// Resource is empty or the URL itself) or Policy (custom policy), Signature, Key-Pair-Id,
// and Hash-Algorithm=SHA256 when signing with SHA-256. A canned signature is identical
// to the AWS SDK's and CLI's for the same URL, expiry and RSA key.
//
// rawURL must be an absolute http or https URL with a host, ASCII only (percent-encode
// the rest), without a fragment or user information, and without signing parameters of
// its own; opts.Resource, when set, must cover it. A trailing '?' with nothing after it
// is dropped: verifiers rebuild the resource without one.
func SignURL(rawURL, keyID string, key crypto.Signer, opts SignOptions) (string, error) {
	if err := checkKeyID(keyID); err != nil {
		return "", err
	}
	if err := checkSignURL(rawURL); err != nil {
		return "", err
	}
	rawURL = strings.TrimSuffix(rawURL, "?")
	if opts.Resource != "" && !MatchResource(opts.Resource, rawURL) {
		return "", fmt.Errorf("resource %s does not cover the URL %s", clip(opts.Resource), clip(rawURL))
	}
	hashParam, err := hashName(opts.Hash)
	if err != nil {
		return "", err
	}
	pol, err := opts.policy(rawURL)
	if err != nil {
		return "", err
	}
	sig, err := Sign(pol, key, opts.Hash)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(rawURL)
	if strings.Contains(rawURL, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	if opts.canned(rawURL) {
		b.WriteString(ParamExpires + "=" + strconv.FormatInt(opts.Expires.Unix(), 10))
	} else {
		b.WriteString(ParamPolicy + "=" + EncodeBase64(pol))
	}
	b.WriteString("&" + ParamSignature + "=" + sig + "&" + ParamKeyPairID + "=" + keyID)
	if hashParam != "" {
		b.WriteString("&" + ParamHashAlgorithm + "=" + hashParam)
	}
	return b.String(), nil
}

func checkSignURL(rawURL string) error {
	for i := 0; i < len(rawURL); i++ {
		if c := rawURL[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("URL %s has spaces, control or non-ASCII characters: percent-encode them", clip(rawURL))
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("bad URL: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("URL %s: want an absolute http:// or https:// URL", clip(rawURL))
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("URL %s has no host", clip(rawURL))
	case u.User != nil:
		return fmt.Errorf("URL %s has user information", clip(rawURL))
	case strings.Contains(rawURL, "#"):
		return fmt.Errorf("URL %s has a fragment (browsers never send it)", clip(rawURL))
	case StripQuery(u.RawQuery) != u.RawQuery:
		return fmt.Errorf("URL %s already has signing parameters (%s)", clip(rawURL), strings.Join(SigningParams(), ", "))
	}
	return nil
}

// SignCookies returns the signed cookie set for opts.Resource (required; a pattern, see
// MatchResource): CloudFront-Expires when only an expiry is set and the resource has no
// '*' (a canned policy covers exactly one URL), CloudFront-Policy otherwise, then
// CloudFront-Signature, CloudFront-Key-Pair-Id, and CloudFront-Hash-Algorithm=SHA256 when
// signing with SHA-256. The cookies have Path=/, Secure and HttpOnly, no Domain and no
// expiry (session cookies); set Domain on each before sending them for a parent domain.
func SignCookies(keyID string, key crypto.Signer, opts SignOptions) ([]*http.Cookie, error) {
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	if opts.Resource == "" {
		return nil, errors.New("signed cookies need a resource")
	}
	if err := checkResourcePattern(opts.Resource); err != nil {
		return nil, err
	}
	hashParam, err := hashName(opts.Hash)
	if err != nil {
		return nil, err
	}
	canned := opts.canned(opts.Resource) && !strings.Contains(opts.Resource, "*")
	var pol []byte
	if canned {
		pol, err = opts.policy(opts.Resource)
	} else {
		pol, err = CustomPolicyJSON(Policy{Resource: opts.Resource, DateLessThan: opts.Expires, DateGreaterThan: opts.NotBefore, IPAddress: opts.IP})
	}
	if err != nil {
		return nil, err
	}
	sig, err := Sign(pol, key, opts.Hash)
	if err != nil {
		return nil, err
	}
	mk := func(name, value string) *http.Cookie {
		return &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true}
	}
	var cookies []*http.Cookie
	if canned {
		cookies = append(cookies, mk(CookieExpires, strconv.FormatInt(opts.Expires.Unix(), 10)))
	} else {
		cookies = append(cookies, mk(CookiePolicy, EncodeBase64(pol)))
	}
	cookies = append(cookies, mk(CookieSignature, sig), mk(CookieKeyPairID, keyID))
	if hashParam != "" {
		cookies = append(cookies, mk(CookieHashAlgorithm, hashParam))
	}
	return cookies, nil
}
