package config

import (
	"reflect"
	"testing"
	"time"
)

func TestParseTLSACME(t *testing.T) {
	acme := func(body string) string {
		return withTop("server:\n  listen: :443\n  tls:\n    acme:\n" + body)
	}
	ok := "      domains: [files.example.com]\n      storage: /var/lib/gatehouse/acme\n      agree_tos: true\n"
	runErrCases(t, []errCase{
		{name: "files and acme", src: withTop("server:\n  tls:\n    cert_file: c.pem\n    acme:\n      domains: [a.example.com]\n      storage: s\n      agree_tos: true\n"),
			want: []wantErr{{"server.tls.acme", "acme:", "set either cert_file and key_file or acme, not both"}}},
		{name: "empty acme", src: acme("      email: ops@example.com\n"),
			want: []wantErr{
				{"server.tls.acme.domains", "acme:", "at least one domain is required"},
				{"server.tls.acme.storage", "acme:", "required: the folder certificates are kept in"},
				{"server.tls.acme.agree_tos", "acme:", "must be true"},
			}},
		{name: "agree_tos false", src: acme("      domains: [a.example.com]\n      storage: s\n      agree_tos: false\n"),
			want: []wantErr{{"server.tls.acme.agree_tos", "agree_tos:", "must be true"}}},
		{name: "bad domains", src: acme("      domains:\n        - '*.example.com'\n        - 10.0.0.1\n        - localhost\n        - a..b\n        - ok.example.com\n        - OK.example.com.\n      storage: s\n      agree_tos: true\n"),
			want: []wantErr{
				{"server.tls.acme.domains[0]", "*.example.com", "needs the dns-01 challenge"},
				{"server.tls.acme.domains[1]", "10.0.0.1", "is an address"},
				{"server.tls.acme.domains[2]", "localhost", "want a fully qualified host name"},
				{"server.tls.acme.domains[3]", "a..b", "want a fully qualified host name"},
				{"server.tls.acme.domains[5]", "OK.example.com.", `"ok.example.com" is already listed as domains[4]`},
			}},
		{name: "directory not https", src: acme(ok + "      directory: http://localhost:14000/dir\n"),
			want: []wantErr{{"server.tls.acme.directory", "directory:", `want an https:// URL, got "http://localhost:14000/dir"`}}},
		{name: "http-01 without http_listen", src: acme(ok + "      challenges: [http-01]\n"),
			want: []wantErr{{"server.tls.acme.challenges", "challenges:", "http-01 needs server.tls.acme.http_listen"}}},
		{name: "unknown and repeated challenges", src: acme(ok + "      http_listen: :80\n      challenges: [dns-01, http-01, http-01]\n"),
			want: []wantErr{
				{"server.tls.acme.challenges[0]", "challenges:", `must be tls-alpn-01 or http-01, got "dns-01"`},
				{"server.tls.acme.challenges[2]", "challenges:", "http-01 is listed twice"},
			}},
		{name: "http_listen equal to listen", src: acme(ok + "      http_listen: :443\n"),
			want: []wantErr{{"server.tls.acme.http_listen", "http_listen:", "must differ from server.listen"}}},
		{name: "http_listen without port", src: acme(ok + "      http_listen: example.com\n"),
			want: []wantErr{{"server.tls.acme.http_listen", "http_listen:", "want host:port"}}},
		{name: "renew_before too long", src: acme(ok + "      renew_before: 800h\n"),
			want: []wantErr{{"server.tls.acme.renew_before", "renew_before:", "must be between 0 (the default rule) and 720h (30 days), got 800h0m0s"}}},
		{name: "email", src: acme(ok + "      email: ops\n"),
			want: []wantErr{{"server.tls.acme.email", "email:", `want an email address, got "ops"`}}},
		{name: "eab incomplete", src: acme(ok + "      eab:\n        hmac_key: '!!'\n"),
			want: []wantErr{
				{"server.tls.acme.eab.key_id", "eab:", "required when eab is set"},
				{"server.tls.acme.eab.hmac_key", "hmac_key:", "want the base64url-encoded key the CA gave"},
			}},
		{name: "unknown store", src: acme(ok + "      store: s3\n"),
			want: []wantErr{{"server.tls.acme.store", "store:", `must be folder or redis, got "s3"`}}},
		{name: "store redis without a redis section", src: acme("      domains: [a.example.com]\n      store: redis\n      agree_tos: true\n"),
			want: []wantErr{{"server.tls.acme.store", "store:", "redis needs the top-level redis section"}}},
		{name: "store redis with storage", src: acme(ok+"      store: redis\n") + "redis: {addresses: ['127.0.0.1:6379']}\n",
			want: []wantErr{{"server.tls.acme.storage", "storage:", `must be empty with store: redis: the account key and certificates are kept in Redis, not in "/var/lib/gatehouse/acme"`}}},
		{name: "unknown key", src: acme(ok + "      agree: true\n"),
			want: []wantErr{{"server.tls.acme.agree", "agree:", `unknown key "agree"`}}},
	})
}

func TestACMEDefaults(t *testing.T) {
	src := withTop("server:\n  tls:\n    acme:\n      domains: [Files.Example.com.]\n      storage: /s\n      agree_tos: true\n      http_listen: :80\n      renew_before: 240h\n      eab:\n        key_id: kid\n        hmac_key: ${EAB}\n")
	c := mustParse(t, src, map[string]string{"EAB": "c2VjcmV0LWtleQ"})
	a := c.Server.TLS.ACME
	want := &ACME{Domains: []string{"files.example.com"}, Directory: LetsEncryptDirectory, Store: ACMEStoreFolder, Storage: "/s", AgreeTOS: true,
		HTTPListen: ":80", Challenges: []string{ChallengeTLSALPN01, ChallengeHTTP01}, RenewBefore: 240 * time.Hour,
		EAB: &EAB{KeyID: "kid", HMACKey: "c2VjcmV0LWtleQ"}}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("acme = %+v, want %+v", a, want)
	}
	if k, err := a.EAB.HMAC(); err != nil || string(k) != "secret-key" {
		t.Errorf("HMAC() = %q, %v", k, err)
	}
	if !a.Allows(ChallengeHTTP01) || !a.Allows(ChallengeTLSALPN01) {
		t.Error("Allows: both challenges are offered")
	}

	c = mustParse(t, withTop("server:\n  tls:\n    acme:\n      domains: [a.example.com]\n      store: redis\n      agree_tos: true\n")+"redis: {addresses: ['127.0.0.1:6379']}\n", nil)
	if a := c.Server.TLS.ACME; a.Store != ACMEStoreRedis || a.Storage != "" {
		t.Errorf("store: redis without storage = %q, %q", a.Store, a.Storage)
	}

	c = mustParse(t, withTop("server:\n  tls:\n    acme:\n      domains: [a.example.com]\n      storage: /s\n      agree_tos: true\n"), nil)
	if got := c.Server.TLS.ACME.Challenges; !reflect.DeepEqual(got, []string{ChallengeTLSALPN01}) {
		t.Errorf("challenges without http_listen = %v, want [tls-alpn-01]", got)
	}
}
