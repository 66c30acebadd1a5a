package s3origin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var _ origin.Presigner = (*Bucket)(nil)

// Presigned uploads are signed with the bucket's credentials by the SDK's presign
// client; nothing is sent to S3. PUT: s3.PresignClient.PresignPutObject, which signs
// the headers set on the input (Content-Type, If-None-Match, and Content-Length when the
// size is known and above zero), so a client sending anything else is refused by S3
// with 403. POST: PresignPostObject (service/s3 since v1.64), whose policy document
// takes arbitrary conditions: the exact key, content-length-range and the exact
// Content-Type are all S3 POST policy conditions, so no hand-made signing is needed.

// checkPresign refuses what no presigned upload can be.
func checkPresign(key string, c origin.PresignConditions) error {
	if err := origin.CheckKey(key); err != nil {
		return err
	}
	if c.Expires < time.Second || c.Expires > config.MaxPresignExpires {
		return fmt.Errorf("%w: presigned upload lifetime %s (1s to 7 days)", origin.ErrBadRequest, c.Expires)
	}
	return nil
}

// PresignPut implements origin.Presigner.
func (b *Bucket) PresignPut(ctx context.Context, key string, c origin.PresignConditions) (origin.Presigned, error) {
	if err := checkPresign(key, c); err != nil {
		return origin.Presigned{}, err
	}
	in := &s3.PutObjectInput{Bucket: &b.bucket, Key: &key}
	if c.ContentType != "" {
		in.ContentType = aws.String(c.ContentType)
	}
	if c.Size > 0 {
		in.ContentLength = aws.Int64(c.Size)
	}
	if c.CreateOnly {
		in.IfNoneMatch = aws.String("*")
	}
	now := time.Now()
	pc := s3.NewPresignClient(b.client, s3.WithPresignExpires(c.Expires), s3.WithPresignClientFromClientOptions(whenRequired))
	req, err := pc.PresignPutObject(ctx, in)
	if err != nil {
		return origin.Presigned{}, b.mapWriteErr(ctx, err)
	}
	h := req.SignedHeader.Clone()
	// Host is the URL's own, and Content-Length the body's: clients (browsers above all)
	// set neither themselves; a body of another size fails the signature.
	h.Del("Host")
	h.Del("Content-Length")
	return origin.Presigned{Method: http.MethodPut, URL: req.URL, Header: h, Expires: now.Add(c.Expires)}, nil
}

// PresignPost implements origin.Presigner: a form POST of exactly key, with
// content-length-range 0..c.MaxSize and, when set, the exact Content-Type in its signed
// policy. The form must send the Content-Type field (given in Fields) when one is
// bound.
func (b *Bucket) PresignPost(ctx context.Context, key string, c origin.PresignConditions) (origin.Presigned, error) {
	if err := checkPresign(key, c); err != nil {
		return origin.Presigned{}, err
	}
	if c.CreateOnly {
		return origin.Presigned{}, fmt.Errorf("%w: a POST upload cannot be create-only", origin.ErrBadRequest)
	}
	if c.MaxSize < 0 {
		return origin.Presigned{}, fmt.Errorf("%w: negative size limit", origin.ErrBadRequest)
	}
	conds := []any{
		map[string]string{"key": key},
		[]any{"content-length-range", 0, c.MaxSize},
	}
	if c.ContentType != "" {
		conds = append(conds, map[string]string{"Content-Type": c.ContentType})
	}
	now := time.Now()
	pc := s3.NewPresignClient(b.client, s3.WithPresignClientFromClientOptions(whenRequired))
	req, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: &b.bucket, Key: &key}, func(o *s3.PresignPostOptions) {
		o.Expires, o.Conditions = c.Expires, conds
	})
	if err != nil {
		return origin.Presigned{}, b.mapWriteErr(ctx, err)
	}
	fields := req.Values
	if c.ContentType != "" {
		fields["Content-Type"] = c.ContentType
	}
	return origin.Presigned{Method: http.MethodPost, URL: req.URL, Fields: fields, Expires: now.Add(c.Expires)}, nil
}
