package s3origin

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// partSize is the part size of a multipart Put of size bytes (-1: unknown): minPartSize,
// or the least that fits the object in MaxParts parts. A body of unknown size can thus
// be at most MaxParts*minPartSize (about 78 GiB).
func partSize(size int64) int64 {
	return max(minPartSize, (size+origin.MaxParts-1)/origin.MaxParts)
}

// abortTimeout bounds the abort of a failed upload, which runs even when the caller's
// context is done (that is often why it failed).
const abortTimeout = 30 * time.Second

// putMultipart stores body (after first, bytes already read from it) as a multipart
// upload. Memory is bounded by two part buffers: one being read from body while the
// other is uploaded, so reading the client and writing to S3 overlap. Each part's MD5
// is computed as it is read (readFull), so that hashing overlaps the previous part's
// upload instead of delaying the send; the part carries it as its Content-MD5, which S3
// verifies, and is seekable, so the SDK may retry it. The
// whole body's checksums are verified before CompleteMultipartUpload; a create-only
// write sends If-None-Match: * with the completion (the guarantee) after a HeadObject
// at the start (which only saves uploading a body that would be refused).
//
// Any failure (a part refused, a body that fails or ends early, a checksum mismatch, the
// context done) aborts the upload, with a context of its own, so that no parts remain.
func (b *Bucket) putMultipart(ctx context.Context, key string, body io.Reader, first []byte, opt origin.PutOptions) (_ origin.Info, err error) {
	verify, err := origin.NewVerifier(opt.Checksums)
	if err != nil {
		return origin.Info{}, err
	}
	if opt.IfNoneMatch == "*" {
		if _, err := b.Head(ctx, key, origin.HeadOptions{}); err == nil {
			return origin.Info{}, origin.Exists(key)
		} else if !errors.Is(err, origin.ErrNotFound) {
			return origin.Info{}, err
		}
	}
	size := opt.Size
	if size >= 0 {
		body = origin.ExactReader(body, size)
	}
	rec := &recorder{r: body}
	id, err := b.CreateMultipart(ctx, key, opt)
	if err != nil {
		return origin.Info{}, err
	}
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
			defer cancel()
			if aerr := b.AbortMultipart(actx, key, id); aerr != nil {
				err = fmt.Errorf("%w (and the upload %s could not be aborted: %v)", err, id, aerr)
			}
		}
	}()

	up := newUploader(ctx, b, key, id)
	ps := partSize(size)
	var bufs [2][]byte // part n is read into bufs[n%2]
	var total int64
	for n := 1; ; n++ {
		var part []byte
		var sum [md5.Size]byte
		if n == 1 && first != nil {
			part, bufs[1] = first, first // len(first) == ps: a whole part, then a buffer
			sum = md5.Sum(part)
		} else {
			buf := &bufs[n%2]
			if *buf == nil {
				*buf = make([]byte, ps)
			}
			h := md5.New()
			k, rerr := readFull(rec, *buf, h)
			h.Sum(sum[:0])
			if rerr != nil {
				up.wait()
				return origin.Info{}, rec.wrap(rerr)
			}
			if k == 0 {
				break // the body ended with the previous part
			}
			part = (*buf)[:k]
		}
		if n > origin.MaxParts {
			up.wait()
			return origin.Info{}, fmt.Errorf("%w: a body of unknown size past %d parts of %d bytes", origin.ErrTooLarge, origin.MaxParts, ps)
		}
		verify.Write(part)
		total += int64(len(part))
		if !up.send(n, part, sum) || int64(len(part)) < ps {
			break // the uploader failed (wait says why), or the body has ended
		}
	}
	parts, err := up.wait()
	if err != nil {
		return origin.Info{}, rec.wrap(err)
	}
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	if err := verify.Check(); err != nil {
		return origin.Info{}, err
	}
	info, err := b.CompleteMultipart(ctx, key, id, parts, opt.IfNoneMatch)
	if err != nil {
		return origin.Info{}, err
	}
	info.Size = total
	if info.ContentType == "" {
		info.ContentType = opt.ContentType
	}
	return info, nil
}

