package upload

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// postRecorder is a Presigner that records what it was asked to sign.
type postRecorder struct {
	key  string
	cond origin.PresignConditions
}

func (p *postRecorder) PresignPut(context.Context, string, origin.PresignConditions) (origin.Presigned, error) {
	return origin.Presigned{}, errors.New("not used")
}

func (p *postRecorder) PresignPost(_ context.Context, key string, c origin.PresignConditions) (origin.Presigned, error) {
	p.key, p.cond = key, c
	return origin.Presigned{Method: "POST", URL: "http://bucket.test/b", Fields: map[string]string{"key": key + "${filename}"}}, nil
}

// TestListingForm: the form is signed for the folder as a key prefix, max_size, the
// page's URL as the redirect and the route's one content type (a prefix for type/*);
// every route or caller a POST cannot honour gets ErrNoForm and signs nothing.
func TestListingForm(t *testing.T) {
	alice := &policy.Identity{User: "alice"}
	const back = "https://files.example/up/alice/"
	ep := func(l Limits, p *postRecorder) *Endpoint {
		return &Endpoint{Mode: config.PresignBucket, Expires: time.Minute, Limits: l, Presigner: p}
	}
	base := Limits{MaxSize: 1000, KeyPrefix: "up/{user}/", Overwrite: true}

	for _, c := range []struct {
		types    []string
		ct       string
		prefix   bool
		accept   string
		typeForm string
	}{
		{nil, "", false, "", ""},
		{[]string{"Image/*"}, "image/", true, "image/*", "image/"},
		{[]string{"text/plain"}, "text/plain", false, "text/plain", ""},
	} {
		p := &postRecorder{}
		l := base
		l.ContentTypes = c.types
		f, err := ep(l, p).ListingForm(context.Background(), alice, "up/alice/docs/", back)
		if err != nil {
			t.Fatalf("%v: %v", c.types, err)
		}
		want := origin.PresignConditions{Expires: time.Minute, MaxSize: 1000, Size: -1, KeyPrefix: true, Redirect: back, ContentType: c.ct, ContentTypePrefix: c.prefix}
		if p.key != "up/alice/docs/" || p.cond != want {
			t.Errorf("%v: signed %q %+v", c.types, p.key, p.cond)
		}
		if f.URL != "http://bucket.test/b" || f.Accept != c.accept || f.TypePrefix != c.typeForm || f.MaxSize != 1000 {
			t.Errorf("%v: form %+v", c.types, f)
		}
	}

	gw := ep(base, &postRecorder{})
	gw.Mode = config.PresignGateway
	for name, c := range map[string]struct {
		e        *Endpoint
		id       *policy.Identity
		folder   string
		redirect string
	}{
		"gateway mode":      {gw, alice, "up/alice/", back},
		"no presigner":      {&Endpoint{Mode: config.PresignBucket, Limits: base}, alice, "up/alice/", back},
		"overwrite false":   {ep(Limits{MaxSize: 1000}, &postRecorder{}), alice, "up/alice/", back},
		"two types":         {ep(Limits{MaxSize: 1000, Overwrite: true, ContentTypes: []string{"a/b", "c/d"}}, &postRecorder{}), alice, "", back},
		"another's folder":  {ep(base, &postRecorder{}), alice, "up/bob/", back},
		"above the prefix":  {ep(base, &postRecorder{}), alice, "up/", back},
		"no identity":       {ep(base, &postRecorder{}), nil, "up/alice/", back},
		"dot segment":       {ep(base, &postRecorder{}), alice, "up/alice/../", back},
		"relative redirect": {ep(base, &postRecorder{}), alice, "up/alice/", "/up/alice/"},
	} {
		_, err := c.e.ListingForm(context.Background(), c.id, c.folder, c.redirect)
		if !errors.Is(err, ErrNoForm) {
			t.Errorf("%s: %v", name, err)
		}
		if p, ok := c.e.Presigner.(*postRecorder); ok && p.key != "" {
			t.Errorf("%s: signed %q", name, p.key)
		}
	}
}
