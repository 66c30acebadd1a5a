package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fleet"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
)

// Automatic certificates use golang.org/x/crypto/acme/autocert, not certmagic. Measured
// on a small HTTPS server (Go 1.26, -trimpath): autocert and x/crypto/ocsp add 1.8 MB,
// certmagic 4.3 MB and eleven modules (zap, miekg/dns, libdns, acmez, blake3, cpuid...).
// x/crypto is already a dependency; in gatehouse the whole of this (ACME, OCSP, reload)
// grew the binary by 0.6 MB. What autocert lacks is small and lives here: OCSP
// stapling (tls_ocsp.go), offering only the configured challenge types
// (challengeFilter), the https redirect and the expiry dates for metrics.

// certificates answers the public listener's GetCertificate: the pair from
// server.tls.cert_file and key_file (swapped whole on reload), or certificates obtained
// over ACME for server.tls.acme.domains. Either way the certificate goes out with an
// OCSP response stapled when its CA runs a responder.
type certificates struct {
	log    *slog.Logger
	staple *stapler
	file   atomic.Pointer[tls.Certificate]

	// ACME only.
	acme    *autocert.Manager
	cfg     *config.ACME
	domains map[string]bool
	store   *watchedCache

	// With store: redis only. lockOrder takes the fleet's order lock for a domain;
	// ready[d] is closed once obtain has asked for d's certificate under it, and
	// handshakes for d wait for that, so that they do not order beside another replica.
	lockOrder func(ctx context.Context, domain string) (release func(), err error)
	ready     map[string]chan struct{}
}

