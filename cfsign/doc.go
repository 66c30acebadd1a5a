// Package cfsign signs and verifies Amazon CloudFront signed URLs and signed cookies in
// CloudFront's exact format, so code written for CloudFront (the AWS CLI, the AWS SDKs)
// works against gatehouse unchanged, and URLs gatehouse signs work on CloudFront.
//
// # Format
//
// A signature covers a policy: JSON naming a Resource (a URL pattern, see
// MatchResource) and conditions (DateLessThan, optional DateGreaterThan and IpAddress).
// A canned policy is never sent: the URL carries Expires and the verifier rebuilds the
// policy byte for byte from the requested URL (CannedPolicyJSON). A custom policy is sent
// in Policy, base64-encoded; the signature is checked over its bytes as received, and
// only then is it parsed (ParsePolicy, strictly). Policy and Signature use CloudFront's
// base64 (EncodeBase64, DecodeBase64). Signed URLs carry Expires or Policy, Signature,
// Key-Pair-Id and optionally Hash-Algorithm after the URL's own query; signed cookies
// carry the same values as CloudFront-Expires or CloudFront-Policy,
// CloudFront-Signature, CloudFront-Key-Pair-Id and CloudFront-Hash-Algorithm. URL
// parameters win over cookies; the two are never mixed.
//
// # Algorithms
//
// RSA keys sign with PKCS#1 v1.5 over SHA-1 (what every AWS signer emits by default) or,
// with Hash-Algorithm=SHA256, over SHA-256. CloudFront also accepts ECDSA P-256 keys.
// The AWS SDK for Go's URL signer (feature/cloudfront/sign) takes any crypto.Signer and
// always hashes with SHA-1, so given an *ecdsa.PrivateKey it produces Go's ASN.1 DER
// ECDSA signature over the SHA-1 digest, with no Hash-Algorithm parameter; this package
// signs ECDSA the same way (ASN.1 DER) and verifies such signatures with either hash
// (the tests check both against the SDK). The SDK's cookie signer takes RSA keys only.
//
// # Verifying
//
// A Verifier holds the trusted public keys by key ID and a bounded cache of signatures
// that verified, so the many requests of one page that share a cookie set cost one RSA
// verification; the time, address and resource conditions are checked on every request.
// Every refusal wraps one of the Err* reasons.
package cfsign
