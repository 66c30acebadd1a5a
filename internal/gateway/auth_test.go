package gateway_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// issuer is a minimal OpenID issuer: a JWKS endpoint and a key to mint tokens with.
type issuer struct {
	*httptest.Server
	key *rsa.PrivateKey
	kid string
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, kid: "test-key-1"}
	is.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: is.kid, Algorithm: "RS256", Use: "sig"}}}
		json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(is.Close)
	return is
}

// token mints an RS256 token shaped like a Cognito ID token.
func (is *issuer) token(t *testing.T, groups []string, ttl time.Duration) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", is.kid))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{
		"iss": is.URL, "aud": "app-client", "sub": "user-42", "token_use": "id",
		"exp": now.Add(ttl).Unix(), "iat": now.Add(-time.Minute).Unix(),
		"email": "student@example.com", "email_verified": true, "cognito:groups": groups,
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAuthEndToEnd runs real authenticators in front of a real MinIO: a JWT route (header,
// query parameter), a route requiring Basic auth AND a JWT, and one accepting either.
func TestAuthEndToEnd(t *testing.T) {
	needMinIO(t)
	is := newIssuer(t)
	yml := fmt.Sprintf(`
origins:
  assets:
    s3: {bucket: assets, endpoint: "${MINIO_ENDPOINT}", path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - path: /jwt/*
    origin: assets
    strip_prefix: /jwt
    auth:
      methods:
        - name: cognito
          jwt:
            issuer: %[1]q
            jwks_url: %[1]q
            audiences: [app-client]
            token_use: id
            query_param: authorization
            claims:
              - {claim: "cognito:groups", contains: students}
  - path: /both/*
    origin: assets
    strip_prefix: /both
    auth:
      mode: all
      methods:
        - basic: {users: {alice: "%[2]s"}}
        - jwt: {issuer: %[1]q, jwks_url: %[1]q, audiences: [app-client]}
  - path: /either/*
    origin: assets
    strip_prefix: /either
    auth:
      mode: any
      methods:
        - basic: {users: {alice: "%[2]s"}}
        - jwt: {issuer: %[1]q, jwks_url: %[1]q, audiences: [app-client]}
`, is.URL, aliceFastHash)
	g := startGateway(t, yml, map[string]string{"MINIO_ENDPOINT": minio.Endpoint, "MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})
	student := is.token(t, []string{"students"}, time.Hour)
	teacher := is.token(t, []string{"teachers"}, time.Hour)
	expired := is.token(t, []string{"students"}, -time.Hour)
	basic := "Basic YWxpY2U6d29uZGVybGFuZA==" // alice:wonderland
	wrongBasic := "Basic YWxpY2U6bm9wZQ=="    // alice:nope

	for _, tc := range []struct {
		name, path string
		hdr        []string
		status     int
		challenge  string
	}{
		{"jwt: header", "/jwt/hello.txt", []string{"Authorization: Bearer " + student}, 200, ""},
		{"jwt: query parameter", "/jwt/hello.txt?authorization=" + student, nil, 200, ""},
		{"jwt: none", "/jwt/hello.txt", nil, 401, "Bearer"},
		{"jwt: expired", "/jwt/hello.txt", []string{"Authorization: Bearer " + expired}, 401, `error="invalid_token"`},
		{"jwt: garbage", "/jwt/hello.txt", []string{"Authorization: Bearer a.b.c"}, 401, `error="invalid_token"`},
		{"jwt: valid but not a student", "/jwt/hello.txt", []string{"Authorization: Bearer " + teacher}, 403, ""},
		{"all: basic alone is not enough", "/both/hello.txt", []string{"Authorization: " + basic}, 401, "Bearer"},
		{"any: basic alone", "/either/hello.txt", []string{"Authorization: " + basic}, 200, ""},
		{"any: wrong password", "/either/hello.txt", []string{"Authorization: " + wrongBasic}, 401, "Basic"},
		{"any: jwt alone", "/either/hello.txt", []string{"Authorization: Bearer " + teacher}, 200, ""},
		{"any: nothing", "/either/hello.txt", nil, 401, "Basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.do(t, "GET", tc.path, tc.hdr...)
			wantStatus(t, resp, tc.status)
			if tc.status == 200 && body != helloTxt {
				t.Errorf("body %q", body)
			}
			if tc.status != 200 && strings.Contains(body, helloTxt) {
				t.Errorf("denied response carries the object")
			}
			if ch := strings.Join(resp.Header.Values("WWW-Authenticate"), " | "); !strings.Contains(ch, tc.challenge) {
				t.Errorf("WWW-Authenticate %q lacks %q", ch, tc.challenge)
			}
		})
	}
	// mode all, the other way round: the JWT passes, Basic is missing.
	resp, _ := g.do(t, "GET", "/both/hello.txt", "Authorization: Bearer "+student)
	wantStatus(t, resp, 401)
	if ch := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Basic") {
		t.Errorf("mode all, basic missing: challenge %q", ch)
	}
	log := g.access.String()
	if strings.Contains(log, student) || strings.Contains(log, "authorization=") {
		t.Error("a token reached the access log")
	}
	if !strings.Contains(log, `"user":"user-42"`) || !strings.Contains(log, `"user":"alice"`) {
		t.Errorf("access log lacks the identities:\n%s", log)
	}
}

// aliceHash is bcrypt("wonderland") at cost 10, for tests about costs.
const aliceHash = "$2a$10$AjTIRgeIz740z7wbfjVl8unpqxQ0cepcCkH4Tr6VVhq/PWqNgXmKq"

// aliceFastHash is bcrypt("wonderland") at cost 4 (the lowest accepted), for tests of
// everything else: under -race a cost-10 check takes about 0.2 s, and every refusal
// hashes once more.
const aliceFastHash = "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."
