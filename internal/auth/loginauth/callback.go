package loginauth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/internal/pages"
)

// failure is why a sign-in step failed: the status of the page the browser gets (a
// page that names no cause, with a link to sign in again and come back to ret), and the
// reason and cause that only the log sees.
type failure struct {
	status int
	ret    string // where signing in again returns to
	reason string // for the log
	cause  error  // for the log; nil when reason says it all
}

// failed is a failure of a sign-in step.
func failed(status int, ret, reason string, cause error) *failure {
	return &failure{status: status, ret: ret, reason: reason, cause: cause}
}

func (f *failure) Error() string {
	if f.cause != nil {
		return f.reason + ": " + f.cause.Error()
	}
	return f.reason
}

func (f *failure) Unwrap() error { return f.cause }

// fail logs why a sign-in failed and shows a page that does not say. An error that is
// not a *failure is answered as an internal error.
func (a *Authenticator) fail(w http.ResponseWriter, err error) {
	var f *failure
	if !errors.As(err, &f) {
		f = failed(http.StatusInternalServerError, a.Landing(), "sign-in failed", err)
	}
	attrs := []any{"reason", f.reason, "status", f.status}
	if f.cause != nil {
		attrs = append(attrs, "error", f.cause.Error())
	}
	a.log.Warn("login: sign-in failed", attrs...)
	a.pages.Write(w, f.status, pages.Defaults(pages.Failed, a.LoginURL(f.ret)))
}

// signIn is a callback whose state and ID token checked out: who signed in, with what
// claims, and where to return.
type signIn struct {
	ret     string
	who     string // email, or the subject when there is none
	subject string
	claims  map[string]any
}

// callback finishes a sign-in: it checks the callback against the state cookie, verifies
// the provider's answer, applies the access rules and, if they allow, sets the signed
// cookies and sends the browser back where it was going.
func (a *Authenticator) callback(w http.ResponseWriter, r *http.Request, scheme, host string) {
	// The state cookie is single use: cleared whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: a.cfg.CallbackPath, MaxAge: -1,
		Secure: *a.cfg.CookieSecure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	now := a.now()
	s, err := a.verifyCallback(r, scheme, host, now)
	if err != nil {
		a.fail(w, err)
		return
	}
	if err := a.check(s.claims); err != nil {
		a.log.Info("login: denied", "user", s.who, "reason", err.Error())
		a.pages.Write(w, http.StatusForbidden, pages.Defaults(pages.Denied, a.LoginURL(s.ret)+"&prompt=login"))
		return
	}
	cookies, err := a.issue(host, s.who, now)
	if err != nil {
		a.fail(w, failed(http.StatusInternalServerError, s.ret, "signing cookies", err))
		return
	}
	for _, ck := range cookies {
		http.SetCookie(w, ck)
	}
	a.log.Info("login: signed in", "user", s.who, "subject", s.subject, "expires", now.Add(a.cfg.CookieLifetime).UTC().Format(time.RFC3339))
	http.Redirect(w, r, s.ret, http.StatusFound)
}

// verifyCallback checks a callback request: the state cookie opens, its state matches
// the query and was not used before, the provider reports no error, and the code
// exchange yields an ID token that verifies with the flow's nonce. Any failure is a
// *failure.
func (a *Authenticator) verifyCallback(r *http.Request, scheme, host string, now time.Time) (*signIn, error) {
	c, err := r.Cookie(stateCookie)
	if err != nil {
		return nil, failed(http.StatusBadRequest, a.Landing(), "callback without a state cookie (expired, or opened in another browser)", errBadState)
	}
	f, err := a.sealer.open(c.Value, now)
	if err != nil {
		return nil, failed(http.StatusBadRequest, a.Landing(), "callback with a bad state cookie", err)
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return nil, failed(http.StatusBadRequest, f.Return, "state parameter does not match the state cookie", nil)
	}
	switch fresh, err := a.spent.Use(f.State, time.Unix(f.Expires, 0), now); {
	case err != nil:
		return nil, failed(http.StatusServiceUnavailable, f.Return, "cannot check that the sign-in state is unused", err)
	case !fresh:
		return nil, failed(http.StatusBadRequest, f.Return, "state already used (replayed callback)", nil)
	}
	// The code too: a provider should refuse a code used once, but not every one does
	// within the code's lifetime; with a fleet, this holds on every replica.
	if code := q.Get("code"); code != "" {
		switch fresh, err := a.spent.Use("code\x00"+code, time.Unix(f.Expires, 0), now); {
		case err != nil:
			return nil, failed(http.StatusServiceUnavailable, f.Return, "cannot check that the sign-in code is unused", err)
		case !fresh:
			return nil, failed(http.StatusBadRequest, f.Return, "code already used (replayed callback)", nil)
		}
	}
	if e := q.Get("error"); e != "" {
		return nil, failed(http.StatusUnauthorized, f.Return, "provider returned an error", fmt.Errorf("%s: %s", clip(e), clip(q.Get("error_description"))))
	}
	p, err := a.getProvider(r.Context())
	if err != nil {
		return nil, failed(http.StatusBadGateway, f.Return, "provider discovery failed", err)
	}
	ctx := oidc.ClientContext(r.Context(), a.client)
	tok, err := a.oauth2Config(p, scheme, host).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, failed(http.StatusBadGateway, f.Return, "code exchange failed", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, failed(http.StatusBadGateway, f.Return, "token response has no id_token", nil)
	}
	idt, err := p.VerifierContext(ctx, &oidc.Config{ClientID: a.cfg.ClientID, Now: a.now}).Verify(ctx, raw)
	if err != nil {
		return nil, failed(http.StatusUnauthorized, f.Return, "ID token refused", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, failed(http.StatusUnauthorized, f.Return, "ID token nonce does not match", nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, failed(http.StatusUnauthorized, f.Return, "ID token claims", err)
	}
	who := claimString(claims, "email")
	if who == "" {
		who = idt.Subject
	}
	return &signIn{ret: f.Return, who: who, subject: idt.Subject, claims: claims}, nil
}