// newCertificates sets up the certificates of t. For files, st holds the pair
// gateway.Build loaded. For ACME, the storage folder is created (0700), or with store:
// redis fl's shared store is used, and the CA bundle read; nothing is ordered until
// obtain or the first handshake.
func newCertificates(t *config.TLS, st *gateway.State, log *slog.Logger, fl *fleet.Fleet) (*certificates, error) {
	c := &certificates{log: log, staple: newStapler(log)}
	if t.ACME == nil {
		if st.TLS == nil || len(st.TLS.Certificates) == 0 {
			return nil, errors.New("server.tls: no certificate loaded")
		}
		c.setFile(&st.TLS.Certificates[0])
		return c, nil
	}
	a := t.ACME
	var store autocert.Cache
	if a.Store == config.ACMEStoreRedis {
		if fl == nil {
			return nil, &settingError{Path: "server.tls.acme.store", Err: errors.New("redis needs the top-level redis section")}
		}
		store = fl.ACMECache()
	} else {
		if err := os.MkdirAll(a.Storage, 0o700); err != nil {
			return nil, &settingError{Path: "server.tls.acme.storage", Err: err}
		}
		if fi, err := os.Stat(a.Storage); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("server.tls.acme.storage holds private keys but others may read it: chmod 700 it",
				"storage", a.Storage, "mode", fi.Mode().Perm().String())
		}
		store = autocert.DirCache(a.Storage)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if a.CAFile != "" {
		bundle, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, &settingError{Path: "server.tls.acme.ca_file", Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(bundle) {
			return nil, &settingError{Path: "server.tls.acme.ca_file", Err: fmt.Errorf("%s holds no PEM certificate", a.CAFile)}
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var rt http.RoundTripper = transport
	if !a.Allows(config.ChallengeTLSALPN01) {
		// autocert always tries tls-alpn-01 first; hide it so that the CA is never
		// asked to validate what this server will not answer.
		rt = &challengeFilter{next: transport, allow: a.Challenges}
	}
	c.cfg = a
	c.domains = map[string]bool{}
	for _, d := range a.Domains {
		c.domains[d] = true
	}
	if a.Store == config.ACMEStoreRedis {
		c.lockOrder = fl.LockACMEOrder
		c.ready = map[string]chan struct{}{}
		for _, d := range a.Domains {
			c.ready[d] = make(chan struct{})
		}
	}
	c.store = &watchedCache{Cache: store, log: log, renewBefore: a.RenewBefore}
	c.acme = &autocert.Manager{
		Prompt:      autocert.AcceptTOS, // agree_tos: true is required by config validation
		Cache:       c.store,
		HostPolicy:  autocert.HostWhitelist(a.Domains...),
		RenewBefore: a.RenewBefore,
		Email:       a.Email,
		Client:      &acme.Client{DirectoryURL: a.Directory, HTTPClient: &http.Client{Transport: rt}, UserAgent: "gatehouse"},
	}
	if a.EAB != nil {
		key, _ := a.EAB.HMAC() // validated
		c.acme.ExternalAccountBinding = &acme.ExternalAccountBinding{KID: a.EAB.KeyID, Key: key}
	}
	return c, nil
}

// settingError is a setting that turned out unusable when serving started (after
// check passed it: the file system changed in between). Run reports it as a
// configuration error, with the file and line of Path, so serve exits 78 and the
// systemd unit does not restart into the same failure.
type settingError struct {
	Path string
	Err  error
}

func (e *settingError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *settingError) Unwrap() error { return e.Err }

// asConfigError turns a settingError into the config.Errors it stands for; other
// errors are returned as they are.
func asConfigError(cfg *config.Config, err error) error {
	var se *settingError
	if errors.As(err, &se) {
		return config.Errors{cfg.Errorf(se.Path, "%v", se.Err)}
	}
	return err
}

// tlsConfig is the public listener's TLS configuration.
func (c *certificates) tlsConfig() *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if c.acme != nil && c.cfg.Allows(config.ChallengeTLSALPN01) {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{GetCertificate: c.getCertificate, NextProtos: protos, MinVersion: tls.VersionTLS12}
}

// setFile makes cert the one served (file certificates) and starts fetching its OCSP
// response.
func (c *certificates) setFile(cert *tls.Certificate) {
	c.file.Store(cert)
	c.staple.staple(cert)
}

// reloaded takes the certificate of a State built on reload, when the running server
// serves file certificates and the new configuration still names files. The State was
// built, so the pair loaded; a pair that did not load refused the whole reload.
func (c *certificates) reloaded(st *gateway.State) {
	if c.acme != nil || st.TLS == nil || len(st.TLS.Certificates) == 0 {
		return
	}
	cert := &st.TLS.Certificates[0]
	if old := c.file.Load(); old != nil && len(old.Certificate) > 0 && len(cert.Certificate) > 0 &&
		string(old.Certificate[0]) == string(cert.Certificate[0]) {
		return
	}
	c.setFile(cert)
	if cert.Leaf != nil {
		c.log.Info("TLS certificate reloaded", "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
	}
}

// tlsRestartOnly reports whether a change from a to b needs a restart: TLS turned on or
// off, or any ACME setting changed. New certificate files are taken on reload.
func tlsRestartOnly(a, b *config.TLS) bool {
	if a == nil || b == nil {
		return (a == nil) != (b == nil)
	}
	return !reflect.DeepEqual(a.ACME, b.ACME)
}

// getCertificate is tls.Config.GetCertificate.
func (c *certificates) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c.acme == nil {
		return c.staple.staple(c.file.Load()), nil
	}
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		if !c.cfg.Allows(config.ChallengeTLSALPN01) {
			return nil, errors.New("tls-alpn-01 is not offered")
		}
		return c.acme.GetCertificate(hello) // the challenge's token certificate
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name == "" {
		// No SNI (a client dialling an address): the first domain's certificate.
		h := *hello
		h.ServerName = c.cfg.Domains[0]
		hello = &h
	} else if !c.domains[name] {
		return nil, fmt.Errorf("no certificate for %q: not in server.tls.acme.domains", name)
	}
	if ready := c.ready[strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))]; ready != nil {
		ctx := hello.Context()
		if ctx == nil { // a ClientHelloInfo not made by crypto/tls
			ctx = context.Background()
		}
		select { // until obtain has the certificate (or failed): see obtain
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	cert, err := c.acme.GetCertificate(hello)
	if err != nil {
		return nil, err
	}
	return c.staple.staple(cert), nil
}

// obtain loads or orders every domain's certificate in the background, so the first
// client does not wait for an order and autocert's renewal timers run from the start.
// With store: redis each domain is asked for under the fleet's order lock, so of
// replicas started together one orders and the others load what it stored; handshakes
// for a domain wait until then (at most the lock's wait, then as without it).
func (c *certificates) obtain(ctx context.Context) {
	if c.acme == nil {
		return
	}
	go func() {
		for _, d := range c.cfg.Domains {
			hello := &tls.ClientHelloInfo{ServerName: d,
				CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				SupportedCurves:  []tls.CurveID{tls.CurveP256},
				SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}}
			release := func() {}
			if c.lockOrder != nil {
				lctx, cancel := context.WithTimeout(ctx, orderLockWait)
				var err error
				if release, err = c.lockOrder(lctx, d); err != nil && ctx.Err() == nil {
					c.log.Warn("ACME: another replica held the order lock too long (or Redis did not answer); going on without it", "domain", d, "waited", orderLockWait.String())
				}
				cancel()
			}
			if _, err := c.acme.GetCertificate(hello); err != nil {
				c.log.Error("ACME: obtaining the certificate failed; retried at the next handshake for it", "domain", d, "error", err.Error())
			}
			release()
			if ch := c.ready[d]; ch != nil {
				close(ch)
			}
			if ctx.Err() != nil {
				return
			}
		}
	}()
}

// orderLockWait bounds how long obtain waits for another replica's order of a domain.
const orderLockWait = 3 * time.Minute

// httpHandler serves server.tls.acme.http_listen: http-01 challenges when offered, and
// a permanent redirect to https for requests naming a configured domain (400 for any
// other host, so the listener is no open redirect). httpsPort is the public listener's
// port, added to the redirect unless it is 443.
func (c *certificates) httpHandler(httpsPort string) http.Handler {
	// known reports whether r names a configured domain; if not, it has answered 400
	// (without echoing the host).
	known := func(w http.ResponseWriter, r *http.Request) (string, bool) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		w.Header().Set("Cache-Control", "no-store")
		if !c.domains[host] {
			http.Error(w, "400 Bad Request: unknown host, use https", http.StatusBadRequest)
			return "", false
		}
		return host, true
	}
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := known(w, r)
		if !ok {
			return
		}
		if httpsPort != "443" {
			host = net.JoinHostPort(host, httpsPort)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
	if !c.cfg.Allows(config.ChallengeHTTP01) {
		return redirect
	}
	challenges := c.acme.HTTPHandler(redirect)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// autocert would answer a challenge path for another host 403 with the host
		// quoted in its error: such a request gets the same 400 as any other path.
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			if _, ok := known(w, r); !ok {
				return
			}
		}
		// autocert checks the Host header against the domains as it is; a CA
		// validating on a port other than 80 (pebble) names the port there.
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			r = r.Clone(r.Context())
			r.Host = h
		}
		challenges.ServeHTTP(w, r)
	})
}

