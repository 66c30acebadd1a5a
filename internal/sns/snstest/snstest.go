// Package snstest signs SNS messages with a test certificate it serves over HTTPS on
// loopback, for tests of code that verifies them. Imported by tests only.
package snstest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/sns"
)

// Server serves a signing certificate at CertURL and counts subscription confirmations
// at /confirm, over HTTPS on 127.0.0.1.
type Server struct {
	*httptest.Server
	// CertURL is the https URL of the certificate, a .pem path.
	CertURL string

	key       *rsa.PrivateKey
	certFetch atomic.Int32
	mu        sync.Mutex
	confirmed []string // TopicArn of each confirmation visit
	n         int
}

// New generates a key and a certificate valid for a day and starts the server; it stops
// when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.test.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s := &Server{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /SimpleNotificationService-test.pem", func(w http.ResponseWriter, r *http.Request) {
		s.certFetch.Add(1)
		w.Write(certPEM)
	})
	mux.HandleFunc("GET /confirm", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.confirmed = append(s.confirmed, r.URL.Query().Get("TopicArn"))
		s.mu.Unlock()
		fmt.Fprint(w, "<ConfirmSubscriptionResponse/>")
	})
	s.Server = httptest.NewTLSServer(mux)
	s.CertURL = s.URL + "/SimpleNotificationService-test.pem"
	tb.Cleanup(s.Close)
	return s
}

// TestHost is the server's host:port, for sns.Options.TestHost.
func (s *Server) TestHost() string { return s.Listener.Addr().String() }

// Verifier returns a verifier that trusts this server (and SNS's real hosts) and
// accepts topics.
func (s *Server) Verifier(tb testing.TB, topics ...string) *sns.Verifier {
	tb.Helper()
	v, err := sns.NewVerifier(sns.Options{Topics: topics, HTTPClient: s.Client(), TestHost: s.TestHost()})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// CertFetches counts the certificate downloads.
func (s *Server) CertFetches() int { return int(s.certFetch.Load()) }

// Confirmations returns the topics of the confirmation visits so far.
func (s *Server) Confirmations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.confirmed...)
}

// Sign sets m's SignatureVersion ("1" SHA1withRSA, "2" SHA256withRSA; any other value
// is signed as "2" and kept, to test refusals), SigningCertURL (when empty) and
// Signature.
func (s *Server) Sign(m *sns.Message, version string) {
	m.SignatureVersion = version
	if m.SigningCertURL == "" {
		m.SigningCertURL = s.CertURL
	}
	var sig []byte
	var err error
	if version == "1" {
		d := sha1.Sum([]byte(m.StringToSign()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(m.StringToSign()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	}
	if err != nil {
		panic(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

func (s *Server) next() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("00000000-0000-0000-0000-%012d", s.n)
}

// Notification returns a notification of topic carrying message, signed with version 1.
func (s *Server) Notification(topic, message string) *sns.Message {
	m := &sns.Message{
		Type: sns.TypeNotification, MessageID: s.next(), TopicARN: topic, Subject: "AmazonIpSpaceChanged", HasSubject: true,
		Message: message, Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic + ":test",
	}
	s.Sign(m, "1")
	return m
}

// Confirmation returns a signed SubscriptionConfirmation whose SubscribeURL is this
// server's /confirm.
func (s *Server) Confirmation(topic string) *sns.Message {
	m := &sns.Message{
		Type: sns.TypeSubscriptionConfirmation, MessageID: s.next(), Token: "2336412f37fb687f5d51e6e2425",
		TopicARN: topic, Message: "You have chosen to subscribe to the topic " + topic + ".",
		SubscribeURL: s.URL + "/confirm?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topic) + "&Token=2336412f37fb687f5d51e6e2425",
		Timestamp:    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	s.Sign(m, "1")
	return m
}
