// Package revoke is what can be revoked before it expires, and the check every request
// that carries a revocable credential goes through: CloudFront-format signed URLs and
// cookies (by policy, or by the key that signed them), JWTs (by jti, or a subject's
// tokens issued before a time) and the login authenticator's users (their cookies
// issued before a time). docs/revocation.md describes it for users.
//
// A Revocation is one record. A Set holds every record a replica knows, as an immutable
// snapshot swapped atomically, so the checks on the hot path take no lock, make no
// network call and allocate nothing unless something matches. A Store (Redis, in the
// fleet package) keeps the records for the whole fleet and pushes changes to every
// replica's Set. This package does no I/O.
package revoke

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Kind is what a revocation matches.
type Kind string

// The kinds of revocation.
const (
	// KindPolicy: one signed policy. Value is the lowercase hex SHA-256 of the policy
	// document the signature covers: the decoded Policy bytes of a custom policy, or
	// for a canned policy (Expires) the canned policy JSON rebuilt from the URL
	// (cfsign.CannedPolicyJSON).
	KindPolicy Kind = "policy"
	// KindKey: everything a key pair ID signed; with Before, only what it signed
	// before that time (see Revocation.MaxLifetime for how that is decided).
	KindKey Kind = "key"
	// KindJWT: one JWT, by its jti claim.
	KindJWT Kind = "jwt"
	// KindSubject: a JWT subject's tokens (sub) whose iat is not after Before (the
	// second of Before included: see Set.CheckSignedIssued). A token
	// without iat counts as issued before it.
	KindSubject Kind = "subject"
	// KindUser: the login cookies of a user (the name the login authenticator records:
	// the ID token's email, else its sub) issued before Before.
	KindUser Kind = "user"
)

// Kinds are every kind, in the order the docs list them.
var Kinds = []Kind{KindPolicy, KindKey, KindJWT, KindSubject, KindUser}

// Revocation is one revoked thing. Times are RFC 3339 in JSON and omitted when zero.
type Revocation struct {
	// ID is deterministic (see ComputeID): the same revocation made twice, on two
	// replicas, is one record.
	ID    string `json:"id,omitempty"`
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
	// Before limits key, subject and user revocations to what was signed or issued
	// before it. Required for subject and user (a server fills in now for user), not
	// allowed for policy and jwt.
	Before time.Time `json:"before,omitzero"`
	// MaxLifetime is, for a key revocation with Before, the longest lifetime any
	// policy that key signs is given. CloudFront policies carry no signing time, so a
	// policy counts as signed before Before when its DateLessThan minus MaxLifetime is
	// before Before: everything really signed before Before is refused, and so is what
	// was signed after Before with a lifetime shorter than MaxLifetime, for at most
	// MaxLifetime minus that lifetime after Before (fail closed). Cookies a login
	// authenticator issued carry their exact issue time instead (DateLessThan minus
	// its cookie_lifetime), which is used when known.
	MaxLifetime Duration `json:"max_lifetime,omitzero"`
	// Expires is when the record may be forgotten because what it revokes has expired
	// anyway; zero keeps it until it is lifted.
	Expires time.Time `json:"expires,omitzero"`
	// Created is when the record was made (set by the server).
	Created time.Time `json:"created,omitzero"`
	// Reason is free text for people, shown by `gatehouse revoke list`.
	Reason string `json:"reason,omitempty"`
}

// ComputeID is the record's ID: the hex of the first 16 bytes of the SHA-256 over the
// kind, the value, Before (RFC 3339 with nanoseconds, UTC; empty when zero) and
// MaxLifetime (in nanoseconds; empty when zero), each prefixed by its length. Expires,
// Created and Reason take no part, so making the same revocation again finds the same
// record.
func (r Revocation) ComputeID() string {
	var before, life string
	if !r.Before.IsZero() {
		before = r.Before.UTC().Format(time.RFC3339Nano)
	}
	if r.MaxLifetime != 0 {
		life = strconv.FormatInt(int64(r.MaxLifetime), 10)
	}
	h := sha256.New()
	var n [8]byte
	for _, f := range []string{string(r.Kind), r.Value, before, life} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}

// Expired reports whether the record may be forgotten at now.
func (r Revocation) Expired(now time.Time) bool {
	return !r.Expires.IsZero() && !now.Before(r.Expires)
}

// DefaultExpiry is when the record can expire given only what it says: for a key
// revocation with Before and MaxLifetime, Before + MaxLifetime (no policy signed
// before Before is valid after it); otherwise zero (the caller must know more).
func (r Revocation) DefaultExpiry() time.Time {
	if r.Kind == KindKey && !r.Before.IsZero() && r.MaxLifetime > 0 {
		return r.Before.Add(time.Duration(r.MaxLifetime))
	}
	return time.Time{}
}

// Duration is a time.Duration written in JSON as a string: Go's syntax ("168h",
// "90m") or a whole number of days ("7d").
type Duration time.Duration

// MarshalJSON writes the duration in Go's syntax.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, time.Duration(d).String()), nil
}

// UnmarshalJSON reads Go's syntax or "Nd".
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return errors.New("want a duration string such as \"168h\" or \"7d\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads Go's duration syntax or a whole number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, errors.New("want a duration such as 168h or 7d, got " + strconv.Quote(clip(s)))
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a duration such as 168h or 7d, got " + strconv.Quote(clip(s)))
	}
	return v, nil
}

// ErrNotFound is a Store's answer to lifting an ID it does not hold.
var ErrNotFound = errors.New("no such revocation")

// Store keeps the records of a whole fleet. The fleet package implements it on Redis
// and pushes every change to each replica's Set (Apply, Lift). Add stores r (ID
// computed, Created set by the caller) and returns the stored record: adding a record
// that exists keeps one record, with the later of the two expiries. Lift removes a
// record (ErrNotFound when there is none). List returns every unexpired record.
type Store interface {
	Add(ctx context.Context, r Revocation) (Revocation, error)
	Lift(ctx context.Context, id string) error
	List(ctx context.Context) ([]Revocation, error)
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
