package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TLS enables HTTPS (and HTTP/2) on the public listener, with the certificate and key
// in CertFile and KeyFile (read again on every reload) or with certificates obtained
// automatically over ACME. Exactly one of the two is set (docs/tls.md).
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ACME obtains and renews certificates for its domains from an ACME CA (Let's
	// Encrypt by default); nil: the files above are used.
	ACME *ACME `yaml:"acme"`
}

// ACME configures automatic certificates (docs/tls.md). Changes to it take effect on
// restart only.
type ACME struct {
	// Domains are the host names certificates are requested for; a handshake naming
	// any other host gets no certificate and no order is placed for it.
	Domains []string `yaml:"domains"`
	// Email is the contact given to the CA when the account is registered.
	Email string `yaml:"email"`
	// Directory is the CA's ACME directory URL (default: Let's Encrypt's production).
	Directory string `yaml:"directory"`
	// CAFile is a PEM bundle trusted, instead of the system's roots, for connections to
	// the directory: for a private ACME server such as pebble.
	CAFile string `yaml:"ca_file"`
	// Store is where the account key, the certificates and the challenge answers are
	// kept: "folder" (default: Storage, this replica's own) or "redis" (the top-level
	// redis section's server, shared by every replica of a fleet; Storage must then be
	// empty).
	Store string `yaml:"store"`
	// Storage is the folder the account key and certificates are kept in (created with
	// mode 0700), so that a restart does not order them again (store folder only).
	Storage string `yaml:"storage"`
	// Challenges are the challenge types offered to the CA: "tls-alpn-01" (answered on
	// the public TLS listener) and "http-01" (answered on HTTPListen). Default:
	// tls-alpn-01, and http-01 too when HTTPListen is set.
	Challenges []string `yaml:"challenges"`
	// HTTPListen is a plain-HTTP listener (":80") that answers http-01 challenges and
	// redirects every other request for a configured domain to https.
	HTTPListen string `yaml:"http_listen"`
	// RenewBefore is how long before expiry a certificate is renewed (at most 30 days).
	// 0: the lesser of 30 days and a third of the certificate's lifetime.
	RenewBefore time.Duration `yaml:"renew_before"`
	// AgreeTOS must be true: it accepts the CA's terms of service, which ordering a
	// certificate requires.
	AgreeTOS bool `yaml:"agree_tos"`
	// EAB is the external account binding some CAs (ZeroSSL, Google, Sectigo) require.
	EAB *EAB `yaml:"eab"`
}

// EAB is an ACME external account binding: the key identifier and HMAC key the CA gave.
type EAB struct {
	KeyID string `yaml:"key_id"`
	// HMACKey is base64url-encoded, as CAs hand it out. Give it as ${ENV}.
	HMACKey string `yaml:"hmac_key"`
}

// ACME defaults and names.
const (
	// LetsEncryptDirectory is Let's Encrypt's production ACME directory.
	LetsEncryptDirectory = "https://acme-v02.api.letsencrypt.org/directory"
	ACMEStoreFolder      = "folder"
	ACMEStoreRedis       = "redis"
	ChallengeHTTP01      = "http-01"
	ChallengeTLSALPN01   = "tls-alpn-01"
	// MaxRenewBefore is the longest renew_before the ACME client honours.
	MaxRenewBefore = 30 * 24 * time.Hour
)

// Allows reports whether challenge type typ is offered.
func (a *ACME) Allows(typ string) bool {
	for _, c := range a.Challenges {
		if c == typ {
			return true
		}
	}
	return false
}

// HMAC decodes the EAB's HMAC key (validated).
func (e *EAB) HMAC() ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(e.HMACKey, "="))
}

