package jwtauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

type ruleOp int

const (
	opEquals ruleOp = iota
	opOneOf
	opContains
)

// claimRule is a compiled config.ClaimRule on a top-level claim (names such as
// "cognito:groups" or "custom:tenant" are used as written; there are no paths).
type claimRule struct {
	claim  string
	op     ruleOp
	values []string // one for equals and contains
}

func compileRule(r *config.ClaimRule) (claimRule, error) {
	if r == nil || r.Claim == "" {
		return claimRule{}, errors.New("claim name required")
	}
	var rules []claimRule
	if r.Equals != "" {
		rules = append(rules, claimRule{claim: r.Claim, op: opEquals, values: []string{r.Equals}})
	}
	if len(r.OneOf) > 0 {
		rules = append(rules, claimRule{claim: r.Claim, op: opOneOf, values: slices.Clone(r.OneOf)})
	}
	if r.Contains != "" {
		rules = append(rules, claimRule{claim: r.Claim, op: opContains, values: []string{r.Contains}})
	}
	if len(rules) != 1 {
		return claimRule{}, fmt.Errorf("claim %q: set exactly one of equals, one_of, contains", r.Claim)
	}
	return rules[0], nil
}

// checkRules applies the checks that decide whether a valid token is allowed: token_use,
// email_verified, email_domains, hosted_domains, then the claim rules in order. Every
// failure wraps policy.ErrForbidden and names what failed, never the claim's value.
func (a *Authenticator) checkRules(c claims) error {
	if a.tokenUse != "" {
		if use, _, err := c.str("token_use"); err != nil || use != a.tokenUse {
			return forbidden(fmt.Sprintf("token_use is not %q", a.tokenUse))
		}
	}
	if a.emailVerify && !emailVerified(c["email_verified"]) {
		return forbidden("email not verified")
	}
	if len(a.emailDoms) > 0 {
		email, _, err := c.str("email")
		if err != nil || email == "" {
			return forbidden("token has no email claim")
		}
		at := strings.LastIndexByte(email, '@')
		if at < 1 || !slices.Contains(a.emailDoms, strings.ToLower(email[at+1:])) {
			return forbidden("email domain not allowed")
		}
	}
	if len(a.hostedDoms) > 0 {
		hd, _, err := c.str("hd")
		if err != nil || hd == "" {
			return forbidden("token has no hd claim")
		}
		if !slices.Contains(a.hostedDoms, strings.ToLower(hd)) {
			return forbidden("hosted domain not allowed")
		}
	}
	for _, r := range a.rules {
		if err := r.check(c); err != nil {
			return err
		}
	}
	return nil
}

// emailVerified accepts JSON true and also the string "true": Cognito sends
// email_verified as a string in some tokens (ID tokens of federated users, and pools
// with custom attribute mapping), while Google and the OIDC spec use a boolean.
func emailVerified(raw json.RawMessage) bool {
	return bytes.Equal(raw, []byte("true")) || bytes.Equal(raw, []byte(`"true"`))
}

func (r claimRule) check(c claims) error {
	raw, ok := c[r.claim]
	if !ok || isNull(raw) {
		return forbidden(fmt.Sprintf("token has no %s claim", r.claim))
	}
	switch r.op {
	case opEquals, opOneOf:
		if s, ok := scalarText(raw); ok && slices.Contains(r.values, s) {
			return nil
		}
		if r.op == opEquals {
			return forbidden(fmt.Sprintf("claim %s does not equal %q", r.claim, r.values[0]))
		}
		return forbidden(fmt.Sprintf("claim %s is not one of the allowed values", r.claim))
	default: // opContains
		if contains(r.claim, raw, r.values[0]) {
			return nil
		}
		return forbidden(fmt.Sprintf("claim %s does not contain %q", r.claim, r.values[0]))
	}
}

// contains reports whether an array claim has an element whose text is want, or a
// string claim equals it. The OAuth "scope" claim is a space-separated list (RFC 8693
// §4.2, as Cognito access tokens send it), so for it each word counts.
func contains(name string, raw json.RawMessage, want string) bool {
	switch raw[0] {
	case '[':
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return false
		}
		for _, e := range elems {
			if s, ok := scalarText(e); ok && s == want {
				return true
			}
		}
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return false
		}
		if name == "scope" {
			return slices.Contains(strings.Fields(s), want)
		}
		return s == want
	}
	return false
}

// scalarText is a JSON scalar as rule values are written: a string's contents, true or
// false, a number as it appears in the JSON. Null, arrays and objects have none.
func scalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		return string(raw), string(raw) == "true" || string(raw) == "false"
	case '[', '{', 'n':
		return "", false
	}
	return string(raw), true // a number: json.Unmarshal has validated it
}
