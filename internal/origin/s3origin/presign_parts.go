package s3origin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var _ origin.PartPresigner = (*Bucket)(nil)

// maxPresignExpires is SigV4's limit for a presigned URL.
const maxPresignExpires = 7 * 24 * time.Hour

// PresignPart presigns an UploadPart request with credentials allowed only s3:PutObject
// on key (presignClient, presign_scope.go), so that a client (Uppy in a browser) PUTs the
// part's bytes straight to S3 and can never turn the PUT into UploadPartCopy of another
// object. Nothing is sent to S3 here. The URL signs only the host and the query (no checksum headers: the SDK is told
// to add none, as a browser would not send them), so any body of at most 5 GiB is
// accepted for the part; the size rules of the whole upload are checked when it is
// completed. The response to the PUT carries the part's ETag (a browser reads it only
// when the bucket's CORS exposes ETag).
func (b *Bucket) PresignPart(ctx context.Context, key, uploadID string, number int, expires time.Duration) (string, http.Header, error) {
	if err := origin.CheckKey(key); err != nil {
		return "", nil, err
	}
	if number < 1 || number > origin.MaxParts {
		return "", nil, fmt.Errorf("%w: part number %d (1 to %d)", origin.ErrBadRequest, number, origin.MaxParts)
	}
	if uploadID == "" {
		return "", nil, fmt.Errorf("%w: empty upload id", origin.ErrBadRequest)
	}
	if expires <= 0 || expires > maxPresignExpires {
		return "", nil, fmt.Errorf("%w: presigned URL lifetime %s (more than 0, at most 7 days)", origin.ErrBadRequest, expires)
	}
	pc, _, err := b.presignClient(ctx, key, false, expires, s3.WithPresignExpires(expires))
	if err != nil {
		return "", nil, err
	}
	req, err := pc.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket: &b.bucket, Key: &key, UploadId: &uploadID, PartNumber: aws.Int32(int32(number)),
	})
	if err != nil {
		return "", nil, b.mapWriteErr(ctx, err)
	}
	h := req.SignedHeader.Clone()
	h.Del("Host") // the URL's own; a client cannot set it anyway
	return req.URL, h, nil
}
