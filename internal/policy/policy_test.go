package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

type fake struct {
	name  string
	err   error
	calls *[]string
}

func (f fake) Name() string { return f.name }
func (f fake) Authenticate(context.Context, *Request) (*Identity, error) {
	*f.calls = append(*f.calls, f.name)
	if f.err != nil {
		return nil, f.err
	}
	return &Identity{Subject: f.name, Source: f.name}, nil
}
func (f fake) Challenge(error) string { return "Test realm=" + f.name }

func TestDecide(t *testing.T) {
	outage := errors.New("jwks endpoint down")
	for _, tc := range []struct {
		name      string
		mode      Mode
		errs      []error
		allow     bool
		status    int
		wantCalls int
		challenge int
	}{
		{"any: first wins, rest not run", Any, []error{nil, nil}, true, 0, 1, 0},
		{"any: second wins after no creds", Any, []error{ErrNoCredentials, nil}, true, 0, 2, 0},
		{"any: all missing -> 401 with challenges", Any, []error{ErrNoCredentials, fmt.Errorf("%w: expired", ErrBadCredentials)}, false, 401, 2, 2},
		{"any: 401 outranks 403 (credentials would still get in)", Any, []error{ErrForbidden, ErrNoCredentials}, false, 401, 2, 1},
		{"any: 401 outranks an outage", Any, []error{ErrForbidden, outage, ErrNoCredentials}, false, 401, 3, 1},
		{"any: outage outranks 403", Any, []error{ErrForbidden, outage}, false, 503, 2, 0},
		{"any: only 403", Any, []error{ErrForbidden, fmt.Errorf("%w: no group", ErrForbidden)}, false, 403, 2, 0},
		{"any: rate limit outranks 401", Any, []error{fmt.Errorf("%w: 11 failures", ErrRateLimited), ErrNoCredentials}, false, 429, 2, 1},
		{"all: every one passes", All, []error{nil, nil}, true, 0, 2, 0},
		{"all: first failure decides", All, []error{nil, ErrForbidden, nil}, false, 403, 2, 0},
		{"all: outage denies", All, []error{outage, nil}, false, 503, 1, 0},
		{"all: missing creds -> 401", All, []error{nil, ErrNoCredentials}, false, 401, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			p := &Policy{Mode: tc.mode}
			for i, e := range tc.errs {
				p.Authenticators = append(p.Authenticators, fake{name: fmt.Sprint("a", i), err: e, calls: &calls})
			}
			d := p.Decide(context.Background(), &Request{})
			if d.Allow != tc.allow || (!tc.allow && d.Status != tc.status) {
				t.Fatalf("got %+v", d)
			}
			if len(calls) != tc.wantCalls {
				t.Errorf("ran %v, want %d calls", calls, tc.wantCalls)
			}
			if len(d.Challenges) != tc.challenge {
				t.Errorf("challenges %v, want %d", d.Challenges, tc.challenge)
			}
			if d.Reason == "" {
				t.Error("decision without a reason")
			}
		})
	}
}

func TestDecideNoAuthenticatorsDenies(t *testing.T) {
	d := (&Policy{}).Decide(context.Background(), &Request{})
	if d.Allow || d.Status != http.StatusForbidden {
		t.Fatalf("got %+v", d)
	}
	if d := (&Policy{Public: true}).Decide(context.Background(), &Request{}); !d.Allow {
		t.Fatalf("public route denied: %+v", d)
	}
}

type nilAuth struct{}

func (nilAuth) Name() string                                              { return "broken" }
func (nilAuth) Authenticate(context.Context, *Request) (*Identity, error) { return nil, nil }

func TestDecideBrokenAuthenticatorDenies(t *testing.T) {
	d := (&Policy{Authenticators: []Authenticator{nilAuth{}}}).Decide(context.Background(), &Request{})
	if d.Allow || d.Status != http.StatusServiceUnavailable {
		t.Fatalf("nil identity without error must deny as an outage, got %+v", d)
	}
}

type silent struct{ err error }

func (silent) Name() string { return "signed" }
func (s silent) Authenticate(context.Context, *Request) (*Identity, error) {
	return nil, s.err
}

// TestUnauthorizedWithoutChallengeIs403: a 401 must carry WWW-Authenticate; an
// authenticator with no challenge (signed URLs) makes it a 403.
func TestUnauthorizedWithoutChallengeIs403(t *testing.T) {
	for _, mode := range []Mode{Any, All} {
		d := (&Policy{Mode: mode, Authenticators: []Authenticator{silent{ErrNoCredentials}}}).Decide(context.Background(), &Request{})
		if d.Allow || d.Status != http.StatusForbidden {
			t.Errorf("mode %d: got %+v, want 403", mode, d)
		}
	}
	var calls []string
	d := (&Policy{Authenticators: []Authenticator{silent{ErrNoCredentials}, fake{name: "basic", err: ErrNoCredentials, calls: &calls}}}).Decide(context.Background(), &Request{})
	if d.Status != http.StatusUnauthorized || len(d.Challenges) != 1 {
		t.Errorf("with a challenger: got %+v, want 401 with its challenge", d)
	}
}