func (t *TLS) applyDefaults() {
	a := t.ACME
	if a == nil {
		return
	}
	if a.Directory == "" {
		a.Directory = LetsEncryptDirectory
	}
	if a.Store == "" {
		a.Store = ACMEStoreFolder
	}
	if len(a.Challenges) == 0 {
		a.Challenges = []string{ChallengeTLSALPN01}
		if a.HTTPListen != "" {
			a.Challenges = append(a.Challenges, ChallengeHTTP01)
		}
	}
	for i, d := range a.Domains {
		a.Domains[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
}

func validateTLS(c *collector, s *Server) {
	t := s.TLS
	if t.ACME == nil {
		if t.CertFile == "" {
			c.addf("server.tls.cert_file", "required when tls is set")
		}
		if t.KeyFile == "" {
			c.addf("server.tls.key_file", "required when tls is set")
		}
		return
	}
	const p = "server.tls.acme"
	if t.CertFile != "" || t.KeyFile != "" {
		c.addf(p, "set either cert_file and key_file or acme, not both")
	}
	a := t.ACME
	if len(a.Domains) == 0 {
		c.addf(p+".domains", "at least one domain is required")
	}
	seen := map[string]int{}
	for i, d := range a.Domains {
		dp := fmt.Sprintf("%s.domains[%d]", p, i)
		if err := checkDomain(d); err != nil {
			c.addf(dp, "%v", err)
		} else if j, dup := seen[d]; dup {
			c.addf(dp, "%q is already listed as domains[%d]", d, j)
		} else {
			seen[d] = i
		}
	}
	if a.Email != "" && (!strings.Contains(a.Email, "@") || strings.ContainsAny(a.Email, " \t,")) {
		c.addf(p+".email", "want an email address, got %q", a.Email)
	}
	if u, err := url.Parse(a.Directory); err != nil || u.Scheme != "https" || u.Host == "" {
		c.addf(p+".directory", "want an https:// URL, got %q", a.Directory)
	}
	switch a.Store {
	case ACMEStoreFolder:
		if a.Storage == "" {
			c.addf(p+".storage", "required: the folder certificates are kept in")
		}
	case ACMEStoreRedis:
		// Whether the redis section is there is checked by validateACMEStore.
		if a.Storage != "" {
			c.addf(p+".storage", "must be empty with store: redis: the account key and certificates are kept in Redis, not in %q", a.Storage)
		}
	default:
		c.addf(p+".store", "must be %s or %s, got %q", ACMEStoreFolder, ACMEStoreRedis, a.Store)
	}
	offered := map[string]bool{}
	for i, ch := range a.Challenges {
		cp := fmt.Sprintf("%s.challenges[%d]", p, i)
		switch {
		case ch != ChallengeHTTP01 && ch != ChallengeTLSALPN01:
			c.addf(cp, "must be %s or %s, got %q", ChallengeTLSALPN01, ChallengeHTTP01, ch)
		case offered[ch]:
			c.addf(cp, "%s is listed twice", ch)
		}
		offered[ch] = true
	}
	if offered[ChallengeHTTP01] && a.HTTPListen == "" {
		c.addf(p+".challenges", "http-01 needs server.tls.acme.http_listen (such as \":80\")")
	}
	if a.HTTPListen != "" {
		validateListen(c, p+".http_listen", a.HTTPListen)
		if a.HTTPListen == s.Listen && !strings.HasSuffix(a.HTTPListen, ":0") {
			c.addf(p+".http_listen", "must differ from server.listen")
		}
	}
	if a.RenewBefore < 0 || a.RenewBefore > MaxRenewBefore {
		c.addf(p+".renew_before", "must be between 0 (the default rule) and 720h (30 days), got %s", a.RenewBefore)
	}
	if !a.AgreeTOS {
		c.addf(p+".agree_tos", "must be true: ordering certificates accepts the CA's terms of service, which gatehouse does only when told to")
	}
	if a.EAB != nil {
		if a.EAB.KeyID == "" {
			c.addf(p+".eab.key_id", "required when eab is set")
		}
		if a.EAB.HMACKey == "" {
			c.addf(p+".eab.hmac_key", "required when eab is set")
		} else if k, err := a.EAB.HMAC(); err != nil || len(k) == 0 {
			c.addf(p+".eab.hmac_key", "want the base64url-encoded key the CA gave")
		}
	}
}

// validateACMEStore checks that store: redis has a redis section to use.
func validateACMEStore(c *collector, cfg *Config) {
	if t := cfg.Server.TLS; t != nil && t.ACME != nil && t.ACME.Store == ACMEStoreRedis && cfg.Redis == nil {
		c.addf("server.tls.acme.store", "redis needs the top-level redis section (the server the fleet shares)")
	}
}

// checkDomain accepts a host name certificates can be ordered for over HTTP-01 or
// TLS-ALPN-01: no wildcard (that needs DNS-01), no address, no port.
func checkDomain(d string) error {
	switch {
	case strings.HasPrefix(d, "*."):
		return fmt.Errorf("wildcard %q needs the dns-01 challenge, which gatehouse does not offer; list each name", d)
	case d == "" || len(d) > 253 || !strings.Contains(d, "."):
		return fmt.Errorf("want a fully qualified host name such as files.example.com, got %q", d)
	}
	allDigits := true
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("want a fully qualified host name such as files.example.com, got %q", d)
		}
		for _, r := range label {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r == '-':
				allDigits = false
			default:
				return fmt.Errorf("want a fully qualified host name such as files.example.com, got %q", d)
			}
		}
	}
	if allDigits {
		return fmt.Errorf("%q is an address: certificates are ordered for host names", d)
	}
	return nil
}