// uploader uploads parts on its own goroutine, one at a time, handed over through an
// unbuffered channel: a send returns once the previous part is uploaded, so the
// sender may then refill that part's buffer.
type uploader struct {
	b       *Bucket
	key, id string
	ctx     context.Context
	cancel  context.CancelFunc
	jobs    chan job
	done    chan struct{}
	mu      sync.Mutex
	parts   []origin.Part
	err     error
}

type job struct {
	n    int
	data []byte
	sum  [md5.Size]byte // data's MD5
}

func newUploader(ctx context.Context, b *Bucket, key, id string) *uploader {
	u := &uploader{b: b, key: key, id: id, jobs: make(chan job), done: make(chan struct{})}
	u.ctx, u.cancel = context.WithCancel(ctx)
	go u.run()
	return u
}

func (u *uploader) run() {
	defer close(u.done)
	for j := range u.jobs {
		if u.failed() {
			continue // drain until the sender sees it
		}
		p, err := u.b.uploadPart(u.ctx, u.key, u.id, j.n, j.data, j.sum)
		u.mu.Lock()
		if err != nil {
			u.err = err
		} else {
			u.parts = append(u.parts, p)
		}
		u.mu.Unlock()
	}
}

func (u *uploader) failed() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err != nil
}

// send hands part n over; false once an upload has failed or the context is done.
func (u *uploader) send(n int, data []byte, sum [md5.Size]byte) bool {
	select {
	case u.jobs <- job{n, data, sum}:
		return !u.failed()
	case <-u.ctx.Done():
		return false
	}
}

// wait lets the last part finish and returns the uploaded parts or the first failure.
func (u *uploader) wait() ([]origin.Part, error) {
	close(u.jobs)
	<-u.done
	u.cancel()
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.parts, u.err
}

// uploadPart uploads one buffered part with its Content-MD5 (sum, which the reader
// computed as the part was read).
//
// The payload goes unsigned (UNSIGNED-PAYLOAD) with its Content-MD5: S3 checks the MD5
// against what it received, which is the integrity a SigV4 payload hash would give, and
// neither gatehouse nor the service hashes the part a second time with SHA-256 (the
// upload benchmark's profile had 28% of gatehouse's CPU in that hash, and the service
// spent more per GiB on signed parts). The buffered body can still be rewound, so the
// SDK's retries still work.
func (b *Bucket) uploadPart(ctx context.Context, key, id string, n int, data []byte, sum [md5.Size]byte) (origin.Part, error) {
	out, err := b.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &b.bucket, Key: &key, UploadId: &id, PartNumber: aws.Int32(int32(n)),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}, unsignedStream)
	if err != nil {
		return origin.Part{}, b.mapWriteErr(ctx, err)
	}
	return origin.Part{Number: n, ETag: aws.ToString(out.ETag), Size: int64(len(data))}, nil
}

