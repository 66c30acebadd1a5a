package cfsign

import (
	"bufio"
	"crypto"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// vectorDirOf returns the folder of URLs signed by the real AWS CLI, beside the repository.
func vectorDirOf(tb testing.TB) string { return testenv.SharedTestdata(tb, "cloudfront") }

// vectorReasons are the expected refusal reasons of the deny rows we know by name; rows
// added later are still checked for refusal.
var vectorReasons = map[string]error{
	"custom-wildcard-ip-outside":   ErrWrongIP,
	"custom-wildcard-other-prefix": ErrResourceMismatch,
	"custom-not-yet-valid":         ErrNotYetValid,
	"canned-other-path":            ErrBadSignature,
	"canned-expires-tampered":      ErrBadSignature,
	"canned-extra-param-added":     ErrBadSignature,
}

// TestAWSCLIVectors: every allow row is accepted for its client address at any time in
// 2026-2098, every deny row refused (at times up to 2098-01-01: the not-yet-valid row
// becomes valid in mid-2098).
func TestAWSCLIVectors(t *testing.T) {
	vectorDir := vectorDirOf(t)
	keyPEM, err := os.ReadFile(filepath.Join(vectorDir, "public-key-K2JCJMDEHXQW5F.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(map[string]crypto.PublicKey{"K2JCJMDEHXQW5F": pub}, VerifierOptions{CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(vectorDir, "aws-cli-signed-urls.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	allowTimes := []time.Time{
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Now(),
		time.Date(2098, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	denyTimes := []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Now(), time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC)}
	rows := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("bad row %q", line)
		}
		name, expect, ip, signed := cols[0], cols[1], cols[2], cols[3]
		rows++
		t.Run(name, func(t *testing.T) {
			in := urlInput(t, signed)
			in.Client = netip.MustParseAddr(ip)
			times := allowTimes
			if expect == "deny" {
				times = denyTimes
			}
			for _, now := range times {
				in.Now = now
				res, err := v.Verify(in)
				switch expect {
				case "allow":
					if err != nil {
						t.Errorf("at %s: refused: %v", now.Format(time.RFC3339), err)
					} else if res.KeyID != "K2JCJMDEHXQW5F" || res.Hash != crypto.SHA1 {
						t.Errorf("result %+v", res)
					}
				case "deny":
					if err == nil {
						t.Errorf("at %s: accepted", now.Format(time.RFC3339))
					} else if want := vectorReasons[name]; want != nil && !errors.Is(err, want) {
						t.Errorf("at %s: got %v, want %v", now.Format(time.RFC3339), err, want)
					}
				default:
					t.Fatalf("expected column %q", expect)
				}
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// TestCustomPolicyJSONMatchesAWSCLI: the AWS CLI's custom policy from the vectors is
// reproduced byte for byte.
func TestCustomPolicyJSONMatchesAWSCLI(t *testing.T) {
	const cli = `{"Statement":[{"Resource":"https://media.example.com/private/*","Condition":{"DateLessThan":{"AWS:EpochTime":4070908800},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1577836800}}}]}`
	got, err := CustomPolicyJSON(Policy{
		Resource:        "https://media.example.com/private/*",
		DateLessThan:    time.Unix(4070908800, 0),
		DateGreaterThan: time.Unix(1577836800, 0),
		IPAddress:       netip.MustParsePrefix("192.0.2.0/24"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != cli {
		t.Errorf("got  %s\nwant %s", got, cli)
	}
	if EncodeBase64(got) != "eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cHM6Ly9tZWRpYS5leGFtcGxlLmNvbS9wcml2YXRlLyoiLCJDb25kaXRpb24iOnsiRGF0ZUxlc3NUaGFuIjp7IkFXUzpFcG9jaFRpbWUiOjQwNzA5MDg4MDB9LCJJcEFkZHJlc3MiOnsiQVdTOlNvdXJjZUlwIjoiMTkyLjAuMi4wLzI0In0sIkRhdGVHcmVhdGVyVGhhbiI6eyJBV1M6RXBvY2hUaW1lIjoxNTc3ODM2ODAwfX19XX0_" {
		t.Error("base64 differs from the AWS CLI's Policy parameter")
	}
}
