package upload

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// FuzzParseUppyPath: whatever the method and path, a parsed call names a known
// operation, a part number in 1..MaxParts when it signs one, and an upload id of the
// allowed characters when it names one.
func FuzzParseUppyPath(f *testing.F) {
	for _, s := range []string{"s3/params", "s3/multipart", "s3/multipart/abc", "s3/multipart/abc/7", "s3/multipart/abc/complete", "s3/multipart/abc/batch", "s3/multipart/a/0010", "s3/multipart//1", "s3/multipart/a b/1"} {
		f.Add("GET", s)
		f.Add("POST", s)
	}
	f.Fuzz(func(t *testing.T, method, sub string) {
		u, err := parseUppyPath(method, sub)
		if err != nil {
			return
		}
		switch u.op {
		case "params", "create":
			if u.uploadID != "" {
				t.Fatalf("%s with an upload id %q", u.op, u.uploadID)
			}
		case "sign":
			if u.part < 1 || u.part > origin.MaxParts {
				t.Fatalf("part %d from %q", u.part, sub)
			}
			fallthrough
		case "list", "abort", "complete", "batch":
			if checkUploadID(u.uploadID) != nil || strings.ContainsAny(u.uploadID, "/%?#") {
				t.Fatalf("upload id %q from %q", u.uploadID, sub)
			}
		default:
			t.Fatalf("op %q from %s %q", u.op, method, sub)
		}
	})
}

// FuzzParseCompleteBody: an accepted body lists 1..MaxParts parts, strictly ascending
// numbers in 1..MaxParts, each with a printable ETag.
func FuzzParseCompleteBody(f *testing.F) {
	f.Add([]byte(`{"parts":[{"PartNumber":1,"ETag":"\"abc\""},{"PartNumber":2,"ETag":"x"}]}`))
	f.Add([]byte(`{"parts":[{"PartNumber":"1","ETag":"a"}]}`))
	f.Add([]byte(`{"parts":[{"PartNumber":1e3,"ETag":"a"},{"PartNumber":-1,"ETag":"b"}]}`))
	f.Add([]byte(`{"parts":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		parts, err := parseCompleteBody(body)
		if err != nil {
			return
		}
		if len(parts) == 0 || len(parts) > origin.MaxParts {
			t.Fatalf("%d parts", len(parts))
		}
		for i, p := range parts {
			if p.Number < 1 || p.Number > origin.MaxParts || (i > 0 && p.Number <= parts[i-1].Number) || p.ETag == "" {
				t.Fatalf("parts %+v", parts)
			}
		}
	})
}

// FuzzParseCreateBody and FuzzParsePartNumbers: never a panic; what is accepted is
// within bounds.
func FuzzParseCreateBody(f *testing.F) {
	f.Add([]byte(`{"filename":"a.bin","type":"application/octet-stream","metadata":{"name":"a.bin","relativePath":null}}`))
	f.Add([]byte(`{"filename":"a","size":-1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := parseCreateBody(body)
		if err == nil && (b.Filename == "" || (b.Size != nil && *b.Size < 0)) {
			t.Fatalf("accepted %+v", b)
		}
	})
}

func FuzzParsePartNumbers(f *testing.F) {
	f.Add("1,2,3")
	f.Add("1,1")
	f.Add(",")
	f.Fuzz(func(t *testing.T, s string) {
		nums, err := parsePartNumbers(s)
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, n := range nums {
			if n < 1 || n > origin.MaxParts || seen[n] {
				t.Fatalf("%q gave %v", s, nums)
			}
			seen[n] = true
		}
		if len(nums) == 0 || len(nums) > maxBatch {
			t.Fatalf("%q gave %d numbers", s, len(nums))
		}
	})
}