// CreateMultipart starts a multipart upload with the object's stored headers.
func (b *Bucket) CreateMultipart(ctx context.Context, key string, opt origin.PutOptions) (string, error) {
	if err := origin.CheckKey(key); err != nil {
		return "", err
	}
	if err := origin.CheckIfNoneMatch(opt.IfNoneMatch); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	in := &s3.CreateMultipartUploadInput{Bucket: &b.bucket, Key: &key, Metadata: opt.Metadata}
	setStored(&in.ContentType, &in.CacheControl, &in.ContentDisposition, &in.ContentEncoding, &in.ContentLanguage, opt)
	out, err := b.client.CreateMultipartUpload(ctx, in, whenRequired)
	if err != nil {
		return "", b.mapWriteErr(ctx, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart streams one part from body (no buffer: the payload goes unsigned, as a
// single Put's does, and is not retried).
func (b *Bucket) UploadPart(ctx context.Context, key, uploadID string, number int, body io.Reader, opt origin.PartOptions) (origin.Part, error) {
	if number < 1 || number > origin.MaxParts {
		return origin.Part{}, fmt.Errorf("%w: part number %d (1 to %d)", origin.ErrBadRequest, number, origin.MaxParts)
	}
	if opt.Size < 0 || opt.Size > maxPartSize {
		return origin.Part{}, fmt.Errorf("%w: part of %d bytes (at most %d)", origin.ErrTooLarge, opt.Size, int64(maxPartSize))
	}
	if err := (origin.Checksums{MD5: opt.MD5}).Validate(); err != nil {
		return origin.Part{}, err
	}
	rec := &recorder{r: origin.ExactReader(body, opt.Size)}
	in := &s3.UploadPartInput{
		Bucket: &b.bucket, Key: &key, UploadId: &uploadID, PartNumber: aws.Int32(int32(number)),
		Body: rec, ContentLength: aws.Int64(opt.Size),
	}
	if opt.MD5 != "" {
		in.ContentMD5 = aws.String(opt.MD5)
	}
	out, err := b.client.UploadPart(ctx, in, unsignedStream)
	if err != nil {
		return origin.Part{}, b.mapWriteErr(ctx, rec.wrap(err))
	}
	return origin.Part{Number: number, ETag: aws.ToString(out.ETag), Size: opt.Size}, nil
}

// ListParts is one ListParts call.
func (b *Bucket) ListParts(ctx context.Context, key, uploadID string, after, maxParts int) ([]origin.Part, int, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	in := &s3.ListPartsInput{Bucket: &b.bucket, Key: &key, UploadId: &uploadID}
	if after > 0 {
		in.PartNumberMarker = aws.String(strconv.Itoa(after))
	}
	if maxParts > 0 {
		in.MaxParts = aws.Int32(int32(min(maxParts, origin.MaxListKeys)))
	}
	out, err := b.client.ListParts(ctx, in)
	if err != nil {
		return nil, 0, b.mapWriteErr(ctx, err)
	}
	parts := make([]origin.Part, 0, len(out.Parts))
	for _, p := range out.Parts {
		parts = append(parts, origin.Part{Number: int(aws.ToInt32(p.PartNumber)), ETag: aws.ToString(p.ETag), Size: aws.ToInt64(p.Size)})
	}
	next := 0
	if aws.ToBool(out.IsTruncated) {
		next, _ = strconv.Atoi(aws.ToString(out.NextPartNumberMarker))
	}
	return parts, next, nil
}

// CompleteMultipart completes the upload. It is not bounded by the origin timeout
// beyond the transport's own (S3 may take minutes to assemble a large object, sending
// whitespace meanwhile). The Info has the new ETag and, from a HeadObject pinned to
// that ETag, the size and date; Size is -1 when that HEAD fails (the object was
// replaced at once).
func (b *Bucket) CompleteMultipart(ctx context.Context, key, uploadID string, parts []origin.Part, ifNoneMatch string) (origin.Info, error) {
	if err := origin.CheckIfNoneMatch(ifNoneMatch); err != nil {
		return origin.Info{}, err
	}
	in := &s3.CompleteMultipartUploadInput{Bucket: &b.bucket, Key: &key, UploadId: &uploadID, MultipartUpload: &types.CompletedMultipartUpload{}}
	for _, p := range parts {
		in.MultipartUpload.Parts = append(in.MultipartUpload.Parts, types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(p.ETag)})
	}
	if ifNoneMatch != "" {
		in.IfNoneMatch = aws.String(ifNoneMatch)
	}
	out, err := b.client.CompleteMultipartUpload(ctx, in, whenRequired)
	if err != nil {
		return origin.Info{}, b.mapWriteErr(ctx, err)
	}
	info := origin.Info{Size: -1, ETag: aws.ToString(out.ETag)}
	if h, err := b.Head(ctx, key, origin.HeadOptions{Cond: origin.Conditions{IfMatch: info.ETag}}); err == nil {
		info = h
	}
	return info, nil
}

// AbortMultipart discards the upload; an upload already gone is not an error.
func (b *Bucket) AbortMultipart(ctx context.Context, key, uploadID string) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b.bucket, Key: &key, UploadId: &uploadID})
	if err != nil {
		if err := b.mapWriteErr(ctx, err); !errors.Is(err, origin.ErrNoSuchUpload) {
			return err
		}
	}
	return nil
}