// CertificateInfo is one served certificate's expiry, for metrics.
type CertificateInfo struct {
	// Name is the ACME domain, or the file certificate's first DNS name (its subject's
	// common name when it has none).
	Name     string
	NotAfter time.Time
}

// Certificates lists the certificates being served, by name.
func (c *certificates) Certificates() []CertificateInfo {
	if c.acme == nil {
		cert := c.file.Load()
		if cert == nil || cert.Leaf == nil {
			return nil
		}
		name := cert.Leaf.Subject.CommonName
		if len(cert.Leaf.DNSNames) > 0 {
			name = cert.Leaf.DNSNames[0]
		}
		return []CertificateInfo{{Name: name, NotAfter: cert.Leaf.NotAfter}}
	}
	return c.store.certificates()
}

// watchedCache is the ACME storage: an autocert.Cache (a folder here; any store with
// Get, Put and Delete, such as a shared one for replicas, fits) that notes the expiry
// of each certificate read or written, for metrics and the log.
type watchedCache struct {
	autocert.Cache
	log         *slog.Logger
	renewBefore time.Duration

	mu       sync.Mutex
	notAfter map[string]time.Time
}

// Get reads an entry and notes a certificate's expiry.
func (w *watchedCache) Get(ctx context.Context, name string) ([]byte, error) {
	data, err := w.Cache.Get(ctx, name)
	if err == nil {
		if leaf := leafOf(name, data); leaf != nil {
			w.note(name, leaf)
		}
	}
	return data, err
}

