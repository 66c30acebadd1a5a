package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
)

// RSAKeyBits is the size of RSA keys GenerateKey makes: the size CloudFront accepts.
const RSAKeyBits = 2048

// GenerateKey makes a new signing key of a kind CloudFront accepts: "rsa" (RSA-2048) or
// "ecdsa" (ECDSA P-256).
func GenerateKey(kind string) (crypto.Signer, error) {
	switch kind {
	case "rsa":
		return rsa.GenerateKey(rand.Reader, RSAKeyBits)
	case "ecdsa":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("unknown key type %q (want rsa or ecdsa)", kind)
}

// checkPublicKey accepts RSA keys of at least 2048 bits and ECDSA P-256 keys, the kinds
// CloudFront accepts (RSA keys larger than 2048 bits are accepted here; CloudFront itself
// takes 2048 only).
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < RSAKeyBits {
			return fmt.Errorf("RSA key of %d bits: at least %d required", k.N.BitLen(), RSAKeyBits)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ECDSA key on %s: only P-256 is supported", k.Curve.Params().Name)
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T (want RSA or ECDSA P-256)", pub)
}

// MarshalPrivateKeyPEM encodes a key made by GenerateKey: RSA keys as PKCS#1 ("RSA
// PRIVATE KEY", what `openssl genrsa` traditionally wrote and what the AWS SDK for Go's
// LoadPEMPrivKey reads), ECDSA keys as PKCS#8 ("PRIVATE KEY").
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// ParsePrivateKeyPEM reads an unencrypted private key from the first PEM block in data:
// PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). The key
// must be RSA (2048 bits or more) or ECDSA P-256.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, err := onePEM(data)
	if err != nil {
		return nil, err
	}
	if block.Headers["Proc-Type"] != "" || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("encrypted private keys are not supported: decrypt it first (openssl pkey)")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	if err := checkPublicKey(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// MarshalPublicKeyPEM encodes a public key as PKIX ("PUBLIC KEY"), the form CloudFront's
// console and API take.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeyPEM reads a public key from the first PEM block in data: PKIX ("PUBLIC
// KEY") or PKCS#1 ("RSA PUBLIC KEY"). The key must be RSA (2048 bits or more) or ECDSA
// P-256.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, err := onePEM(data)
	if err != nil {
		return nil, err
	}
	var pub crypto.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key (want PUBLIC KEY or RSA PUBLIC KEY)", block.Type)
	}
	if err != nil {
		return nil, err
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// onePEM returns the only PEM block in data; a second block is an error, so a file
// holding several keys is never read as its first one by accident.
func onePEM(data []byte) (*pem.Block, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	if b, _ := pem.Decode(rest); b != nil {
		return nil, errors.New("more than one PEM block")
	}
	return block, nil
}

// DeriveKeyID returns a key ID derived from a public key: "K" followed by the first 13
// characters of the base32 SHA-256 of its PKIX DER encoding, upper case, 14 characters
// like CloudFront's IDs. This is gatehouse's own convention (`gatehouse keygen` prints
// it): CloudFront assigns IDs itself when a key is uploaded, and a key used with both
// must use CloudFront's ID in gatehouse's key_groups too.
func DeriveKeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "K" + base32.StdEncoding.EncodeToString(sum[:])[:13], nil
}
