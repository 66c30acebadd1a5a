package s3origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var (
	_ origin.Putter    = (*Bucket)(nil)
	_ origin.Deleter   = (*Bucket)(nil)
	_ origin.Lister    = (*Bucket)(nil)
	_ origin.Multipart = (*Bucket)(nil)
)

// Sizes that decide how Put stores a body.
const (
	// singlePutMax: a body of known size up to this goes up in one streamed PutObject;
	// anything larger, or of unknown size past minPartSize, as a multipart upload.
	singlePutMax = 16 << 20
	// minPartSize is the part size of a multipart Put, unless the object is so large
	// that MaxParts parts of it would not hold it (see partSize).
	minPartSize = 8 << 20
	// firstBuffer is what a body of unknown size is read into first: one that ends
	// within it costs no more.
	firstBuffer = 64 << 10
	// maxPartSize and maxObjectSize are S3's limits.
	maxPartSize   = 5 << 30
	maxObjectSize = 5 << 40
)

// Put stores body at key. What it costs depends on what is known of the body:
//
//   - a known size up to singlePutMax: one PutObject, streamed straight from body (no
//     buffer), with the checksums sent along for S3 to verify;
//   - an unknown size: the first minPartSize bytes are read (firstBuffer, then the
//     rest); a body that ends within them goes up in one PutObject from that buffer;
//   - otherwise a multipart upload (see putMultipart), whose checksums gatehouse
//     verifies itself before completing it.
//
// The buffers of the last two cases come out of the Bucket's Budget (budget.go): when
// other uploads hold it, Put fails with origin.ErrBusy before allocating anything.
//
// The plain client is used rather than the SDK's upload manager (feature/s3/manager,
// deprecated, or feature/s3/transfermanager, not yet 1.0): a manager would add a module
// and its own buffering for what is a loop of UploadPart calls here, and would not
// verify a whole-body checksum before completing, nor abort with a context that
// outlives the caller's.
func (b *Bucket) Put(ctx context.Context, key string, body io.Reader, opt origin.PutOptions) (origin.Info, error) {
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, err
	}
	if err := origin.CheckIfNoneMatch(opt.IfNoneMatch); err != nil {
		return origin.Info{}, err
	}
	if err := opt.Checksums.Validate(); err != nil {
		return origin.Info{}, err
	}
	if opt.Size > maxObjectSize {
		return origin.Info{}, fmt.Errorf("%w: %d bytes, S3 stores at most %d", origin.ErrTooLarge, opt.Size, int64(maxObjectSize))
	}
	if opt.Size >= 0 && opt.Size <= singlePutMax {
		return b.putObject(ctx, key, origin.ExactReader(body, opt.Size), opt.Size, opt, unsignedStream)
	}
	// Every buffer comes out of the process's budget first, taken at once or refused
	// (ErrBusy), and goes back when Put returns (see Budget).
	budget := b.buffers()
	var first []byte
	if opt.Size < 0 {
		// Read up to a part, in two steps so that a small body costs a small buffer.
		release, err := budget.take(firstBuffer)
		if err != nil {
			return origin.Info{}, err
		}
		defer release()
		first = make([]byte, firstBuffer)
		for _, grow := range []bool{false, true} {
			at := 0
			if grow {
				// From here on a multipart upload's two part buffers.
				more, err := budget.take(2*minPartSize - firstBuffer)
				if err != nil {
					return origin.Info{}, err
				}
				defer more()
				at = len(first)
				first = append(make([]byte, 0, minPartSize), first...)[:minPartSize]
			}
			n, err := readFull(body, first[at:], nil)
			if err != nil {
				return origin.Info{}, &bodyError{err: err}
			}
			if at+n < len(first) {
				// A seekable body: signed, and retried by the SDK if need be.
				return b.putObject(ctx, key, bytes.NewReader(first[:at+n]), int64(at+n), opt, whenRequired)
			}
		}
	}
	if first == nil {
		release, err := budget.take(2 * partSize(opt.Size))
		if err != nil {
			return origin.Info{}, err
		}
		defer release()
	}
	return b.putMultipart(ctx, key, body, first, opt)
}

// readFull reads r into buf until buf is full or r ends (io.EOF), and writes what it
// reads to h (unless nil) a read at a time, while the bytes are still in the CPU's
// cache. Unlike io.ReadFull it returns every error of r as it is: io.ReadFull reports a
// short read as io.ErrUnexpectedEOF, which is also what net/http's chunked reader says
// of a body cut short, and that must not pass for the body's end.
func readFull(r io.Reader, buf []byte, h hash.Hash) (int, error) {
	k := 0
	for k < len(buf) {
		n, err := r.Read(buf[k:])
		if h != nil {
			h.Write(buf[k : k+n])
		}
		k += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return k, err
		}
	}
	return k, nil
}

