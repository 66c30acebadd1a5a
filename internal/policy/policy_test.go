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

// lying is an authenticator whose failure's message does not say what its fields do.
type lying struct{ err error }

func (lying) Name() string                                                { return "tok" }
func (l lying) Authenticate(context.Context, *Request) (*Identity, error) { return nil, l.err }
func (lying) Challenge(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return "Bearer error_description=" + f.Detail
	}
	return ""
}

// masked is a Failure whose message is unrelated to its fields: Decide must not read it.
type masked struct{ *Failure }

func (masked) Error() string   { return "bad credentials: (something else entirely)" }
func (m masked) Unwrap() error { return m.Failure }

// TestDecideReadsTypedFailure: the step's outcome, detail and cause, the status and the
// challenge come from the Failure's fields, never from trimming its message.
func TestDecideReadsTypedFailure(t *testing.T) {
	cause := errors.New("crypto/rsa: verification error")
	f := Fail(ErrBadCredentials, "bad signature").Because(cause)
	if !errors.Is(f, ErrBadCredentials) || errors.Is(f, ErrForbidden) || !errors.Is(f, cause) {
		t.Fatalf("errors.Is on %v: sentinel or cause not found", f)
	}
	if got, want := f.Error(), "bad credentials: bad signature: crypto/rsa: verification error"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for _, err := range []error{f, fmt.Errorf("wrapped: %w", masked{f})} {
		d := (&Policy{Authenticators: []Authenticator{lying{err}}}).Decide(context.Background(), &Request{})
		if d.Status != http.StatusUnauthorized || len(d.Steps) != 1 {
			t.Fatalf("%v: got %+v", err, d)
		}
		st := d.Steps[0]
		if st.Outcome != BadCredentials || st.Detail != "bad signature" || st.Cause != cause {
			t.Errorf("%v: step %+v, want the failure's fields", err, st)
		}
		if got, want := st.Text(), "bad signature: crypto/rsa: verification error"; got != want {
			t.Errorf("%v: Text() = %q, want %q", err, got, want)
		}
		if got, want := d.Reason, "tok: bad credentials: bad signature: crypto/rsa: verification error"; got != want {
			t.Errorf("%v: reason %q, want %q", err, got, want)
		}
		if len(d.Challenges) != 1 || d.Challenges[0] != "Bearer error_description=bad signature" {
			t.Errorf("%v: challenges %q", err, d.Challenges)
		}
	}
}

// TestDecideStepWords: what the log and explain print for each kind of failure (the
// words existing logs and explain's golden files hold).
func TestDecideStepWords(t *testing.T) {
	outage := errors.New("address sources not loaded yet")
	for _, tc := range []struct {
		err     error
		outcome Outcome
		text    string
		reason  string
	}{
		{ErrNoCredentials, NoCredentials, "no credentials", "a: no credentials"},
		{Fail(ErrForbidden, "192.0.2.1 is not in the allowed ranges"), NotAllowed, "192.0.2.1 is not in the allowed ranges", "a: not allowed: 192.0.2.1 is not in the allowed ranges"},
		{Fail(ErrForbidden, "").Because(errors.New("expired at 2026-05-01T11:59:00Z")), NotAllowed, "expired at 2026-05-01T11:59:00Z", "a: expired at 2026-05-01T11:59:00Z"},
		{Fail(ErrRateLimited, "192.0.2.0/24 failed 10 times within a minute"), RateLimited, "too many failed attempts: 192.0.2.0/24 failed 10 times within a minute", "a: too many failed attempts: 192.0.2.0/24 failed 10 times within a minute"},
		{outage, Outage, "address sources not loaded yet", "a: address sources not loaded yet (outage: denied)"},
	} {
		d := (&Policy{Authenticators: []Authenticator{silentNamed{"a", tc.err}}}).Decide(context.Background(), &Request{})
		st := d.Steps[0]
		if st.Outcome != tc.outcome || st.Text() != tc.text || d.Reason != tc.reason || d.Status != tc.outcome.Status() && d.Status != http.StatusForbidden {
			t.Errorf("%v: step %v %q, reason %q, status %d; want %v %q, %q", tc.err, st.Outcome, st.Text(), d.Reason, d.Status, tc.outcome, tc.text, tc.reason)
		}
	}
}

type silentNamed struct {
	name string
	err  error
}

func (s silentNamed) Name() string                                              { return s.name }
func (s silentNamed) Authenticate(context.Context, *Request) (*Identity, error) { return nil, s.err }

// TestRegression_ZeroOutcomeFailureIsNotADenialWithoutStatus: a Failure whose Outcome was
// left at its zero value (Identified) used to deny with status 0 and a step reading
// "identity", which the gateway could not write (WriteHeader(0) panics). Such a failure,
// and one with an unknown outcome, is an outage: 503, never an allow.
func TestRegression_ZeroOutcomeFailureIsNotADenialWithoutStatus(t *testing.T) {
	for _, f := range []*Failure{{Detail: "x"}, {Outcome: Outcome(42), Detail: "x"}, {Outcome: -1}} {
		for _, mode := range []Mode{Any, All} {
			var calls []string
			d := (&Policy{Mode: mode, Authenticators: []Authenticator{fake{name: "a", err: f, calls: &calls}}}).Decide(context.Background(), &Request{})
			if d.Allow || d.Status != http.StatusServiceUnavailable || d.Steps[0].Outcome != Outage {
				t.Errorf("mode %v, failure %+v: allow %v, status %d, step %+v; want a 503 outage", mode, f, d.Allow, d.Status, d.Steps[0])
			}
		}
	}
}
