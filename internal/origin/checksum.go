package origin

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// ChecksumAlgorithm names one of the whole-object checksums S3 verifies on a write
// (the x-amz-checksum-* request headers).
type ChecksumAlgorithm string

// The algorithms a writer may give a checksum in, beside Content-MD5.
const (
	CRC32  ChecksumAlgorithm = "CRC32"
	CRC32C ChecksumAlgorithm = "CRC32C"
	SHA256 ChecksumAlgorithm = "SHA256"
)

// Checksums are what a body must hash to, each base64 as on the wire: MD5 as in
// Content-MD5, Value in Algorithm as in x-amz-checksum-<algorithm> (CRC32 and CRC32C
// big-endian). Empty fields are not checked.
type Checksums struct {
	MD5       string
	Algorithm ChecksumAlgorithm // "" when Value is empty
	Value     string
}

// IsZero reports whether there is nothing to check.
func (c Checksums) IsZero() bool { return c.MD5 == "" && c.Value == "" }

// Validate reports ErrBadRequest (wrapped) for a malformed value or unknown algorithm,
// so that a write fails before a byte is sent.
func (c Checksums) Validate() error {
	if c.MD5 != "" {
		if _, err := decodeSum(c.MD5, md5.Size); err != nil {
			return fmt.Errorf("%w: Content-MD5: %w", ErrBadRequest, err)
		}
	}
	if c.Value == "" && c.Algorithm == "" {
		return nil
	}
	h := newHash(c.Algorithm)
	if h == nil {
		return fmt.Errorf("%w: unknown checksum algorithm %q", ErrBadRequest, c.Algorithm)
	}
	if _, err := decodeSum(c.Value, h.Size()); err != nil {
		return fmt.Errorf("%w: x-amz-checksum-%s: %w", ErrBadRequest, c.Algorithm, err)
	}
	return nil
}

func newHash(a ChecksumAlgorithm) hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case SHA256:
		return sha256.New()
	}
	return nil
}

func decodeSum(v string, size int) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
	}
	return b, nil
}

// Verifier hashes what is written to it and checks the result against Checksums. It is
// how an origin that cannot have the storage verify a checksum (a folder, a multipart
// upload) checks one before making the object visible.
type Verifier struct {
	sums      Checksums
	md5, algo hash.Hash
	w         io.Writer
}

// NewVerifier validates sums (see Checksums.Validate) and returns a Verifier for them.
func NewVerifier(sums Checksums) (*Verifier, error) {
	if err := sums.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{sums: sums}
	var ws []io.Writer
	if sums.MD5 != "" {
		v.md5 = md5.New()
		ws = append(ws, v.md5)
	}
	if sums.Value != "" {
		v.algo = newHash(sums.Algorithm)
		ws = append(ws, v.algo)
	}
	v.w = io.MultiWriter(ws...)
	return v, nil
}

// Write hashes p; it never fails.
func (v *Verifier) Write(p []byte) (int, error) { return v.w.Write(p) }

// Check reports ErrChecksum (wrapped, naming the checksum) when what was written does
// not match.
func (v *Verifier) Check() error {
	if v.md5 != nil {
		if want, _ := decodeSum(v.sums.MD5, md5.Size); !bytes.Equal(v.md5.Sum(nil), want) {
			return fmt.Errorf("%w: Content-MD5 %s, body hashes to %s", ErrChecksum, v.sums.MD5, base64.StdEncoding.EncodeToString(v.md5.Sum(nil)))
		}
	}
	if v.algo != nil {
		if want, _ := decodeSum(v.sums.Value, v.algo.Size()); !bytes.Equal(v.algo.Sum(nil), want) {
			return fmt.Errorf("%w: %s %s, body hashes to %s", ErrChecksum, v.sums.Algorithm, v.sums.Value, base64.StdEncoding.EncodeToString(v.algo.Sum(nil)))
		}
	}
	return nil
}

// ExactReader returns a reader of exactly size bytes of r. It fails with ErrSizeMismatch
// (wrapped) when r ends early, and, before handing over the last byte, reads one byte
// further to make sure r ends there: a writer streaming to a store that commits when
// the declared length has arrived (S3's PutObject) thus never commits a body that was
// longer than declared. Read errors of r are returned as they are.
func ExactReader(r io.Reader, size int64) io.Reader {
	return &exactReader{r: r, left: size}
}

type exactReader struct {
	r    io.Reader
	left int64
	err  error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if e.left > 1 {
		if int64(len(p)) > e.left-1 {
			p = p[:e.left-1]
		}
		n, err := e.r.Read(p)
		e.left -= int64(n)
		if err == io.EOF {
			err = fmt.Errorf("%w: body ended %d bytes short", ErrSizeMismatch, e.left)
		}
		if err != nil {
			e.err = err
		}
		return n, err
	}
	if e.left == 1 {
		var b [2]byte
		n, err := io.ReadFull(e.r, b[:])
		switch {
		case n == 2:
			e.err = fmt.Errorf("%w: body longer than declared", ErrSizeMismatch)
		case n == 1 && err == io.ErrUnexpectedEOF:
			e.left, e.err = 0, io.EOF
			p[0] = b[0]
			return 1, nil
		case err == io.EOF:
			e.err = fmt.Errorf("%w: body ended 1 byte short", ErrSizeMismatch)
		default:
			e.err = err
		}
		return 0, e.err
	}
	// size 0: the body must be empty.
	var b [1]byte
	n, err := io.ReadFull(e.r, b[:])
	switch {
	case n == 1:
		e.err = fmt.Errorf("%w: body longer than declared", ErrSizeMismatch)
	case err == io.EOF:
		e.err = io.EOF
	default:
		e.err = err
	}
	return 0, e.err
}
