package cfsign

import (
	"bytes"
	"crypto"
	"net/netip"
	"strings"
	"testing"
	"time"

	awssign "github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

// The AWS SDK for Go's CloudFront signer is the reference: what it signs, gatehouse
// verifies, and gatehouse's canned signatures are identical to its own.

func TestSDKCannedURLIdentical(t *testing.T) {
	loadKeys(t)
	sdk := awssign.NewURLSigner(testKeyA, rsaA)
	for _, raw := range []string{
		"https://media.example.com/private/report.pdf",
		"https://media.example.com/private/report.pdf?version=3&lang=en",
		"http://h:8080/a%20b/c~d",
	} {
		t.Run(raw, func(t *testing.T) {
			want, err := sdk.Sign(raw, testExpiry)
			if err != nil {
				t.Fatal(err)
			}
			got := mustSignURL(t, raw, testKeyA, rsaA, SignOptions{Expires: testExpiry})
			if got != want {
				t.Errorf("gatehouse %s\nAWS SDK   %s", got, want)
			}
			if _, err := newTestVerifier(t, 0).Verify(urlInput(t, want)); err != nil {
				t.Errorf("SDK URL refused: %v", err)
			}
		})
	}
	// The policy bytes themselves: the SDK's Policy.Sign signs the same JSON.
	sig, _, err := awssign.NewCannedPolicy("https://h/a", testExpiry).Sign(rsaA)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := Sign(CannedPolicyJSON("https://h/a", testExpiry), rsaA, crypto.SHA1)
	if err != nil {
		t.Fatal(err)
	}
	if mine != string(sig) {
		t.Errorf("canned signature differs:\n%s\n%s", mine, sig)
	}
}

func TestSDKCustomURL(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 100)
	sdk := awssign.NewURLSigner(testKeyB, rsaB)
	pol := &awssign.Policy{Statements: []awssign.Statement{{
		Resource: "https://media.example.com/videos/*",
		Condition: awssign.Condition{
			IPAddress:       &awssign.IPAddress{SourceIP: "2001:db8::/32"},
			DateGreaterThan: &awssign.AWSEpochTime{Time: testNow.Add(-time.Minute)},
			DateLessThan:    &awssign.AWSEpochTime{Time: testExpiry},
		},
	}}}
	signed, err := sdk.SignWithPolicy("https://media.example.com/videos/intro.mp4?quality=hd", pol)
	if err != nil {
		t.Fatal(err)
	}
	in := urlInput(t, signed)
	in.Client = netip.MustParseAddr("2001:db8:5::1")
	res, err := v.Verify(in)
	if err != nil {
		t.Fatalf("SDK custom URL refused: %v", err)
	}
	if res.Canned || res.Policy.Resource != "https://media.example.com/videos/*" || res.Policy.IPAddress != netip.MustParsePrefix("2001:db8::/32") {
		t.Errorf("result %+v", res)
	}
	// Its conditions hold.
	for name, edit := range map[string]func(*VerifyInput){
		"other address": func(in *VerifyInput) { in.Client = netip.MustParseAddr("2001:db9::1") },
		"too early":     func(in *VerifyInput) { in.Now = testNow.Add(-time.Hour) },
		"too late":      func(in *VerifyInput) { in.Now = testExpiry },
		"other folder":  func(in *VerifyInput) { in.Resource = "https://media.example.com/audio/a.mp3" },
	} {
		bad := in
		edit(&bad)
		if _, err := v.Verify(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSDKCookies(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 100)
	sdk := awssign.NewCookieSigner(testKeyA, rsaA)
	// Sign emits CloudFront-Policy even for a canned policy: a custom policy whose
	// Resource is the exact URL.
	canned, err := sdk.Sign("https://media.example.com/one.mp4", testExpiry)
	if err != nil {
		t.Fatal(err)
	}
	if canned[0].Name != CookiePolicy {
		t.Fatalf("SDK cookie names changed: %s", canned[0].Name)
	}
	if _, err := v.Verify(cookieInput("https://media.example.com/one.mp4", canned)); err != nil {
		t.Errorf("SDK canned cookies refused: %v", err)
	}
	if _, err := v.Verify(cookieInput("https://media.example.com/two.mp4", canned)); err == nil {
		t.Error("SDK canned cookies accepted for another URL")
	}
	pol := &awssign.Policy{Statements: []awssign.Statement{{
		Resource:  "https://media.example.com/gallery/*",
		Condition: awssign.Condition{DateLessThan: &awssign.AWSEpochTime{Time: testExpiry}},
	}}}
	custom, err := sdk.SignWithPolicy(pol)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"https://media.example.com/gallery/a.jpg", "https://media.example.com/gallery/2026/b.jpg?w=200"} {
		if _, err := v.Verify(cookieInput(r, custom)); err != nil {
			t.Errorf("SDK custom cookies refused for %s: %v", r, err)
		}
	}
	// And its Policy cookie is exactly what CustomPolicyJSON makes for the same policy
	// apart from condition order, which is free: both parse to the same thing.
	raw, err := DecodeBase64(custom[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := CustomPolicyJSON(*p)
	if !bytes.Equal(mine, raw) {
		t.Logf("layouts differ (allowed):\nSDK  %s\nmine %s", raw, mine)
	}
}

// TestSDKECDSA confirms the ECDSA format: the SDK's URL signer, handed an
// *ecdsa.PrivateKey, signs the SHA-1 digest with crypto.Signer and emits the ASN.1 DER
// signature (it starts with a SEQUENCE tag, 0x30); gatehouse verifies it.
func TestSDKECDSA(t *testing.T) {
	loadKeys(t)
	v := newTestVerifier(t, 0)
	sdk := awssign.NewURLSigner(testKeyEC, ecKey)
	for _, raw := range []string{"https://h/ec/a.jpg", "https://h/ec/b.jpg?x=1"} {
		signed, err := sdk.Sign(raw, testExpiry)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(signed, "Hash-Algorithm") {
			t.Errorf("SDK announced a hash: %s", signed)
		}
		sig, err := DecodeBase64(param(t, signed, "Signature"))
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) < 8 || sig[0] != 0x30 || int(sig[1]) != len(sig)-2 {
			t.Errorf("signature is not one DER SEQUENCE: %x", sig)
		}
		res, err := v.Verify(urlInput(t, signed))
		if err != nil || res.Hash != crypto.SHA1 || res.KeyID != testKeyEC {
			t.Errorf("SDK ECDSA URL: %+v, %v", res, err)
		}
	}
	// Gatehouse's ECDSA signatures have the same shape.
	signed := mustSignURL(t, "https://h/ec/c.jpg", testKeyEC, ecKey, SignOptions{Expires: testExpiry})
	sig, _ := DecodeBase64(param(t, signed, "Signature"))
	if sig[0] != 0x30 {
		t.Errorf("gatehouse ECDSA signature is not DER: %x", sig)
	}
}
