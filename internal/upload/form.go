package upload

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// The listing page's upload form (docs/listings.md, "Uploads from the page"). A form
// that works without scripts cannot learn the chosen file's name before it is sent, so
// it is a presigned POST of a key prefix: the key field is the folder's key followed by
// ${filename}, which the bucket replaces with the file's name, and the signed policy
// accepts any key under the folder, at most max_size bytes, and sends the browser back
// to the listing (303) when the upload succeeds. Only routes whose every limit such a
// policy can state get one (ListingForm).

// Form is a signed upload form for one folder: the page posts Fields (hidden, in any
// order) and the file, last, to URL as multipart/form-data.
type Form struct {
	URL    string // the bucket's absolute http(s) URL
	Fields map[string]string
	// TypePrefix, when set, is what the form's Content-Type field (which the page asks
	// the user for) must start with: the route's one content type "image/*" as "image/".
	TypePrefix string
	// Accept is the route's one content type (for the file input's accept attribute);
	// "" when the route accepts any.
	Accept  string
	MaxSize int64
	Expires time.Time
}

// ErrNoForm: the route cannot offer a listing form to this caller for this folder; the
// wrapped reason says why. The page then has no form.
var ErrNoForm = errors.New("no upload form")

// ListingForm signs the upload form for the folder with key prefix folder, for the
// caller id whom the route's policy has allowed to list it, coming back to redirect (the
// listing page's absolute URL) after an upload. It fails with ErrNoForm (wrapped) when
// the route's uploads are not presigned by the bucket, when the route never replaces
// objects (a POST cannot promise that), when it accepts more than one content type
// (one form field cannot be bound to a choice of types), or when the caller may not
// write in the folder (upload.Allowed of a name in it); any other error is the
// origin's, and also means no form.
func (e *Endpoint) ListingForm(ctx context.Context, id *policy.Identity, folder, redirect string) (Form, error) {
	l := e.Limits
	switch {
	case e.Mode != config.PresignBucket || e.Presigner == nil:
		return Form{}, errors.Join(ErrNoForm, errors.New("uploads are not presigned by the bucket"))
	case !l.Overwrite:
		return Form{}, errors.Join(ErrNoForm, errors.New("overwrite: false cannot be enforced by a POST"))
	case len(l.ContentTypes) > 1:
		return Form{}, errors.Join(ErrNoForm, errors.New("more than one content type"))
	}
	// Any name in the folder: "f" stands for the file's name, which the caller chooses.
	if err := Allowed(l.KeyPrefix, id, folder+"f"); err != nil {
		return Form{}, errors.Join(ErrNoForm, err)
	}
	if u, err := url.Parse(redirect); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return Form{}, errors.Join(ErrNoForm, errors.New("the page's URL is not absolute"))
	}
	c := origin.PresignConditions{Expires: e.Expires, MaxSize: l.MaxSize, Size: -1, KeyPrefix: true, Redirect: redirect}
	f := Form{MaxSize: l.MaxSize}
	if len(l.ContentTypes) == 1 {
		ct := strings.ToLower(l.ContentTypes[0])
		f.Accept = ct
		if main, ok := strings.CutSuffix(ct, "/*"); ok {
			c.ContentType, c.ContentTypePrefix = main+"/", true
			f.TypePrefix = c.ContentType
		} else {
			c.ContentType = ct
		}
	}
	p, err := e.Presigner.PresignPost(ctx, folder, c)
	if err != nil {
		return Form{}, err
	}
	if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Form{}, errors.New("upload form: the origin's URL is not absolute http(s)")
	}
	f.URL, f.Fields, f.Expires = p.URL, p.Fields, p.Expires
	return f, nil
}
