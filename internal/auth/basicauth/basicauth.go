// Package basicauth is the `basic` authenticator: HTTP Basic credentials (RFC 7617)
// checked against bcrypt or argon2id hashes from an htpasswd file and the configuration.
// It never accepts plaintext or weak legacy hashes ($apr1$, {SHA}, crypt).
//
// Checking a password is slow on purpose, so the authenticator caches successful checks
// briefly (see successCache), refuses client addresses that fail too often without
// checking (see Limiter), bounds how many checks run at once, and makes an unknown user
// cost exactly what a wrong password costs (see Authenticator.check). The htpasswd file
// is read when the authenticator is built and re-read when it changes once Start has
// been called; a bad new file is logged and the previous users stay in force.
//
// Failed attempts are counted by a Limiter, which the gateway shares between every basic
// authenticator and keeps across configuration reloads; they are counted per process:
// with several replicas, each counts on its own (a client may fail max_failures times
// per minute on each) until the counts move to a shared store.
package basicauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/lifecycle"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// DefaultPollInterval is how often a started Authenticator checks its htpasswd file for
// changes (modification time, size and identity of the file).
const DefaultPollInterval = 5 * time.Second

// checkSlots bounds the password checks running at once in the process, across all
// basic authenticators: each costs tens of milliseconds of CPU (and argon2id 64 MiB of
// memory), so a flood of requests with new credentials queues here instead of
// exhausting the machine. Cache hits do not take a slot.
var checkSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// Options are the Authenticator's dependencies; the zero value is ready to use.
type Options struct {
	// Logger receives reload results and warnings; nil discards them. The caller scopes
	// it (the gateway adds the authenticator's name).
	Logger *slog.Logger
	// Now is the clock of the failure limit and the success cache; nil means time.Now.
	Now func() time.Time
	// PollInterval is how often Start checks the htpasswd file; 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Failures counts failed attempts; share one between authenticators so that a
	// client's failures on one count on every other with the same credentials (see
	// Limiter). Nil: the authenticator counts on its own.
	Failures *Limiter
}

// Authenticator checks HTTP Basic credentials. It is safe for concurrent use. Build it
// with New; Start it to follow changes of the htpasswd file; Close it to stop that.
type Authenticator struct {
	name      string
	challenge string
	file      string
	inline    map[string]*hash
	log       *slog.Logger
	now       func() time.Time
	pollEvery time.Duration
	limit     *Limiter
	creds     credentialsID
	maxFail   int
	users     atomic.Pointer[userSet]

	// match compares a password with a hash: (*hash).matches, replaced by tests to
	// count and inspect the hashing work a request does.
	match func(h *hash, password []byte) bool

	// Reloading state, used by the polling goroutine only (and New before it starts).
	stamp   fileStamp
	lastErr string

	life lifecycle.Group // the polling goroutine
}

var (
	_ policy.Authenticator = (*Authenticator)(nil)
	_ policy.Challenger    = (*Authenticator)(nil)
	_ policy.Starter       = (*Authenticator)(nil)
	_ io.Closer            = (*Authenticator)(nil)
)

