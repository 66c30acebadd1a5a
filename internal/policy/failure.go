package policy

import (
	"errors"
	"net/http"
	"strings"
)

// Outcome is one authenticator's verdict on one request. Its String is the word the
// access log and `gatehouse explain` use.
type Outcome int

// The outcomes, in the order docs/auth.md lists them.
const (
	// Identified: the authenticator established who sent the request.
	Identified Outcome = iota
	// NoCredentials: nothing the authenticator understands was sent (401).
	NoCredentials
	// BadCredentials: credentials were sent but are invalid (401).
	BadCredentials
	// NotAllowed: the sender is known (or the address seen) but not allowed (403).
	NotAllowed
	// RateLimited: the client failed too often recently and is refused unchecked (429).
	RateLimited
	// Outage: the authenticator could not decide (503). Never an allow.
	Outage
)

// outcomes holds, per Outcome, its word, the words its failures' messages begin with,
// and the status a denial with it gets before Decide combines denials.
var outcomes = [...]struct {
	word, message string
	status        int
}{
	Identified:     {"identity", "identity", 0},
	NoCredentials:  {"no credentials", "no credentials", http.StatusUnauthorized},
	BadCredentials: {"bad credentials", "bad credentials", http.StatusUnauthorized},
	NotAllowed:     {"not allowed", "not allowed", http.StatusForbidden},
	RateLimited:    {"rate limited", "too many failed attempts", http.StatusTooManyRequests},
	Outage:         {"outage", "outage", http.StatusServiceUnavailable},
}

// String returns the outcome's word: "identity", "no credentials", "bad credentials",
// "not allowed", "rate limited" or "outage".
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomes) {
		return "outage"
	}
	return outcomes[o].word
}

// Status is the status a denial with this outcome gets on its own (0 for Identified).
func (o Outcome) Status() int {
	if o < 0 || int(o) >= len(outcomes) {
		return http.StatusServiceUnavailable
	}
	return outcomes[o].status
}

// Failure is why an authenticator established no identity: an Outcome, a short Detail
// safe to show the client (a jwt challenge carries it), and an optional Cause that only
// the log sees. Authenticators return one, usually built with Fail; Decide reads its
// fields (errors.As), never its message. errors.Is(f, ErrBadCredentials) (and the other
// sentinels) matches a failure of that outcome, and errors.Is finds the Cause too.
type Failure struct {
	Outcome Outcome
	Detail  string
	Cause   error
}

// The sentinels: a failure of each outcome with no detail, for authenticators with
// nothing to add and for errors.Is. Anything an Authenticator returns that is not a
// Failure (and wraps none) is an outage.
var (
	// ErrNoCredentials: nothing this authenticator understands was sent.
	ErrNoCredentials error = &Failure{Outcome: NoCredentials}
	// ErrBadCredentials: credentials were sent but are invalid (Fail adds the detail).
	ErrBadCredentials error = &Failure{Outcome: BadCredentials}
	// ErrForbidden: the sender is known (or the address seen) but not allowed.
	ErrForbidden error = &Failure{Outcome: NotAllowed}
	// ErrRateLimited: the client failed too often recently and is refused without a
	// check (429).
	ErrRateLimited error = &Failure{Outcome: RateLimited}
)

// sentinel returns the sentinel of o, nil for Identified and Outage (which have none).
func sentinel(o Outcome) error {
	switch o {
	case NoCredentials:
		return ErrNoCredentials
	case BadCredentials:
		return ErrBadCredentials
	case NotAllowed:
		return ErrForbidden
	case RateLimited:
		return ErrRateLimited
	}
	return nil
}

// Fail returns a failure of kind's outcome (kind is one of the sentinels, e.g.
// ErrBadCredentials) with a public detail, e.g. Fail(ErrBadCredentials, "token
// expired"). Any other kind makes an outage whose cause is kind.
func Fail(kind error, detail string) *Failure {
	if k := asFailure(kind); k != nil {
		return &Failure{Outcome: k.Outcome, Detail: detail}
	}
	return &Failure{Outcome: Outage, Detail: detail, Cause: kind}
}

// asFailure is errors.As for a *Failure, with the common case (err is one) first, so a
// denial costs no allocation beyond its own.
func asFailure(err error) *Failure {
	if f, ok := err.(*Failure); ok {
		return f
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// Because returns a copy of f with cause as its Cause: what the log sees beyond the
// public detail.
func (f *Failure) Because(cause error) *Failure {
	g := *f
	g.Cause = cause
	return &g
}

// Error is the failure's message: the outcome's words, the detail and the cause,
// joined by ": " (e.g. "bad credentials: bad signature: crypto/rsa: verification
// error"). A failure with a cause and no detail reads as its cause alone: the cause says
// what happened (e.g. "expired at 2026-05-01T11:59:00Z").
func (f *Failure) Error() string {
	return words(f.Outcome, f.Detail, f.Cause, true)
}

// Unwrap returns the cause, so errors.Is and errors.As find it.
func (f *Failure) Unwrap() error { return f.Cause }

// Is reports whether target is the sentinel of f's outcome.
func (f *Failure) Is(target error) bool {
	s := sentinel(f.Outcome)
	return s != nil && target == s
}

// Step is one authenticator's verdict in a decision, for the log and explain: its
// Outcome, the public Detail (for Identified, who; for an outage that is not a
// Failure, empty) and the Cause.
type Step struct {
	Name    string
	Outcome Outcome
	Detail  string
	Cause   error
}

// Text is what the log and explain print beside the outcome's word: the detail and
// the cause joined by ": ", led by the failure's own words where they differ from the
// outcome's ("too many failed attempts" for a rate limit); the outcome's word when
// there is nothing else.
func (s Step) Text() string {
	if t := words(s.Outcome, s.Detail, s.Cause, false); t != "" {
		return t
	}
	return s.Outcome.String()
}

// message is the step's failure message (Failure.Error of the same fields).
func (s Step) message() string { return words(s.Outcome, s.Detail, s.Cause, true) }

// step reads an authenticator's error into a Step: a Failure's fields (found with
// errors.As, so a failure wrapped with %w counts, though the wrapper's words are not
// read), or else an outage caused by err.
func step(name string, err error) Step {
	if f := asFailure(err); f != nil {
		if f.Outcome <= Identified || f.Outcome > Outage {
			// A failure that claims no failure (Outcome's zero value) or none known:
			// the authenticator could not say why, so it is an outage, never an identity.
			return Step{Name: name, Outcome: Outage, Detail: f.Detail, Cause: f.Cause}
		}
		return Step{Name: name, Outcome: f.Outcome, Detail: f.Detail, Cause: f.Cause}
	}
	return Step{Name: name, Outcome: Outage, Cause: err}
}

// words joins an outcome's message words (withOwn: always; otherwise only where they
// differ from its word), the detail and the cause with ": ". The outcome's words are
// left out when a cause alone speaks (no detail).
func words(o Outcome, detail string, cause error, withOwn bool) string {
	parts := make([]string, 0, 3)
	if o >= 0 && int(o) < len(outcomes) && (detail != "" || cause == nil) {
		if m := outcomes[o].message; withOwn || m != outcomes[o].word {
			parts = append(parts, m)
		}
	}
	if detail != "" {
		parts = append(parts, detail)
	}
	if cause != nil {
		parts = append(parts, cause.Error())
	}
	return strings.Join(parts, ": ")
}
