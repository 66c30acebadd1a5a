package origin

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestExactReader(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		body io.Reader
		size int64
		want string
		err  error
	}{
		{"exact", strings.NewReader("hello"), 5, "hello", nil},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("hello")), 5, "hello", nil},
		{"empty", strings.NewReader(""), 0, "", nil},
		{"short", strings.NewReader("hell"), 5, "hell", ErrSizeMismatch},
		{"one short", strings.NewReader("hello"), 6, "hello", ErrSizeMismatch},
		{"long", strings.NewReader("hello!"), 5, "hell", ErrSizeMismatch},
		{"not empty", strings.NewReader("x"), 0, "", ErrSizeMismatch},
		{"read error", io.MultiReader(strings.NewReader("he"), iotest.ErrReader(boom)), 5, "he", boom},
	} {
		got, err := io.ReadAll(ExactReader(tc.body, tc.size))
		if string(got) != tc.want || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestExactReaderHoldsBackLastByte: the last byte of a body too long is never handed
// over, so a store committing on the declared length never sees the whole declared body.
func TestExactReaderHoldsBackLastByte(t *testing.T) {
	r := ExactReader(strings.NewReader("abcdef"), 3)
	got, err := io.ReadAll(r)
	if len(got) >= 3 || !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestVerifier(t *testing.T) {
	// Known answers: MD5("abc"), SHA-256("abc"), CRC32("abc") = 0x352441c2,
	// CRC32C("abc") = 0x364b3fb7.
	for _, sums := range []Checksums{
		{MD5: "kAFQmDzST7DWlj99KOF/cg=="},
		{Algorithm: SHA256, Value: "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
		{Algorithm: CRC32, Value: "NSRBwg=="},
		{Algorithm: CRC32C, Value: "Nks/tw=="},
	} {
		v, err := NewVerifier(sums)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(v, "abc")
		if err := v.Check(); err != nil {
			t.Errorf("%+v: %v", sums, err)
		}
		v, _ = NewVerifier(sums)
		io.WriteString(v, "abd")
		if err := v.Check(); !errors.Is(err, ErrChecksum) {
			t.Errorf("%+v on other bytes: %v", sums, err)
		}
	}
	for _, bad := range []Checksums{{MD5: "abc"}, {Algorithm: CRC32, Value: "kAFQmDzST7DWlj99KOF/cg=="}, {Algorithm: "MD4", Value: "AAAA"}, {Algorithm: CRC32}} {
		if _, err := NewVerifier(bad); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
