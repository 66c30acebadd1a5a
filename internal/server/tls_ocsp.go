package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSP stapling timings.
const (
	// ocspRetry is how long after a failed fetch the next is tried.
	ocspRetry = time.Minute
	// ocspTimeout bounds one request to the responder.
	ocspTimeout = 30 * time.Second
	// ocspNoNextUpdate is how long a response without a NextUpdate is stapled before it
	// is fetched again.
	ocspNoNextUpdate = time.Hour
)

// stapler holds an OCSP response for each certificate served whose leaf names a
// responder (and whose chain holds the issuer), and staples it to the handshake. It
// never blocks a handshake: a certificate is served without a staple until the first
// response arrives; a response is fetched again halfway between its ThisUpdate and
// NextUpdate, and one past its NextUpdate is no longer stapled. Only "good" responses
// are stapled; a revoked certificate is logged as an error. Fetching starts when a
// certificate is first served (or loaded), and refreshes when one is served after its
// refresh time, so a certificate nobody asks for costs the responder nothing.
type stapler struct {
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	wg     sync.WaitGroup // fetches in flight (tests wait on it)

	mu      sync.Mutex
	entries map[[32]byte]*stapleEntry
}

type stapleEntry struct {
	resp      []byte    // DER; nil until a good response arrived
	expires   time.Time // NextUpdate: not stapled from then on
	refreshAt time.Time // next fetch, once served after it
	notAfter  time.Time // the certificate's; the entry is dropped after it
	fetching  bool
}

func newStapler(log *slog.Logger) *stapler {
	return &stapler{log: log, client: &http.Client{Timeout: ocspTimeout}, now: time.Now, entries: map[[32]byte]*stapleEntry{}}
}

// staple returns cert, or a copy of it with its current OCSP response, and starts a
// fetch when one is due.
func (s *stapler) staple(cert *tls.Certificate) *tls.Certificate {
	if cert == nil || cert.Leaf == nil || len(cert.Leaf.OCSPServer) == 0 || len(cert.Certificate) < 2 {
		return cert
	}
	id := sha256.Sum256(cert.Certificate[0])
	now := s.now()
	s.mu.Lock()
	e := s.entries[id]
	if e == nil {
		for k, old := range s.entries { // certificates replaced by renewal or reload
			if now.After(old.notAfter) {
				delete(s.entries, k)
			}
		}
		e = &stapleEntry{notAfter: cert.Leaf.NotAfter}
		s.entries[id] = e
	}
	if !e.fetching && !now.Before(e.refreshAt) {
		e.fetching = true
		s.wg.Add(1)
		go s.fetch(cert, e)
	}
	resp := e.resp
	if resp != nil && !now.Before(e.expires) {
		resp = nil
	}
	s.mu.Unlock()
	if resp == nil {
		return cert
	}
	c := *cert
	c.OCSPStaple = resp
	return &c
}

// fetch asks the leaf's responder for its status and records the answer in e.
func (s *stapler) fetch(cert *tls.Certificate, e *stapleEntry) {
	defer s.wg.Done()
	der, r, err := s.query(cert)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e.fetching = false
	if err != nil {
		e.refreshAt = now.Add(ocspRetry)
		s.log.Warn("OCSP: fetching the certificate's status failed; served without a staple until it succeeds",
			"subject", cert.Leaf.Subject.String(), "responder", cert.Leaf.OCSPServer[0], "error", err.Error())
		return
	}
	if r.Status != ocsp.Good {
		e.resp, e.refreshAt = nil, now.Add(ocspRetry)
		s.log.Error("OCSP: the responder does not report the certificate good; not stapled",
			"subject", cert.Leaf.Subject.String(), "status", ocspStatus(r.Status), "serial", cert.Leaf.SerialNumber.String())
		return
	}
	e.resp = der
	if r.NextUpdate.IsZero() {
		e.expires, e.refreshAt = now.Add(ocspNoNextUpdate), now.Add(ocspNoNextUpdate/2)
	} else {
		e.expires, e.refreshAt = r.NextUpdate, r.ThisUpdate.Add(r.NextUpdate.Sub(r.ThisUpdate)/2)
	}
}

// query sends one OCSP request and checks the response's signature and subject.
func (s *stapler) query(cert *tls.Certificate) ([]byte, *ocsp.Response, error) {
	issuer, err := x509.ParseCertificate(cert.Certificate[1])
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the issuer: %w", err)
	}
	req, err := ocsp.CreateRequest(cert.Leaf, issuer, nil)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), ocspTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, cert.Leaf.OCSPServer[0], bytes.NewReader(req))
	if err != nil {
		return nil, nil, err
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	hr.Header.Set("Accept", "application/ocsp-response")
	res, err := s.client.Do(hr)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("responder answered %s", res.Status)
	}
	der, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return nil, nil, err
	}
	r, err := ocsp.ParseResponseForCert(der, cert.Leaf, issuer)
	if err != nil {
		return nil, nil, err
	}
	return der, r, nil
}

func ocspStatus(s int) string {
	switch s {
	case ocsp.Good:
		return "good"
	case ocsp.Revoked:
		return "revoked"
	}
	return "unknown"
}
