package s3origin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var _ origin.Presigner = (*Bucket)(nil)

// Presigned uploads are signed by the SDK's presign client, with credentials allowed only
// s3:PutObject on the key (presignClient, presign_scope.go: one STS call on an
// S3-compatible endpoint, none on AWS); nothing is sent to S3 itself. PUT: s3.PresignClient.PresignPutObject, which signs
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
	if c.KeyPrefix || c.ContentTypePrefix || c.Redirect != "" {
		return origin.Presigned{}, fmt.Errorf("%w: a key prefix, a type prefix and a redirect bind only a POST", origin.ErrBadRequest)
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
	pc, credsExpire, err := b.presignClient(ctx, key, false, c.Expires, s3.WithPresignExpires(c.Expires))
	if err != nil {
		return origin.Presigned{}, err
	}
	req, err := pc.PresignPutObject(ctx, in)
	if err != nil {
		return origin.Presigned{}, b.mapWriteErr(ctx, err)
	}
	h := req.SignedHeader.Clone()
	// Host is the URL's own, and Content-Length the body's: clients (browsers above all)
	// set neither themselves; a body of another size fails the signature.
	h.Del("Host")
	h.Del("Content-Length")
	return origin.Presigned{Method: http.MethodPut, URL: req.URL, Header: h, Expires: urlExpiry(now, c.Expires, credsExpire)}, nil
}

// PresignPost implements origin.Presigner: a form POST of exactly key (with
// c.KeyPrefix: of key + "${filename}", any key starting with key), with
// content-length-range 0..c.MaxSize, when set the Content-Type (exact, or starting with
// it under c.ContentTypePrefix) and when set success_action_redirect in its signed
// policy. The form must send the Content-Type field when one is bound (given in Fields
// when exact) and the redirect (given in Fields).
func (b *Bucket) PresignPost(ctx context.Context, key string, c origin.PresignConditions) (origin.Presigned, error) {
	if err := checkPresign(key, c); err != nil {
		return origin.Presigned{}, err
	}
	switch {
	case c.CreateOnly:
		return origin.Presigned{}, fmt.Errorf("%w: a POST upload cannot be create-only", origin.ErrBadRequest)
	case c.MaxSize < 0:
		return origin.Presigned{}, fmt.Errorf("%w: negative size limit", origin.ErrBadRequest)
	case c.ContentTypePrefix && c.ContentType == "":
		return origin.Presigned{}, fmt.Errorf("%w: an empty content type prefix", origin.ErrBadRequest)
	case !c.KeyPrefix && key == "":
		return origin.Presigned{}, fmt.Errorf("%w: an empty key", origin.ErrBadRequest)
	}
	if c.Redirect != "" {
		if u, err := url.Parse(c.Redirect); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return origin.Presigned{}, fmt.Errorf("%w: the redirect is not an absolute http(s) URL", origin.ErrBadRequest)
		}
	}
	formKey := key
	keyCond := any(map[string]string{"key": key})
	if c.KeyPrefix {
		// S3 and MinIO put the file's name in place of ${filename} before checking the
		// policy, so the condition sees the final key.
		formKey = key + "${filename}"
		keyCond = []any{"starts-with", "$key", key}
	}
	conds := []any{keyCond, []any{"content-length-range", 0, c.MaxSize}}
	switch {
	case c.ContentTypePrefix:
		conds = append(conds, []any{"starts-with", "$Content-Type", c.ContentType})
	case c.ContentType != "":
		conds = append(conds, map[string]string{"Content-Type": c.ContentType})
	}
	if c.Redirect != "" {
		conds = append(conds, map[string]string{"success_action_redirect": c.Redirect})
	}
	now := time.Now()
	pc, credsExpire, err := b.presignClient(ctx, key, c.KeyPrefix, c.Expires)
	if err != nil {
		return origin.Presigned{}, err
	}
	req, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: &b.bucket, Key: &formKey}, func(o *s3.PresignPostOptions) {
		o.Expires, o.Conditions = c.Expires, conds
	})
	if err != nil {
		return origin.Presigned{}, b.mapWriteErr(ctx, err)
	}
	fields := req.Values
	if c.ContentType != "" && !c.ContentTypePrefix {
		fields["Content-Type"] = c.ContentType
	}
	if c.Redirect != "" {
		fields["success_action_redirect"] = c.Redirect
	}
	return origin.Presigned{Method: http.MethodPost, URL: req.URL, Fields: fields, Expires: urlExpiry(now, c.Expires, credsExpire)}, nil
}
