package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"strings"
	"testing"
)

func TestKeysRoundTrip(t *testing.T) {
	loadKeys(t)
	for name, key := range map[string]crypto.Signer{"rsa": rsaA, "ecdsa": ecKey} {
		t.Run(name, func(t *testing.T) {
			priv, err := MarshalPrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePrivateKeyPEM(priv)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := MarshalPublicKeyPEM(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(pub), "-----BEGIN PUBLIC KEY-----") {
				t.Errorf("public PEM %s", pub)
			}
			pk, err := ParsePublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			id1, _ := DeriveKeyID(pk)
			id2, _ := DeriveKeyID(back.Public())
			if id1 != id2 || !regexp.MustCompile(`^K[A-Z2-7]{13}$`).MatchString(id1) {
				t.Errorf("key IDs %q %q", id1, id2)
			}
		})
	}
	block, _ := pem.Decode(mustPEM(t, rsaA))
	if block.Type != "RSA PRIVATE KEY" {
		t.Errorf("RSA private key written as %s, want PKCS#1", block.Type)
	}
}

func mustPEM(t *testing.T, k *rsa.PrivateKey) []byte {
	b, err := MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseKeysFormats(t *testing.T) {
	loadKeys(t)
	pkcs1Pub := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaA.PublicKey)})
	if _, err := ParsePublicKeyPEM(pkcs1Pub); err != nil {
		t.Errorf("PKCS#1 public key: %v", err)
	}
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	if _, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})); err != nil {
		t.Errorf("SEC 1 key: %v", err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaA)
	if _, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})); err != nil {
		t.Errorf("PKCS#8 RSA key: %v", err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	smallPub, _ := MarshalPublicKeyPEM(&small.PublicKey)
	p384Pub, _ := MarshalPublicKeyPEM(&p384.PublicKey)
	rsaPub, _ := MarshalPublicKeyPEM(&rsaA.PublicKey)
	bad := map[string][]byte{
		"rsa-1024":    smallPub,
		"p-384":       p384Pub,
		"no pem":      []byte("hello"),
		"two blocks":  append(append([]byte{}, rsaPub...), rsaPub...),
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		"private key": mustPEM(t, rsaA),
	}
	for name, data := range bad {
		if _, err := ParsePublicKeyPEM(data); err == nil {
			t.Errorf("public %s accepted", name)
		}
	}
	badPriv := map[string][]byte{
		"encrypted":  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}),
		"pkcs8 enc":  pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}),
		"public key": rsaPub,
		"rsa-1024":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}),
	}
	for name, data := range badPriv {
		if _, err := ParsePrivateKeyPEM(data); err == nil {
			t.Errorf("private %s accepted", name)
		}
	}
	if _, err := GenerateKey("dsa"); err == nil {
		t.Error("GenerateKey(dsa) succeeded")
	}
	if _, err := Sign([]byte("x"), small, 0); err == nil {
		t.Error("Sign with RSA-1024 succeeded")
	}
}
