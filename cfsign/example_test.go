package cfsign_test

import (
	"crypto"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// examplePrivateKeyPEM is an RSA-2048 key made for these examples only, so their output
// is fixed: RSA PKCS#1 v1.5 signatures are deterministic. Never trust it anywhere.
const examplePrivateKeyPEM = `-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA19inmeunoAXML0jMmyRMMeN7Lr/Ko09uhdyBED8NlsmGKclm
2wUtFbwp7xdHPlQUBJeJwg92eICjpdynOqMh9FCaCA8e+b4W9y09FXI2qN/1LawG
9xdqUPcnmvGEhDBYM2wU53UmjiCgYoxhPxJ4CK5lfwbx6/R5HsDeZpK/YQUtV/xE
0TMPuUd+aRzfigPzvMKb0OSRhBCL240ibvrTSCTzlLQlF7NtSNOSAyzaV4ckqI0B
xKkXrCXzR3WUNlnp+a/QZUKXUpbK0MS3zebf0UhRDjJP5368H5Wb5tjVAJoUgrh7
Z969bB5piTjVq4gn60haJaT4QClqZWm4FPDS3wIDAQABAoIBAE56r0GnLZzgzsM4
eHBGK9AN0mmGgXKMfHZ+XIzgKBw1rKq/2D51LNXUwvh0Icq3PkoHISbmgWBCAX5a
cpE+5CcVMVQRz2TlqSr5D1cfXmFbgKU5AZVQta63lnZfLxvzCfa0awtXDIwrr7T1
LpyEphEd+7hKeaadjnZQkOyBmcT3tkdK1qPpFx5sikGOXypobgpNEDd3b9xSal81
cWzzMadIxxe3OF8H3wLDVvHa8a6DgXSBwOH096CVblvo8CteBZtSpqfJ1uLwRTB6
BM0USKd302bkbmT43gQCf55jN/c/C9+6MQKf7AveT0u/yWE1c8Uygxb9WjlNc4bo
jqU6ISUCgYEA9szTRfVpxDiGUvY9UVRieX7a9cY1DGSKAuov+jK93UYTzZKyKT/P
/WHey4C4a+iwIoMVRrLYzrb12SW9EbeY2WlqtrW3Tfpt6iJf+ASglicirZ4mPe8v
NPmCJGMNmfHbn07/P89Os7QpH/ZALVAWAQg13p9H+bg7ZT20QxjK+iUCgYEA3+Rx
NVHZTWYlkLGf0rOG1vdIIp3wW8eVB/duOL/GLM+CVPessNBWq7hebJW9j8Jy27/K
IPPlDnhOOM+yX9gh02Rf9YuiWyztKKz74oYqLi+CynHb9T+YjnuB+PP2ZN8WATqk
QlFkurVOWqZxYrlCaIW9rRWVq0HF8u4tQwfAz7MCgYASUhgo7FPiphOKmw7oN6xr
ungEoKcVeW0pVDslhpjDkU0tCIPDPiJxe89vKeoG0KoqlbKBogsoJTrQ2NVVOFzX
XtT2JT0rQ7jfFZgsMCO/ob4YR1ItbNEDTLZVfyjmUabtB485LGl6O5iF7+DJvFU1
1GczVH2iUwPNuyvjgzamJQKBgQCSWmoGSLKbfaIgq3ul5+TEsHBe8I8l75jj1EIg
pnuM3zh7AkvIaOe+6I4QvPFk/97E9uHSGJwqkUnQqTQYote5r2tqvxQqNXvxkuI0
eS8pcbU1UKhP8Hpw6RtU+WSfG5TuyL6G+121Dr9hUlvcBO38FTCf6/QiNqSG4FqF
7pODMQKBgQDoeoBx8tipPwEfrOKcNPfv9d+5Q46MwrIJOSPwac0IRNTiYCelpY7Q
P2UJs7oE9ogGn+5IXKqTwq++O/TqAxYY2mpezpRczqsWebrSslmBY39na0BA2+Dz
jbpnbRvjvthDsaZO0YbywMnxGPW4y6fExoX7JTE2nOwpxuvPMACS3g==
-----END RSA PRIVATE KEY-----
`

// exampleKeyID is the Key-Pair-Id the examples sign for.
const exampleKeyID = "KEXAMPLEKEYID1"

// exampleKey parses examplePrivateKeyPEM.
func exampleKey() crypto.Signer {
	key, err := cfsign.ParsePrivateKeyPEM([]byte(examplePrivateKeyPEM))
	if err != nil {
		log.Fatal(err)
	}
	return key
}

// SignURL with only an expiry gives a canned-policy URL, identical to what the AWS CLI
// (aws cloudfront sign) and the AWS SDKs produce for the same URL, expiry and key.
func ExampleSignURL() {
	signed, err := cfsign.SignURL("https://files.example.com/reports/2026.pdf?download=1", exampleKeyID, exampleKey(),
		cfsign.SignOptions{Expires: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(signed)
	// Output:
	// https://files.example.com/reports/2026.pdf?download=1&Expires=1780272000&Signature=Nz4tW1K-ItYevPHwWmKqZQcHzZlJ1vw2p9ms3dp6AaPqv56re1lmF1JC6ut-ir6M3ph4qQ-Rn3GBPHVsoWHfNyfmKZMiuRnUrI8Xj-g-BSQJjxn7Y1R72j2CcFOAm052ON~NzSiOqe~Hx4lcUBQX-R5pyykKbsXoN6zX7n96C0j86yoNEThdXFOGWZTFd3s4cR9yDmfiCAMtXi~UIWkyqvCz4a4BGwpNrRt9rUTKxPWbU3Lnez~~u3b~KCF3r2ZMpTe-9uc-KUwrEJtenHFRAa~ybXv9I-91ykwAyQu1aKw73Dud~1i1chrp6OwfKq-7i~ZRhXSbBZsywi3kVw5FzQ__&Key-Pair-Id=KEXAMPLEKEYID1
}

// A Resource with a wildcard, a start time or an address range makes a custom policy,
// sent with the URL in Policy.
func ExampleSignURL_customPolicy() {
	signed, err := cfsign.SignURL("https://files.example.com/reports/2026.pdf", exampleKeyID, exampleKey(), cfsign.SignOptions{
		Resource: "https://files.example.com/reports/*",
		Expires:  time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		IP:       netip.MustParsePrefix("192.0.2.0/24"),
		Hash:     crypto.SHA256,
	})
	if err != nil {
		log.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		log.Fatal(err)
	}
	policy, err := cfsign.DecodeBase64(u.Query().Get(cfsign.ParamPolicy))
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, param := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(param, "=")
		names = append(names, name)
	}
	fmt.Println(strings.Join(names, ", "))
	fmt.Printf("%s\n", policy)
	// Output:
	// Policy, Signature, Key-Pair-Id, Hash-Algorithm
	// {"Statement":[{"Resource":"https://files.example.com/reports/*","Condition":{"DateLessThan":{"AWS:EpochTime":1780272000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}
}

// SignCookies gives the CloudFront-* cookie set for a resource pattern: one sign-in
// covers every URL the pattern matches.
func ExampleSignCookies() {
	cookies, err := cfsign.SignCookies(exampleKeyID, exampleKey(), cfsign.SignOptions{
		Resource: "https://files.example.com/reports/*",
		Expires:  time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range cookies {
		value := c.Value
		if c.Name == cfsign.CookiePolicy {
			policy, err := cfsign.DecodeBase64(c.Value)
			if err != nil {
				log.Fatal(err)
			}
			value = "base64 of " + string(policy)
		}
		if c.Name == cfsign.CookieSignature {
			value = value[:20] + "..." // 344 characters for RSA-2048
		}
		fmt.Printf("%s: %s (Path=%s Secure=%t HttpOnly=%t)\n", c.Name, value, c.Path, c.Secure, c.HttpOnly)
	}
	// Output:
	// CloudFront-Policy: base64 of {"Statement":[{"Resource":"https://files.example.com/reports/*","Condition":{"DateLessThan":{"AWS:EpochTime":1780272000}}}]} (Path=/ Secure=true HttpOnly=true)
	// CloudFront-Signature: vC-V7bs6Rztict5LrXvP... (Path=/ Secure=true HttpOnly=true)
	// CloudFront-Key-Pair-Id: KEXAMPLEKEYID1 (Path=/ Secure=true HttpOnly=true)
}

// A Verifier checks a request's URL parameters (or, when there are none, its
// CloudFront-* cookies) against the trusted keys; every refusal wraps one of the Err*
// reasons.
func ExampleVerifier() {
	key := exampleKey()
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{exampleKeyID: key.Public()}, cfsign.VerifierOptions{CacheSize: 1000})
	if err != nil {
		log.Fatal(err)
	}
	expires := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	signed, err := cfsign.SignURL("https://files.example.com/reports/2026.pdf?download=1", exampleKeyID, key, cfsign.SignOptions{Expires: expires})
	if err != nil {
		log.Fatal(err)
	}

	// verify rebuilds the resource as the signer saw it and checks the request at now.
	verify := func(rawURL string, now time.Time) (cfsign.Result, error) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return cfsign.Result{}, err
		}
		resource := u.Scheme + "://" + u.Host + u.EscapedPath()
		if q := cfsign.StripQuery(u.RawQuery); q != "" {
			resource += "?" + q
		}
		query, err := cfsign.QueryCredentials(u.RawQuery)
		if err != nil {
			return cfsign.Result{}, err
		}
		return v.Verify(cfsign.VerifyInput{Resource: resource, Query: query, Client: netip.MustParseAddr("203.0.113.9"), Now: now})
	}

	res, err := verify(signed, expires.Add(-time.Hour))
	fmt.Printf("an hour before: key %s, canned %t, err %v\n", res.KeyID, res.Canned, err)
	res, err = verify(signed, expires.Add(-time.Minute))
	fmt.Printf("again: cached %t, err %v\n", res.Cached, err)
	_, err = verify(signed, expires)
	fmt.Printf("at the expiry: expired %t (%v)\n", errors.Is(err, cfsign.ErrExpired), err)
	_, err = verify(strings.Replace(signed, "2026.pdf", "2025.pdf", 1), expires.Add(-time.Hour))
	fmt.Printf("another file: bad signature %t\n", errors.Is(err, cfsign.ErrBadSignature))
	// Output:
	// an hour before: key KEXAMPLEKEYID1, canned true, err <nil>
	// again: cached true, err <nil>
	// at the expiry: expired true (expired at 2026-06-01T00:00:00Z)
	// another file: bad signature true
}

// MatchResource applies CloudFront's wildcard rules to a policy's Resource.
func ExampleMatchResource() {
	for _, resource := range []string{
		"https://files.example.com/reports/2026.pdf",
		"https://files.example.com/reports/q1/2026.pdf?download=1",
		"https://files.example.com/other/2026.pdf",
		"http://files.example.com/reports/2026.pdf",
	} {
		fmt.Println(cfsign.MatchResource("https://files.example.com/reports/*", resource), resource)
	}
	// Output:
	// true https://files.example.com/reports/2026.pdf
	// true https://files.example.com/reports/q1/2026.pdf?download=1
	// false https://files.example.com/other/2026.pdf
	// false http://files.example.com/reports/2026.pdf
}