// putObject sends one PutObject of size bytes.
func (b *Bucket) putObject(ctx context.Context, key string, body io.Reader, size int64, opt origin.PutOptions, how func(*s3.Options)) (origin.Info, error) {
	rec := &recorder{r: body}
	in := &s3.PutObjectInput{Bucket: &b.bucket, Key: &key, Body: rec, ContentLength: aws.Int64(size), Metadata: opt.Metadata}
	if _, ok := body.(io.Seeker); ok {
		in.Body = body // a buffer: the SDK signs it and may retry, which needs Seek
	}
	setStored(&in.ContentType, &in.CacheControl, &in.ContentDisposition, &in.ContentEncoding, &in.ContentLanguage, opt)
	if opt.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(opt.IfNoneMatch)
	}
	if c := opt.Checksums; c.MD5 != "" {
		in.ContentMD5 = aws.String(c.MD5)
	}
	switch c := opt.Checksums; c.Algorithm {
	case origin.CRC32:
		in.ChecksumCRC32 = aws.String(c.Value)
	case origin.CRC32C:
		in.ChecksumCRC32C = aws.String(c.Value)
	case origin.SHA256:
		in.ChecksumSHA256 = aws.String(c.Value)
	}
	out, err := b.client.PutObject(ctx, in, how)
	if err != nil {
		return origin.Info{}, b.mapWriteErr(ctx, rec.wrap(err))
	}
	return origin.Info{Size: size, ETag: aws.ToString(out.ETag), ContentType: opt.ContentType}, nil
}

// unsignedStream sends a body the SDK cannot rewind: a SigV4 signature would need its
// SHA-256 first, which means reading it all, so the payload goes unsigned (S3's
// UNSIGNED-PAYLOAD; integrity is TLS's, plus the checksums a client gave), and the SDK
// computes no checksum of its own (that too would need a seekable body without TLS).
func unsignedStream(o *s3.Options) {
	whenRequired(o)
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// whenRequired stops the SDK from adding checksums of its own to writes: gatehouse
// sends the client's, and an S3-compatible service may not take the SDK's trailers.
func whenRequired(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

// setStored copies the headers S3 stores with an object to a write's input.
func setStored(ct, cc, cd, ce, cl **string, opt origin.PutOptions) {
	for _, f := range []struct {
		dst **string
		v   string
	}{{ct, opt.ContentType}, {cc, opt.CacheControl}, {cd, opt.ContentDisposition}, {ce, opt.ContentEncoding}, {cl, opt.ContentLanguage}} {
		if f.v != "" {
			*f.dst = aws.String(f.v)
		}
	}
}

// Delete removes the object at key. S3 answers a delete of a missing key with success.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := origin.CheckKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		if err := b.mapWriteErr(ctx, err); !errors.Is(err, origin.ErrNotFound) {
			return err
		}
	}
	return nil
}

// List is one ListObjectsV2 call; its token is S3's continuation token. It needs
// s3:ListBucket.
func (b *Bucket) List(ctx context.Context, prefix string, opt origin.ListOptions) (origin.ListPage, error) {
	opt, err := origin.CheckListOptions(opt)
	if err != nil {
		return origin.ListPage{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	in := &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(prefix), MaxKeys: aws.Int32(int32(opt.Max))}
	if opt.Delimiter != "" {
		in.Delimiter = aws.String(opt.Delimiter)
	}
	if opt.Token != "" {
		in.ContinuationToken = aws.String(opt.Token)
	} else if opt.StartAfter != "" {
		in.StartAfter = aws.String(opt.StartAfter)
	}
	out, err := b.client.ListObjectsV2(ctx, in)
	if err != nil {
		return origin.ListPage{}, b.mapWriteErr(ctx, err)
	}
	var page origin.ListPage
	for _, o := range out.Contents {
		page.Objects = append(page.Objects, origin.ListObject{
			Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), LastModified: aws.ToTime(o.LastModified),
		})
	}
	for _, p := range out.CommonPrefixes {
		page.Prefixes = append(page.Prefixes, aws.ToString(p.Prefix))
	}
	if aws.ToBool(out.IsTruncated) {
		page.Next = aws.ToString(out.NextContinuationToken)
	}
	return page, nil
}

// mapWriteErr sorts the errors of writes, listings and multipart calls, then leaves
// the rest to mapErr. Unlike a read, a write refused as AccessDenied is not "not
// found": the origin's credentials may not write (or list), which is a setup fault.
func (b *Bucket) mapWriteErr(ctx context.Context, err error) error {
	var be *bodyError
	if errors.As(err, &be) {
		return be
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			// Sent If-None-Match: * only: an object exists (or is being completed by a
			// concurrent conditional write, which S3 answers 409).
			return origin.Exists(err.Error())
		case "BadDigest", "XAmzContentChecksumMismatch", "InvalidDigest":
			return fmt.Errorf("%w: %w", origin.ErrChecksum, err)
		case "IncompleteBody":
			return fmt.Errorf("%w: %w", origin.ErrSizeMismatch, err)
		case "EntityTooLarge":
			return fmt.Errorf("%w: %w", origin.ErrTooLarge, err)
		case "NoSuchUpload":
			return fmt.Errorf("%w: %w", origin.ErrNoSuchUpload, err)
		case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML":
			return fmt.Errorf("%w: %w", origin.ErrBadRequest, err)
		case "AccessDenied", "Forbidden":
			return origin.Unavailable(fmt.Errorf("the origin's credentials may not do this: %w", err))
		}
	}
	return b.mapErr(ctx, err)
}

// recorder remembers the error its reader failed with (other than io.EOF), so that a
// write failing because the body failed (the client went away, sent too few bytes)
// says so, instead of looking like an origin outage.
type recorder struct {
	r   io.Reader
	mu  sync.Mutex // the SDK reads on its transport's goroutine
	err error
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
	}
	return n, err
}

// wrap returns the body's error when there is one, else err.
func (r *recorder) wrap(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return &bodyError{err: r.err}
	}
	return err
}

// bodyError is a write's failure to read its body; it wraps the reader's error.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }
