package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// CertHostPattern is what the host of a SigningCertURL (and of a SubscribeURL) must
// match: an SNS regional endpoint, in the commercial or China partitions.
var CertHostPattern = regexp.MustCompile(`^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$`)

// Errors Verify wraps, so callers can tell why a message was refused.
var (
	ErrTopic            = errors.New("topic not allowed")
	ErrSignatureVersion = errors.New("unsupported SignatureVersion")
	ErrCertURL          = errors.New("signing certificate URL not trusted")
	ErrCertificate      = errors.New("signing certificate unusable")
	ErrSignature        = errors.New("signature does not verify")
)

// Options configure a Verifier.
type Options struct {
	// Topics are the topic ARNs whose messages are accepted (required).
	Topics []string
	// HTTPClient fetches certificates and confirms subscriptions; default a client
	// with a 10s timeout.
	HTTPClient *http.Client
	// TestHost, for tests only, is a "host:port" also trusted to serve certificates
	// and subscription URLs, besides CertHostPattern. It must be a loopback IP address
	// and port (NewVerifier refuses anything else), so setting it cannot make a
	// verifier trust a host on the network; https and the .pem path are still required.
	// Production code never sets it.
	TestHost string
	// Now is the clock for certificate validity; default time.Now.
	Now func() time.Time
}

// Verifier checks SNS messages. It is safe for concurrent use.
type Verifier struct {
	topics   []string
	client   *http.Client
	testHost string
	now      func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate // by URL; only valid ones are kept
}

// maxCachedCerts bounds the cache: SNS rotates its certificate rarely, so a handful of
// URLs is normal and many means something is off.
const maxCachedCerts = 16

// NewVerifier builds a verifier for opts.
func NewVerifier(opts Options) (*Verifier, error) {
	if len(opts.Topics) == 0 {
		return nil, errors.New("no topic ARN allowed")
	}
	if opts.TestHost != "" {
		host, port, err := net.SplitHostPort(opts.TestHost)
		ip := net.ParseIP(host)
		if err != nil || port == "" || ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("TestHost %q: want a loopback IP address and port", opts.TestHost)
		}
	}
	v := &Verifier{topics: slices.Clone(opts.Topics), client: opts.HTTPClient, testHost: opts.TestHost, now: opts.Now, certs: map[string]*x509.Certificate{}}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Verify accepts m only if its topic is allowed and its signature verifies with the
// certificate at its SigningCertURL. The error wraps one of the Err* values.
func (v *Verifier) Verify(ctx context.Context, m *Message) error {
	if !slices.Contains(v.topics, m.TopicARN) {
		return fmt.Errorf("%w: %s", ErrTopic, m.TopicARN)
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w %q (want 1 or 2)", ErrSignatureVersion, m.SignatureVersion)
	}
	if err := v.CheckURL(m.SigningCertURL, true); err != nil {
		return fmt.Errorf("%w: %v", ErrCertURL, err)
	}
	cert, err := v.certificate(ctx, m.SigningCertURL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: not an RSA key", ErrCertificate)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(m.StringToSign()))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(m.StringToSign()))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return ErrSignature
	}
	return nil
}

// CheckURL accepts an https URL on an SNS host (or the test host), without user
// information or port (except the test host's), and for a certificate a path ending in
// .pem.
func (v *Verifier) CheckURL(raw string, cert bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "https":
		return fmt.Errorf("%q is not https", raw)
	case u.User != nil:
		return fmt.Errorf("%q has user information", raw)
	case cert && !strings.HasSuffix(u.Path, ".pem"):
		return fmt.Errorf("%q is not a .pem file", raw)
	case v.testHost != "" && u.Host == v.testHost:
		return nil
	case u.Port() != "" || !CertHostPattern.MatchString(u.Hostname()):
		return fmt.Errorf("host %q is not an SNS host", u.Host)
	}
	return nil
}

// certificate returns the certificate at u, from the cache while it is valid.
func (v *Verifier) certificate(ctx context.Context, u string) (*x509.Certificate, error) {
	now := v.now()
	v.mu.Lock()
	c, ok := v.certs[u]
	v.mu.Unlock()
	if ok && now.Before(c.NotAfter) {
		return c, nil
	}
	c, err := v.fetchCert(ctx, u)
	if err != nil {
		return nil, err
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, fmt.Errorf("certificate at %s is not valid now (valid %s to %s)", u, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	}
	v.mu.Lock()
	if len(v.certs) >= maxCachedCerts {
		clear(v.certs)
	}
	v.certs[u] = c
	v.mu.Unlock()
	return c, nil
}

func (v *Verifier) fetchCert(ctx context.Context, u string) (*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", u)
	}
	return x509.ParseCertificate(block.Bytes)
}

// CachedCertificates counts the certificates in the cache.
func (v *Verifier) CachedCertificates() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.certs)
}

// Confirm visits a verified SubscriptionConfirmation's SubscribeURL, which confirms the
// subscription. The URL must pass CheckURL.
func (v *Verifier) Confirm(ctx context.Context, m *Message) error {
	if m.Type != TypeSubscriptionConfirmation {
		return fmt.Errorf("not a subscription confirmation: %s", m.Type)
	}
	if err := v.CheckURL(m.SubscribeURL, false); err != nil {
		return fmt.Errorf("SubscribeURL: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.SubscribeURL, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("confirm subscription: %w", unwrap(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("confirm subscription: HTTP %s", resp.Status)
	}
	return nil
}

// unwrap drops url.Error's wrapping, which repeats the URL.
func unwrap(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
