package gateway

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParseChecksums(t *testing.T) {
	const (
		md5   = "XUFAKrxLKna5cZ2REBfFkg==" // md5("hello")
		crc   = "NhCmhg=="                 // crc32("hello")
		sha   = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
		short = "AAAA"
	)
	cases := []struct {
		name string
		h    http.Header
		want origin.Checksums
		bad  bool
	}{
		{"none", header(), origin.Checksums{}, false},
		{"md5", header("Content-MD5", md5), origin.Checksums{MD5: md5}, false},
		{"crc32", header("x-amz-checksum-crc32", crc), origin.Checksums{Algorithm: origin.CRC32, Value: crc}, false},
		{"crc32c", header("X-Amz-Checksum-Crc32c", crc), origin.Checksums{Algorithm: origin.CRC32C, Value: crc}, false},
		{"sha256 and md5", header("x-amz-checksum-sha256", sha, "Content-MD5", md5), origin.Checksums{MD5: md5, Algorithm: origin.SHA256, Value: sha}, false},
		{"algorithm and type are names, ignored", header("x-amz-checksum-algorithm", "CRC32", "x-amz-checksum-type", "FULL_OBJECT"), origin.Checksums{}, false},
		{"md5 malformed", header("Content-MD5", "nope"), origin.Checksums{}, true},
		{"md5 wrong length", header("Content-MD5", short), origin.Checksums{}, true},
		{"md5 empty", header("Content-MD5", ""), origin.Checksums{}, true},
		{"md5 twice", header("Content-MD5", md5, "Content-MD5", md5), origin.Checksums{}, true},
		{"crc32 twice", header("x-amz-checksum-crc32", crc, "x-amz-checksum-crc32", crc), origin.Checksums{}, true},
		{"two algorithms", header("x-amz-checksum-crc32", crc, "x-amz-checksum-crc32c", crc), origin.Checksums{}, true},
		{"sha256 of a crc's length", header("x-amz-checksum-sha256", crc), origin.Checksums{}, true},
		{"empty value", header("x-amz-checksum-crc32", ""), origin.Checksums{}, true},
		{"unverified crc64nvme", header("x-amz-checksum-crc64nvme", "AAAAAAAAAAA="), origin.Checksums{}, true},
		{"unverified sha1", header("x-amz-checksum-sha1", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), origin.Checksums{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseChecksums(c.h)
			if (err != nil) != c.bad {
				t.Fatalf("err %v, want error %v", err, c.bad)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// FuzzParseChecksums: whatever the headers, parseChecksums never panics, and what it
// accepts is valid (origin.Checksums.Validate) and carries the header values as sent.
func FuzzParseChecksums(f *testing.F) {
	f.Add("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==", "x-amz-checksum-crc32", "NhCmhg==")
	f.Add("x-amz-checksum-sha256", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", "x-amz-checksum-type", "x")
	f.Add("x-amz-checksum-crc32c", "====", "x-amz-checksum-crc32c", "NhCmhg==")
	f.Add("X-AMZ-CHECKSUM-", "", "content-md5", "\x00")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		h := header(k1, v1, k2, v2)
		c, err := parseChecksums(h)
		if err != nil {
			if !c.IsZero() {
				t.Fatalf("an error with checksums %+v", c)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted invalid checksums %+v: %v", c, err)
		}
		if c.MD5 != "" && c.MD5 != h.Get("Content-Md5") {
			t.Fatalf("MD5 %q is not the header's %q", c.MD5, h.Get("Content-Md5"))
		}
		if c.Value != "" && c.Value != h.Get("X-Amz-Checksum-"+string(c.Algorithm)) {
			t.Fatalf("%s %q is not the header's", c.Algorithm, c.Value)
		}
		if c.Value == "" && c.Algorithm != "" {
			t.Fatalf("algorithm without a value: %+v", c)
		}
	})
}

func TestUploadContentType(t *testing.T) {
	allowed := []string{"text/plain", "image/*"}
	for _, c := range []struct {
		ct      []string
		allowed []string
		want    string
		bad     bool
	}{
		{nil, nil, "application/octet-stream", false},
		{nil, allowed, "", true},
		{[]string{"text/plain"}, allowed, "text/plain", false},
		{[]string{"Text/Plain; Charset=UTF-8"}, allowed, "text/plain; charset=UTF-8", false},
		// image/* admitted image/svg+xml before issue 14's review (stored XSS): a type/*
		// range admits no type that can run script; listed exactly, it is accepted.
		{[]string{"image/svg+xml"}, allowed, "", true},
		{[]string{"image/svg+xml"}, []string{"image/*", "image/svg+xml"}, "image/svg+xml", false},
		{[]string{"image"}, allowed, "", true},
		{[]string{"imagex/png"}, allowed, "", true},
		{[]string{"image/"}, allowed, "", true},
		{[]string{"text/html"}, allowed, "", true},
		{[]string{"text/plain", "text/plain"}, allowed, "", true},
		{[]string{"text/plain; x=" + strings.Repeat("a", 300)}, nil, "", true},
		{[]string{"application/x-anything"}, nil, "application/x-anything", false},
	} {
		h := http.Header{}
		for _, v := range c.ct {
			h.Add("Content-Type", v)
		}
		got, err := uploadContentType(h, c.allowed)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("%q with %q: %q, %v", c.ct, c.allowed, got, err)
		}
	}
}

func TestWriteConditions(t *testing.T) {
	for _, c := range []struct {
		h    http.Header
		want string
		bad  bool
	}{
		{header(), "", false},
		{header("If-None-Match", "*"), "*", false},
		{header("If-None-Match", `"abc"`), "", true},
		{header("If-None-Match", "*", "If-None-Match", "*"), "", true},
		{header("If-Match", "*"), "", true},
		{header("If-Unmodified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"), "", true},
	} {
		got, err := writeConditions(c.h)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("%v: %q, %v", c.h, got, err)
		}
	}
}

// TestLimitedBody: a body is read up to max bytes; one byte more fails with
// errBodyTooLarge, and the error is kept; the body's own errors are kept too.
func TestLimitedBody(t *testing.T) {
	b := &limitedBody{r: strings.NewReader("0123456789"), max: 10}
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "0123456789" || b.n != 10 || b.err != nil {
		t.Fatalf("exactly max: %q %v n=%d err=%v", got, err, b.n, b.err)
	}
	b = &limitedBody{r: strings.NewReader("0123456789x"), max: 10}
	_, err = io.ReadAll(b)
	if !errors.Is(err, errBodyTooLarge) || !errors.Is(b.err, errBodyTooLarge) || b.n != 10 {
		t.Fatalf("past max: %v n=%d", err, b.n)
	}
	if _, err := b.Read(make([]byte, 4)); !errors.Is(err, errBodyTooLarge) {
		t.Fatalf("read after the error: %v", err)
	}
	b = &limitedBody{r: io.MultiReader(strings.NewReader("abc"), iotest{io.ErrUnexpectedEOF}), max: 10}
	_, err = io.ReadAll(b)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(b.err, io.ErrUnexpectedEOF) || b.n != 3 {
		t.Fatalf("a failing body: %v n=%d", err, b.n)
	}
}

type iotest struct{ err error }

func (r iotest) Read([]byte) (int, error) { return 0, r.err }

// TestStatusForWrites: the write errors map to the client's 4xx, never a 5xx.
func TestStatusForWrites(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		err  error
		want int
	}{
		{errBodyTooLarge, 413},
		{origin.ErrTooLarge, 413},
		{&bodyError{err: io.ErrUnexpectedEOF}, 400},
		{origin.ErrChecksum, 400},
		{origin.ErrSizeMismatch, 400},
		{origin.ErrKeyConflict, 409},
		{origin.Exists("k"), 412},
	} {
		if got := statusFor(ctx, c.err); got != c.want {
			t.Errorf("%v: %d, want %d", c.err, got, c.want)
		}
	}
}

// TestBodyFailureIsTheClients: what limitedBody hands the origin when the client's body
// fails carries origin.ErrClientBody (so an origin never counts it as its own failure)
// and still its cause.
func TestBodyFailureIsTheClients(t *testing.T) {
	cause := errors.New("connection reset")
	b := &limitedBody{r: iotest{cause}, max: 10}
	_, err := b.Read(make([]byte, 4))
	if !errors.Is(err, origin.ErrClientBody) || !errors.Is(err, cause) {
		t.Fatalf("%v: want origin.ErrClientBody and its cause", err)
	}
	big := &limitedBody{r: strings.NewReader("more than ten bytes"), max: 10}
	if _, err := io.ReadAll(big); !errors.Is(err, errBodyTooLarge) || !errors.Is(err, origin.ErrClientBody) {
		t.Fatalf("%v: want errBodyTooLarge as the client's", err)
	}
}