// New builds a basic authenticator named name (default "basic") from cfg: it reads and
// parses cfg.HtpasswdFile if set, parses cfg.Users, and fails if a hash is malformed or
// not bcrypt/argon2id, a user name is invalid, or a user is defined twice (in the file
// or in both places). An empty realm means config.DefaultBasicRealm and MaxFailures < 1
// means config.DefaultBasicMaxFailures. New starts nothing; see Start.
func New(name string, cfg *config.BasicAuth, opts Options) (*Authenticator, error) {
	if cfg == nil {
		return nil, errors.New("basic: no configuration")
	}
	if name == "" {
		name = "basic"
	}
	realm := cfg.Realm
	if realm == "" {
		realm = config.DefaultBasicRealm
	}
	if strings.ContainsAny(realm, "\"\\") || hasControl(realm) {
		return nil, fmt.Errorf("%s: realm must not contain quotes, backslashes or control characters", name)
	}
	maxFailures := cfg.MaxFailures
	if maxFailures < 1 {
		maxFailures = config.DefaultBasicMaxFailures
	}
	a := &Authenticator{
		name:      name,
		challenge: `Basic realm="` + realm + `", charset="UTF-8"`,
		file:      cfg.HtpasswdFile,
		log:       opts.Logger,
		now:       opts.Now,
		pollEvery: opts.PollInterval,
		limit:     opts.Failures,
		creds:     newCredentialsID(cfg.HtpasswdFile, cfg.Users),
		maxFail:   maxFailures,
		match:     (*hash).matches,
	}
	if a.limit == nil {
		a.limit = NewLimiter()
	}
	a.limit.allow(maxFailures)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.pollEvery <= 0 {
		a.pollEvery = DefaultPollInterval
	}
	var err error
	if a.inline, err = parseInline(cfg.Users); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var entries []entry
	if a.file != "" {
		if entries, a.stamp, err = readHtpasswd(a.file); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	set, err := newUserSet(a.file, entries, a.inline, cacheSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a.users.Store(set)
	a.logLoaded("basic users loaded", set)
	return a, nil
}

// parseInline checks the configuration's users, in name order so errors are stable.
func parseInline(users map[string]string) (map[string]*hash, error) {
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	out := make(map[string]*hash, len(users))
	var errs []error
	for _, u := range names {
		if u == "" || strings.Contains(u, ":") || hasControl(u) || !utf8.ValidString(u) {
			errs = append(errs, fmt.Errorf("users.%q: a user name must be non-empty UTF-8 without ':' or control characters", u))
			continue
		}
		h, err := parseHash(users[u])
		if err != nil {
			errs = append(errs, fmt.Errorf("users.%s: %w", u, err))
			continue
		}
		out[u] = h
	}
	return out, errors.Join(errs...)
}

// logLoaded logs how many users were loaded and warns about weak hashes.
func (a *Authenticator) logLoaded(msg string, s *userSet) {
	a.log.Info(msg, "users", len(s.users), "file", a.file)
	if len(s.users) == 0 {
		a.log.Warn("no basic users: every request with Basic credentials is refused")
	}
	weak := 0
	for _, h := range s.users {
		if h.kind == kindBcrypt && h.cost < 10 {
			weak++
		}
	}
	if weak > 0 {
		a.log.Warn("bcrypt hashes with a cost below 10 are quick to brute-force if leaked; re-hash with `gatehouse passwd`", "users", weak)
	}
	if _, desc, ok := s.mixed(); ok {
		a.log.Warn(mixedWarning, "costs", desc)
	}
}

// mixedWarning explains what hashes of different costs do; see Authenticator.check.
const mixedWarning = "users' hashes have different costs or algorithms, so every refused check pays for each of them (to hide which users exist): re-hash with one cost (`gatehouse passwd`)"

// Warning is something about an Authenticator's users that works but should be changed.
type Warning struct {
	// Field is the configuration key it concerns, relative to the basic block:
	// "htpasswd_file", "users", or "" for both.
	Field string
	Msg   string
}

// Warnings describes what is worth changing in the users loaded now: hashes of
// different costs or algorithms, which make every refused check cost all of them.
func (a *Authenticator) Warnings() []Warning {
	field, desc, ok := a.users.Load().mixed()
	if !ok {
		return nil
	}
	return []Warning{{Field: field, Msg: mixedWarning + " (" + desc + ")"}}
}

// Name is the name given to New ("basic" if that was empty).
func (a *Authenticator) Name() string { return a.name }

// Challenge returns the WWW-Authenticate value for a 401: `Basic realm="<realm>",
// charset="UTF-8"`, whatever the error.
func (a *Authenticator) Challenge(error) string { return a.challenge }

// Authenticate checks the request's Basic credentials. It returns
//   - policy.ErrNoCredentials when there is no Authorization header or none of the
//     Basic scheme (another authenticator may understand it);
//   - an error wrapping policy.ErrRateLimited, without checking anything, when the
//     client's address (IPv6: its /64) failed MaxFailures times within the last minute
//     on any authenticator with the same credentials that shares the Limiter;
//   - an error wrapping policy.ErrBadCredentials for a malformed header (longer than
//     4 KiB, not canonical base64, no colon, an empty user, control characters, a user
//     name that is not UTF-8), more than one Basic header, an unknown user or a wrong
//     password; each of these counts as a failure of the client's address;
//   - the identity {Subject: user, Source: "basic"} otherwise.
//
// An unknown user does the same work as a wrong password of an existing user: the same
// success-cache lookup and the same hashing (see check). Error messages may name the
// user, never the password. Any other error (the context ended while waiting to check)
// is an outage.
func (a *Authenticator) Authenticate(ctx context.Context, r *policy.Request) (*policy.Identity, error) {
	if r == nil || r.HTTP == nil {
		return nil, policy.ErrNoCredentials
	}
	var (
		user, password string
		malformed      error
		basic          int
	)
	for _, v := range r.HTTP.Header.Values("Authorization") {
		u, p, err := parseBasicHeader(v)
		if err == errNotBasic {
			continue
		}
		basic++
		user, password, malformed = u, p, err
	}
	if basic == 0 {
		return nil, policy.ErrNoCredentials
	}
	if basic > 1 {
		malformed = errors.New("more than one Basic Authorization header")
	}
	now := a.now()
	group := clientKey(r.Client)
	lk := limitKey{creds: a.creds, group: group}
	if a.limit.blocked(lk, a.maxFail, now) {
		return nil, policy.Fail(policy.ErrRateLimited, fmt.Sprintf("%s failed %d times within a minute", describeGroup(group), a.maxFail))
	}
	if malformed != nil {
		a.limit.fail(ctx, lk, now)
		return nil, policy.Fail(policy.ErrBadCredentials, "malformed Authorization header").Because(malformed)
	}
	set := a.users.Load()
	h, known := set.users[user]
	if !known {
		h = set.dummies[0]
	}
	// An unknown user's key (over a dummy hash) is never stored, so the lookup misses;
	// it is made anyway so that both take the same path up to the check.
	key := cacheKey(user, password, h)
	if hit := set.cache.ok(key, now); hit && known {
		return &policy.Identity{Subject: user, User: user, Source: "basic"}, nil
	}
	ok, err := a.check(ctx, set, h, known, password)
	if err != nil {
		return nil, err
	}
	switch {
	case !known:
		a.limit.fail(ctx, lk, now)
		return nil, policy.Fail(policy.ErrBadCredentials, fmt.Sprintf("unknown user %q", user))
	case !ok:
		a.limit.fail(ctx, lk, now)
		return nil, policy.Fail(policy.ErrBadCredentials, fmt.Sprintf("wrong password for user %q", user))
	}
	set.cache.add(key, a.now())
	return &policy.Identity{Subject: user, User: user, Source: "basic"}, nil
}

// check reports whether password matches h, the hash of a known user (known) or a
// dummy, once a check slot is free. A match returns at once; a refusal, for an unknown
// user or a wrong password alike, has hashed the password once with every distinct
// parameter set (bcrypt cost, argon2id parameters) the users' hashes have: a known
// user's own hash stands in for the dummy of its parameter set. So every refused check
// does the same work whatever the user name, and its timing says nothing about whether
// the user exists or what its hash costs. The price: with n distinct parameter sets, a
// refusal costs the sum of all n (a success only its own), which is why mixed costs
// are warned about.
//
// The cheaper alternative, hashing an unknown user once with parameters picked by a
// keyed hash of the name so that unknown names spread over the costs as the users do,
// was rejected: a name's cost must then stay put across restarts, replicas and edits of
// the file, or a name whose cost moves is shown to be unknown (real users' costs never
// move), which needs a secret key gatehouse does not have; and anyone who knows which
// costs real accounts tend to have (those made before a default changed) learns from a
// name's cost how likely it is to exist. Doing the same work for every refusal leaves
// nothing to compare.
//
// The whole sequence holds one check slot, so queueing does not depend on the user.
func (a *Authenticator) check(ctx context.Context, set *userSet, h *hash, known bool, password string) (bool, error) {
	select {
	case checkSlots <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("waiting to check a password: %w", ctx.Err())
	}
	defer func() { <-checkSlots }()
	pw := []byte(password)
	defer clear(pw)
	if known && a.match(h, pw) {
		return true, nil
	}
	for _, d := range set.dummies {
		if known && d.id == h.id {
			continue // the user's own hash was this parameter set's check
		}
		a.match(d, pw)
	}
	return false, nil
}

// describeGroup names a client address group in messages.
func describeGroup(p netip.Prefix) string {
	switch {
	case !p.IsValid():
		return "clients of unknown address"
	case p.Addr().Is4():
		return "client " + p.Addr().String()
	}
	return "clients in " + p.String()
}
