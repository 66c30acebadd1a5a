// Package ipsync keeps AWS security groups and customer-managed prefix lists equal to
// the address ranges AWS publishes in ip-ranges.json (CloudFront's, by default), so that
// an origin accepts traffic only from the edge.
//
// The work is split into pure and effectful halves. Read fetches and filters the list
// into a Snapshot; ReadState reads the targets with Describe/Get calls only; MakePlan
// compares the two and returns a Plan: a deterministic, ordered list of write calls
// (Steps) plus the problems it cannot solve (an interface at its groups limit...).
// Syncer.Apply makes the calls in order and reports what was and was not applied;
// Syncer.Sync loops read-plan-apply until the plan is applied, re-planning when a
// concurrent writer got in the way. The CLI (`gatehouse ipranges plan|sync|serve`), the
// SNS endpoint (Service) and the Lambda handler (LambdaHandler) are thin adapters over
// these.
//
// Safety properties, each tested: only resources tagged ManagedByTag=<name> are
// changed; missing rules are authorized before stale ones are revoked; a second run
// plans nothing; rules are packed into the fewest groups the quota allows; a run that
// fails half-way is completed by the next one.
package ipsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aws/smithy-go"
)

// Plan is what a sync would change.
type Plan struct {
	Name   string   `json:"name"`
	Source Snapshot `json:"source"`
	// IPv4 and IPv6 count the desired CIDRs.
	IPv4 int `json:"ipv4_cidrs"`
	IPv6 int `json:"ipv6_cidrs"`
	// SecurityGroups summarises the security group target, when configured.
	SecurityGroups *SGSummary `json:"security_groups,omitempty"`
	// Steps are the write calls, in the order Apply makes them.
	Steps []Step `json:"steps"`
	// Problems are changes the plan needs but cannot make; they need an operator.
	Problems []string `json:"problems,omitempty"`
	// Warnings are worth knowing but need nothing.
	Warnings []string `json:"warnings,omitempty"`
}

// Empty reports whether the plan makes no call.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// MakePlan compares a snapshot with the state of the targets. It is pure and
// deterministic: the same inputs give the same plan, sorted.
func MakePlan(c *Config, snap *Snapshot, st *State) *Plan {
	v4, v6 := snap.Families()
	src := *snap
	src.Prefixes = nil
	p := &Plan{Name: c.Name, Source: src, IPv4: len(v4), IPv6: len(v6), Steps: []Step{}}
	if c.SecurityGroups != nil && st.SecurityGroups != nil {
		desired := DesiredRules(snap.Prefixes, c.SecurityGroups.PortRanges())
		steps, sum, problems, warnings := planSG(newSGConfig(c), desired, st.SecurityGroups)
		p.SecurityGroups = &sum
		p.Steps = append(p.Steps, steps...)
		p.Problems = append(p.Problems, problems...)
		p.Warnings = append(p.Warnings, warnings...)
	}
	for _, pl := range st.PrefixLists {
		want := v4
		if pl.Family == "IPv6" {
			want = v6
		}
		steps, problems, warnings := planPL(c, want, pl)
		p.Steps = append(p.Steps, steps...)
		p.Problems = append(p.Problems, problems...)
		p.Warnings = append(p.Warnings, warnings...)
	}
	return p
}

// Syncer runs syncs for one configuration.
type Syncer struct {
	Config *Config
	EC2    EC2API
	// HTTP fetches the list (http.DefaultClient when nil).
	HTTP *http.Client
	// Log receives one line per write call at info level, decisions at debug level
	// (slog.DiscardHandler when nil).
	Log *slog.Logger
	// Attempts bounds the read-plan-apply rounds of Sync when concurrent writers
	// conflict (default 4); RetryWait is the pause between rounds (default 2s).
	Attempts  int
	RetryWait time.Duration
	// PollEvery is how often a prefix list being modified is checked (default 2s).
	PollEvery time.Duration
}

func (s *Syncer) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Read fetches and filters the configured source.
func (s *Syncer) Read(ctx context.Context) (*Snapshot, error) {
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	return Read(ctx, client, s.Config.Source)
}

// Plan reads the targets and plans the changes that bring them to snap. It makes no
// write call.
func (s *Syncer) Plan(ctx context.Context, snap *Snapshot) (*Plan, error) {
	st, err := ReadState(ctx, s.EC2, s.Config)
	if err != nil {
		return nil, err
	}
	p := MakePlan(s.Config, snap, st)
	s.log().Debug("planned", "sync", s.Config.Name, "syncToken", snap.SyncToken, "steps", len(p.Steps), "problems", len(p.Problems))
	return p, nil
}

// Outcome is what Sync did.
type Outcome struct {
	// Plan is the last plan made.
	Plan *Plan `json:"plan"`
	// Applied are the calls made, over every round.
	Applied []Step `json:"applied"`
	// Report is the last round's.
	Report *Report `json:"report"`
	// Rounds counts read-plan-apply rounds (more than one after a conflict).
	Rounds int `json:"rounds"`
}

// Problems are the last plan's problems plus those met while applying it.
func (o *Outcome) Problems() []string {
	if o.Plan == nil {
		return nil
	}
	return slices.Concat(o.Plan.Problems, o.Report.Problems)
}

// ErrConflict marks a call that failed because the target changed since it was read:
// a rule that already exists or no longer does, a name taken, a prefix list version
// that moved. Sync re-reads and re-plans when it sees one.
var ErrConflict = errors.New("the target changed since it was read")

// Sync brings the targets to snap: read, plan, apply, and again after a conflict (a
// concurrent run, or a change by hand), up to Attempts rounds. The error is that of the
// last round; the outcome is never nil and says what was applied, even on error.
func (s *Syncer) Sync(ctx context.Context, snap *Snapshot) (*Outcome, error) {
	attempts, wait := s.Attempts, s.RetryWait
	if attempts <= 0 {
		attempts = 4
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	out := &Outcome{}
	for {
		out.Rounds++
		plan, err := s.Plan(ctx, snap)
		if err != nil {
			return out, err
		}
		out.Plan = plan
		rep := s.Apply(ctx, plan)
		out.Report = rep
		out.Applied = append(out.Applied, rep.Done...)
		if rep.Err == nil {
			return out, nil
		}
		if !errors.Is(rep.Err, ErrConflict) || out.Rounds >= attempts {
			return out, rep.Err
		}
		s.log().Info("the target changed during the sync: reading it again", "sync", s.Config.Name, "round", out.Rounds, "cause", rep.Err)
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// conflictCodes are the EC2 error codes that mean the target moved under us.
var conflictCodes = []string{
	"InvalidPermission.Duplicate", "InvalidPermission.NotFound", "InvalidGroup.Duplicate", "InvalidGroup.NotFound",
	"PrefixListVersionMismatch", "IncorrectState", "InvalidPrefixListModification", "InvalidPrefixListID.NotFound",
}

// classify wraps err with ErrConflict when its EC2 code says the target moved, and adds
// a hint to quota errors.
func classify(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch code := ae.ErrorCode(); {
	case slices.Contains(conflictCodes, code):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case code == "RulesPerSecurityGroupLimitExceeded":
		return fmt.Errorf("%w (the account's quota of inbound rules per security group is lower than security_groups.rules_per_group: set it to the quota)", err)
	case code == "PrefixListMaxEntriesExceeded":
		return fmt.Errorf("%w (raise prefix_list max entries)", err)
	}
	return err
}

// apiCode is the EC2 error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