// Put writes an entry; a certificate is logged as obtained.
func (w *watchedCache) Put(ctx context.Context, name string, data []byte) error {
	err := w.Cache.Put(ctx, name, data)
	if leaf := leafOf(name, data); leaf != nil {
		w.note(name, leaf)
		if err != nil {
			w.log.Error("ACME: certificate obtained but not stored; it is ordered again on restart", "domain", name, "error", err.Error())
		} else {
			w.log.Info("ACME: certificate obtained", "domain", name, "not_after", leaf.NotAfter, "issuer", leaf.Issuer.String())
		}
		if life := leaf.NotAfter.Sub(leaf.NotBefore); w.renewBefore >= life {
			w.log.Warn("ACME: server.tls.acme.renew_before is not shorter than the certificate's lifetime, so it is renewed at every chance; lower it or leave it unset",
				"domain", name, "renew_before", w.renewBefore.String(), "lifetime", life.String())
		}
	}
	return err
}

func (w *watchedCache) note(name string, leaf *x509.Certificate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.notAfter == nil {
		w.notAfter = map[string]time.Time{}
	}
	w.notAfter[name] = leaf.NotAfter
}

func (w *watchedCache) certificates() []CertificateInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]CertificateInfo, 0, len(w.notAfter))
	for n, t := range w.notAfter {
		out = append(out, CertificateInfo{Name: n, NotAfter: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// leafOf returns the leaf of a certificate entry of autocert's cache (a private key and
// the chain, in PEM); nil for other entries (the account key, challenge tokens).
func leafOf(name string, data []byte) *x509.Certificate {
	if strings.Contains(name, "+token") || strings.Contains(name, "+key") {
		return nil
	}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			leaf, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return leaf
		}
	}
}

// challengeFilter removes the challenges not in allow from the ACME server's
// authorization objects, so that autocert, which always tries tls-alpn-01 first,
// answers only what the configuration offers.
type challengeFilter struct {
	next  http.RoundTripper
	allow []string
}

// RoundTrip passes the request on and filters an authorization in the response.
func (f *challengeFilter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(r)
	if err != nil || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return resp, err
	}
	return filterChallenges(resp, func(typ string) bool { return slices.Contains(f.allow, typ) })
}

// filterChallenges rewrites a JSON response body that holds "challenges" (an ACME
// authorization) to keep only those whose type allowed accepts. Other bodies pass as
// they are.
func filterChallenges(resp *http.Response, allowed func(string) bool) (*http.Response, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	var chals []map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil && obj["challenges"] != nil && json.Unmarshal(obj["challenges"], &chals) == nil {
		kept := chals[:0]
		for _, ch := range chals {
			var typ string
			json.Unmarshal(ch["type"], &typ)
			if allowed(typ) {
				kept = append(kept, ch)
			}
		}
		if out, err := json.Marshal(kept); err == nil {
			obj["challenges"] = out
			if b, err := json.Marshal(obj); err == nil {
				body = b
			}
		}
	}
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// acmeALPN is the protocol a CA negotiates to validate tls-alpn-01 (RFC 8737).
const acmeALPN = acme.ALPNProto
