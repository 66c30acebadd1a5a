// Package policy turns a route's authenticators into one decision. Authenticators only
// inspect a request and say who sent it (or why they cannot); this package alone decides
// allow or deny and which status a denial gets, so no authenticator ever writes to the
// response. Every decision carries a reason for the access log.
//
// Evaluation is in list order. With mode "any", the first authenticator that establishes
// an identity allows the request and the rest are not run. With mode "all", every
// authenticator must establish an identity; the first that does not decides the denial.
// A denial's status is: 401 when credentials are missing or invalid, 403 when they are
// valid but not allowed, 429 when the client failed too often recently, 503 when an
// authenticator could not decide (an outage). Under "any", the status is the one that
// tells the client what could still get it in: 429 first (stop trying), then 401 with
// every challenge (an authenticator would accept credentials the client has not sent,
// e.g. a password from someone off the office network), then 503 (one that could not
// decide might allow once it can), then 403. A route whose policy lists no
// authenticators denies everything with 403. A 401 that no authenticator can attach a
// WWW-Authenticate challenge to becomes 403.
package policy

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Identity is who a request comes from, normalised across authenticators.
type Identity struct {
	Subject string
	Email   string
	Groups  []string
	Source  string // the authenticator that established it, e.g. "basic"
	// User is the person or account the authenticator vouches for, where it knows one:
	// the basic user, the jwt's sub, the login's signed-in user (from its sealed cookie,
	// bound to the signature). Empty for identities of an address or a signing key. It
	// is what an upload's key_prefix {user} stands for.
	User string
	// Display names the person for logs when Subject does not (a login's signed-in
	// user, where Subject is the signing key). It never takes part in a decision.
	Display string
}

// Request is what authenticators see.
type Request struct {
	HTTP   *http.Request
	Client netip.Addr // zero when unknown
	Scheme string     // http or https, as the client used it
}

// Authenticator establishes an identity from a request, or says why it cannot.
type Authenticator interface {
	// Name identifies the authenticator in reasons and logs.
	Name() string
	// Authenticate returns an identity, or a *Failure saying why not (one of the
	// sentinels, or built with Fail); any other error is an outage and denies.
	Authenticate(ctx context.Context, r *Request) (*Identity, error)
}

// Challenger is implemented by authenticators that add a WWW-Authenticate challenge to
// 401 responses. Challenge gets the error Authenticate returned; it reads the
// *Failure's fields (errors.As), never its message.
type Challenger interface {
	Challenge(err error) string
}

// Starter is implemented by authenticators with background work (refreshing address
// lists or keys). Start begins it and returns at once; the work stops when ctx ends.
// Building an authenticator must not touch the network: `gatehouse check` builds
// without starting.
type Starter interface {
	Start(ctx context.Context)
}

// Readier is implemented by authenticators that cannot decide until something has loaded
// (an address list, a key set). Ready returns nil once they can; until then they deny,
// and /readyz reports the error.
type Readier interface {
	Ready() error
}

// Mode says how authenticators combine.
type Mode int

const (
	// Any allows on the first identity.
	Any Mode = iota
	// All requires every authenticator to establish an identity.
	All
)

// Policy is a route's compiled authorization policy.
type Policy struct {
	Public         bool
	Mode           Mode
	Authenticators []Authenticator
}

// Decision is the outcome for one request.
type Decision struct {
	Allow    bool
	Status   int    // for denials: 401, 403, 429 or 503
	Reason   string // for the log only
	Identity *Identity
	// Challenges are WWW-Authenticate values for a 401.
	Challenges []string
	// Steps records each authenticator that ran, in order (for logs and explain).
	Steps []Step
}

// Decide evaluates the policy. It never allows on an error.
func (p *Policy) Decide(ctx context.Context, r *Request) Decision {
	if p.Public {
		return Decision{Allow: true, Reason: "public route"}
	}
	if len(p.Authenticators) == 0 {
		return Decision{Status: http.StatusForbidden, Reason: "route denies all requests (no authenticators)"}
	}
	var worst *Decision
	var challenges []string
	var id *Identity
	steps := make([]Step, 0, len(p.Authenticators))
	for _, a := range p.Authenticators {
		got, err := a.Authenticate(ctx, r)
		if err == nil && got == nil {
			err = fmt.Errorf("%s returned no identity and no error", a.Name())
		}
		if err == nil {
			detail := describe(got)
			steps = append(steps, Step{Name: a.Name(), Outcome: Identified, Detail: detail})
			if p.Mode == Any {
				return Decision{Allow: true, Reason: a.Name() + ": " + detail, Identity: got, Steps: steps}
			}
			if id == nil {
				id = got
			}
			continue
		}
		st := step(a.Name(), err)
		steps = append(steps, st)
		d := denial(st)
		if c, ok := a.(Challenger); ok && d.Status == http.StatusUnauthorized {
			if v := c.Challenge(err); v != "" {
				challenges = append(challenges, v)
			}
		}
		if p.Mode == All {
			d.Challenges, d.Steps = challenges, steps
			if d.Status == http.StatusUnauthorized && len(challenges) == 0 {
				d.Status = http.StatusForbidden // see below
			}
			return d
		}
		if worst == nil || rank(d.Status) > rank(worst.Status) {
			worst = &d
		}
	}
	if p.Mode == All {
		return Decision{Allow: true, Reason: fmt.Sprintf("all %d authenticators passed: %s", len(p.Authenticators), describe(id)), Identity: id, Steps: steps}
	}
	worst.Challenges, worst.Steps = challenges, steps
	if worst.Status == http.StatusUnauthorized && len(challenges) == 0 {
		// A 401 must say how to authenticate; with nothing to offer (a route that
		// accepts only signed URLs) the honest answer is 403, as CloudFront gives.
		worst.Status = http.StatusForbidden
	}
	if len(steps) > 1 {
		parts := make([]string, len(steps))
		for i, st := range steps {
			parts[i] = st.Name + ": " + st.Outcome.String()
			if t := st.Text(); t != st.Outcome.String() {
				parts[i] += " (" + t + ")"
			}
		}
		worst.Reason = strings.Join(parts, "; ")
	}
	return *worst
}

// denial is the decision one failed step makes on its own: its outcome's status, and
// as reason the authenticator's name and the failure's message.
func denial(st Step) Decision {
	reason := st.Name + ": " + st.message()
	if st.Outcome == Outage {
		reason += " (outage: denied)"
	}
	return Decision{Status: st.Outcome.Status(), Reason: reason}
}

// rank orders denials for mode any (see the package comment): the response tells the
// client the most useful true thing.
func rank(status int) int {
	switch status {
	case http.StatusTooManyRequests:
		return 4
	case http.StatusUnauthorized:
		return 3
	case http.StatusServiceUnavailable:
		return 2
	}
	return 1
}

func describe(id *Identity) string {
	if id == nil {
		return "anonymous"
	}
	if id.Subject != "" {
		return "subject " + id.Subject
	}
	return "identity from " + id.Source
}
