package server

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRegression_CertificateExpiryNameDoc: the expiry metric's name for a cert_file
// certificate is its first DNS name, its subject common name only when it has none, and
// docs/metrics.md says so (it said the reverse).
func TestRegression_CertificateExpiryNameDoc(t *testing.T) {
	for _, tc := range []struct {
		leaf x509.Certificate
		want string
	}{
		{x509.Certificate{Subject: pkix.Name{CommonName: "cn.example"}, DNSNames: []string{"dns.example", "b.example"}}, "dns.example"},
		{x509.Certificate{Subject: pkix.Name{CommonName: "cn.example"}}, "cn.example"},
	} {
		c := &certificates{}
		tc.leaf.NotAfter = time.Unix(1800000000, 0)
		c.file.Store(&tls.Certificate{Leaf: &tc.leaf})
		if got := c.Certificates(); len(got) != 1 || got[0].Name != tc.want || !got[0].NotAfter.Equal(tc.leaf.NotAfter) {
			t.Errorf("Certificates() = %v, want name %q", got, tc.want)
		}
	}
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "the `cert_file` certificate's first DNS name (its subject common name when it has none)"; !strings.Contains(string(doc), want) {
		t.Errorf("docs/metrics.md does not say %q", want)
	}
}
