package main

import (
	"bufio"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// loopbackClient is the address wrk connects from. The allowlist holds it as a /32 among
// the generated prefixes, so every request is allowed by a full-depth lookup.
const loopbackClient = "127.0.0.1/32"

// cmdCIDRs writes the allowlist both contenders of the IP scenario load: every distinct
// prefix of AWS's ip-ranges.json, topped up to --count with prefixes generated
// deterministically in 10.0.0.0/8 and 2001:db8::/32 (as the ipauth Go benchmark does),
// plus the loopback client. --plain is one CIDR per line (gatehouse's ip.files format);
// --nginx is the same list as `CIDR 1;` lines for an nginx geo block.
func cmdCIDRs(args []string) error {
	fs := flag.NewFlagSet("cidrs", flag.ContinueOnError)
	aws := fs.String("aws", "", "AWS ip-ranges.json (optional: without it every prefix is generated)")
	count := fs.Int("count", 100_000, "number of prefixes")
	plain := fs.String("plain", "", "output: one CIDR per line")
	nginx := fs.String("nginx", "", "output: nginx geo lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *plain == "" || *nginx == "" {
		return errors.New("--plain and --nginx are required")
	}
	seen := map[netip.Prefix]bool{}
	var list []netip.Prefix
	add := func(p netip.Prefix) {
		if !seen[p] {
			seen[p] = true
			list = append(list, p)
		}
	}
	add(netip.MustParsePrefix(loopbackClient))
	fromAWS := 0
	if *aws != "" {
		ps, err := readAWSPrefixes(*aws)
		if err != nil {
			return err
		}
		for _, p := range ps {
			add(p)
		}
		fromAWS = len(list) - 1
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	for len(list) < *count {
		if rng.IntN(2) == 0 {
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			add(netip.PrefixFrom(a, 20+rng.IntN(13)).Masked())
		} else {
			var s [16]byte
			s[0], s[1], s[2], s[3] = 0x20, 0x01, 0x0d, 0xb8
			for i := 4; i < 8; i++ {
				s[i] = byte(rng.IntN(256))
			}
			add(netip.PrefixFrom(netip.AddrFrom16(s), 40+rng.IntN(25)).Masked())
		}
	}
	if err := writeLines(*plain, list, func(p netip.Prefix) string { return p.String() }); err != nil {
		return err
	}
	if err := writeLines(*nginx, list, func(p netip.Prefix) string { return p.String() + " 1;" }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d prefixes (%d from AWS ip-ranges.json, 1 loopback client, the rest generated)\n", len(list), fromAWS)
	return nil
}

func readAWSPrefixes(path string) ([]netip.Prefix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Prefixes []struct {
			IPPrefix string `json:"ip_prefix"`
		} `json:"prefixes"`
		IPv6Prefixes []struct {
			IPv6Prefix string `json:"ipv6_prefix"`
		} `json:"ipv6_prefixes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []netip.Prefix
	for _, p := range doc.Prefixes {
		pf, err := netip.ParsePrefix(p.IPPrefix)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, pf.Masked())
	}
	for _, p := range doc.IPv6Prefixes {
		pf, err := netip.ParsePrefix(p.IPv6Prefix)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}

func writeLines[T any](path string, items []T, line func(T) string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, it := range items {
		w.WriteString(line(it))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cmdJWT makes an RSA-2048 key, its JWKS (jwks.json) and one RS256 token (token.txt)
// valid for a week, with the claims both gatehouse's jwt authenticator and oauth2-proxy's
// bearer-token verifier check: iss, aud, sub, email, email_verified, iat, exp.
func cmdJWT(args []string) error {
	fs := flag.NewFlagSet("jwt", flag.ContinueOnError)
	dir := fs.String("dir", "", "output folder")
	issuer := fs.String("issuer", "", "iss")
	audience := fs.String("audience", "", "aud")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *issuer == "" || *audience == "" {
		return errors.New("--dir, --issuer and --audience are required")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	const kid = "bench-1"
	b64 := base64.RawURLEncoding
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": b64.EncodeToString(key.N.Bytes()),
		"e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	now := time.Now()
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	claims, _ := json.Marshal(map[string]any{
		"iss": *issuer, "aud": *audience, "sub": "bench-user", "email": "bench@example.com",
		"email_verified": true, "iat": now.Unix(), "exp": now.Add(7 * 24 * time.Hour).Unix(),
	})
	signingInput := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return err
	}
	token := signingInput + "." + b64.EncodeToString(sig)
	jb, _ := json.MarshalIndent(jwks, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, "jwks.json"), jb, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*dir, "token.txt"), []byte(token+"\n"), 0o644)
}

// cmdJWKSServe serves one file (the key set) on every path until killed: the issuer's
// JWKS endpoint for gatehouse and oauth2-proxy, on loopback.
func cmdJWKSServe(args []string) error {
	fs := flag.NewFlagSet("jwks-serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	file := fs.String("file", "", "the JWKS file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// cmdSigned writes --count CloudFront-format signed URLs for the same --url, one path and
// query per line. Each has its own expiry (a day ahead plus i seconds), so each carries
// its own signature: --count 1000 gives the "1,000 distinct URLs" variant.
func cmdSigned(args []string) error {
	fs := flag.NewFlagSet("signed", flag.ContinueOnError)
	keyFile := fs.String("key", "", "private key PEM")
	keyID := fs.String("key-id", "", "Key-Pair-Id")
	rawURL := fs.String("url", "", "the URL to sign (as the client will request it)")
	count := fs.Int("count", 1, "number of distinct URLs")
	out := fs.String("out", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pemBytes, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	key, err := cfsign.ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		return err
	}
	base := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	lines := make([]string, 0, *count)
	for i := range *count {
		s, err := cfsign.SignURL(*rawURL, *keyID, key, cfsign.SignOptions{Expires: base.Add(time.Duration(i) * time.Second)})
		if err != nil {
			return err
		}
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		lines = append(lines, u.RequestURI())
	}
	return writeLines(*out, lines, func(s string) string { return s })
}

// cmdSecureLink writes --count nginx secure_link URLs for --path, one per line, for the
// configuration `secure_link $arg_md5,$arg_expires; secure_link_md5
// "$secure_link_expires$uri SECRET";`: md5 is the unpadded base64url MD5 of
// expires, path, a space and the secret. Expiries differ as in cmdSigned.
func cmdSecureLink(args []string) error {
	fs := flag.NewFlagSet("securelink", flag.ContinueOnError)
	secret := fs.String("secret", "", "the shared secret")
	path := fs.String("path", "", "the URL path")
	count := fs.Int("count", 1, "number of distinct URLs")
	out := fs.String("out", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := time.Now().Add(24 * time.Hour).Unix()
	lines := make([]string, 0, *count)
	for i := range *count {
		exp := base + int64(i)
		sum := md5.Sum(fmt.Appendf(nil, "%d%s %s", exp, *path, *secret))
		lines = append(lines, fmt.Sprintf("%s?md5=%s&expires=%d", *path, base64.RawURLEncoding.EncodeToString(sum[:]), exp))
	}
	return writeLines(*out, lines, func(s string) string { return s })
}

// cmdHtpasswd writes one "user:bcrypt-hash" line, at any cost bcrypt allows (gatehouse
// passwd offers 10 to 14; Apache's `htpasswd -B`, which nginx's documentation points to,
// writes cost 5 unless told otherwise).
func cmdHtpasswd(args []string) error {
	fs := flag.NewFlagSet("htpasswd", flag.ContinueOnError)
	user := fs.String("user", "", "user name")
	password := fs.String("password", "", "password (test data only)")
	cost := fs.Int("cost", 5, "bcrypt cost")
	out := fs.String("out", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *password == "" || *out == "" {
		return errors.New("--user, --password and --out are required")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(*password), *cost)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(*user+":"+string(h)+"\n"), 0o644)
}

// cmdRanges writes --count Range requests on --path, one per line as "PATH<TAB>Range:
// bytes=FIRST-LAST" (bench.lua's format): --length bytes each, at offsets drawn with a
// fixed seed, uniformly over an object of --size bytes and not aligned to anything, so
// that a range usually straddles two cache slices, as a video player's seeks do.
func cmdRanges(args []string) error {
	fs := flag.NewFlagSet("ranges", flag.ContinueOnError)
	path := fs.String("path", "", "the URL path")
	size := fs.Int64("size", 0, "the object's size in bytes")
	length := fs.Int64("length", 1<<20, "bytes per range")
	count := fs.Int("count", 1000, "number of ranges")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || *out == "" || *size <= 0 || *length <= 0 || *length > *size || *count <= 0 {
		return errors.New("--path, --out, --size > 0 and 0 < --length <= --size are required")
	}
	rng := mrand.New(mrand.NewPCG(*seed, 0))
	lines := make([]string, 0, *count)
	for range *count {
		first := rng.Int64N(*size - *length + 1)
		lines = append(lines, fmt.Sprintf("%s\tRange: bytes=%d-%d", *path, first, first+*length-1))
	}
	return writeLines(*out, lines, func(s string) string { return s })
}
