package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

const (
	// maxDocBytes bounds the discovery document and the JWKS: real ones are a few KiB.
	maxDocBytes = 1 << 20
	// fetchTimeout bounds one fetch (discovery plus JWKS) whatever the client allows.
	fetchTimeout = 30 * time.Second
)

var (
	errRefreshLimited = errors.New("key refetch rate-limited")
	errClosed         = errors.New("authenticator closed")
	// errStillFetching is returned to a caller that stopped waiting for a fetch which
	// goes on without it.
	errStillFetching = errors.New("key set fetch still in progress")
)

// waitForever, as refresh's wait, waits for the fetch until ctx ends.
const waitForever time.Duration = -1

// fetchKey is the one key of Authenticator.fetches: there is one key set to fetch.
const fetchKey = "jwks"

// Load fetches the key set once, synchronously (joining a fetch already in progress),
// and returns its error. It does not start background refreshes. A failure leaves any
// previously loaded set in use.
func (a *Authenticator) Load(ctx context.Context) error {
	return a.refresh(ctx, false, waitForever)
}

// Start fetches the key set in the background, retrying with exponential backoff (with
// jitter) until the first success, then refreshing every RefreshInterval; after a failed
// refresh it retries with backoff again. It returns at once. The work stops when ctx
// ends or Close is called. Calls after the first are ignored.
func (a *Authenticator) Start(ctx context.Context) {
	a.life.Start(ctx, a.loop)
}

// Close stops background work and waits for it, including any fetch in progress. It
// is idempotent and always returns nil. Authenticate keeps working on the keys already
// loaded but fetches no more.
func (a *Authenticator) Close() error {
	a.life.Close()
	return nil
}

// loop refreshes the key set until ctx ends (Start's context, also ended by Close).
func (a *Authenticator) loop(ctx context.Context) {
	delay := a.retryMin
	for {
		wait := a.interval
		if err := a.refresh(ctx, false, waitForever); err != nil {
			if errors.Is(err, errClosed) || ctx.Err() != nil {
				return
			}
			// Jitter spreads retries from many gateways; the cap keeps a dead
			// endpoint from being hammered.
			wait = delay/2 + rand.N(delay/2+1)
			delay = min(delay*2, a.retryMax, a.interval)
		} else {
			delay = a.retryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// refresh fetches the key set, or joins the fetch already in progress. A fetch
// triggered by a request (an unknown kid, or no key set yet) is allowed at most once
// per min_refresh; a refused one returns errRefreshLimited without waiting. The fetch
// itself runs detached from ctx, so a caller giving up does not abort it for the
// others. The caller waits for the fetch until ctx ends and, unless wait is
// waitForever, for at most wait (zero: not at all); a caller that stops waiting gets
// errStillFetching (or ctx's error) while the fetch goes on.
func (a *Authenticator) refresh(ctx context.Context, triggered bool, wait time.Duration) error {
	a.mu.Lock()
	if a.life.Closed() {
		a.mu.Unlock()
		return errClosed
	}
	// a.fetching and the key in a.fetches change together under a.mu (the fetch
	// forgets its key before it returns), so a caller that finds no fetch in progress
	// starts one and its function is the one that runs; the others join it.
	var done func()
	if !a.fetching {
		if triggered {
			now := a.now()
			if !a.lastTriggered.IsZero() && now.Sub(a.lastTriggered) < a.minRefresh {
				a.mu.Unlock()
				return errRefreshLimited
			}
			a.lastTriggered = now
		}
		var ok bool
		if done, ok = a.life.Track(); !ok {
			a.mu.Unlock()
			return errClosed
		}
		a.fetching = true
	}
	result := a.fetches.DoChan(fetchKey, func() (any, error) {
		defer done()
		fctx, cancel := context.WithTimeout(a.life.Context(), fetchTimeout)
		err := a.fetch(fctx)
		cancel()
		a.mu.Lock()
		a.fetching = false
		a.fetches.Forget(fetchKey)
		a.mu.Unlock()
		return nil, err
	})
	a.mu.Unlock()
	var expired <-chan time.Time
	switch {
	case wait == 0:
		select {
		case r := <-result:
			return r.Err
		default:
			return errStillFetching
		}
	case wait > 0:
		t := time.NewTimer(wait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case r := <-result:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	case <-expired:
		return errStillFetching
	}
}

// fetch loads the JWKS (discovering its URL first if needed) and swaps it in. On
// failure the last good set stays and the error is logged and kept for Ready.
func (a *Authenticator) fetch(ctx context.Context) (err error) {
	defer func() {
		a.mu.Lock()
		a.lastErr = err
		if err == nil {
			a.lastOK = a.now()
		} else {
			a.refreshErrors++
		}
		a.mu.Unlock()
		if err == nil {
			return
		}
		if a.keys.Load() != nil {
			a.log.Warn("JWKS fetch failed; keeping the last good key set", "err", err.Error())
		} else {
			a.log.Error("JWKS fetch failed; no key set loaded, requests are denied", "err", err.Error())
		}
	}()
	jwksURL := a.jwksURL
	if jwksURL == "" {
		a.mu.Lock()
		jwksURL = a.discovered
		a.mu.Unlock()
		if jwksURL == "" {
			if jwksURL, err = a.discover(ctx); err != nil {
				return err
			}
		}
	}
	body, err := a.get(ctx, jwksURL)
	if err == nil {
		var ks *keySet
		if ks, err = parseKeySet(body, a.algs, a.log); err == nil {
			old := a.keys.Swap(ks)
			if a.cache != nil && ks.removedFrom(old) {
				a.cache.clear()
			}
			a.log.Info("JWKS loaded", "keys", ks.count, "url", jwksURL)
			return nil
		}
		err = probe.New(probe.BadDocument, err, "the key set at %s is unusable", jwksURL)
	}
	if a.jwksURL == "" {
		// The discovered URL may be what is wrong: rediscover next time.
		a.mu.Lock()
		a.discovered = ""
		a.mu.Unlock()
	}
	return fmt.Errorf("JWKS %s: %w", jwksURL, err)
}

// discover reads jwks_uri from the issuer's OpenID discovery document, after checking
// that the document names the configured issuer (a document for another issuer would
// hand us another issuer's keys).
func (a *Authenticator) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(a.issuer, "/") + "/.well-known/openid-configuration"
	body, err := a.get(ctx, u)
	if err != nil {
		return "", fmt.Errorf("OpenID discovery %s: %w", u, err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", probe.New(probe.BadDocument, err, "OpenID discovery %s: not JSON", u)
	}
	if doc.Issuer != a.issuer {
		return "", probe.New(probe.IssuerMismatch, nil, "OpenID discovery %s: document is for issuer %q, not %q", u, doc.Issuer, a.issuer)
	}
	if err := checkKeyURL(doc.JWKSURI); err != nil {
		return "", probe.New(probe.BadDocument, err, "OpenID discovery %s: jwks_uri", u)
	}
	a.mu.Lock()
	a.discovered = doc.JWKSURI
	a.mu.Unlock()
	return doc.JWKSURI, nil
}

// checkKeyURL accepts https URLs, and http ones to loopback hosts only (the rule the
// configuration applies to jwks_url): keys fetched in the clear could be forged.
func checkKeyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("not a URL: %q", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("must be https, got %q", s)
}

// checkRedirect keeps the default client from following a redirect to plain http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	return checkKeyURL(req.URL.String())
}

// get fetches a JSON document of at most maxDocBytes.
func (a *Authenticator) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		if pe := probe.Network(err, u, 0); pe != nil {
			return nil, pe
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, probe.New(probe.HTTPStatus, nil, "%s answered HTTP status %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxDocBytes {
		return nil, fmt.Errorf("response larger than %d bytes", maxDocBytes)
	}
	return body, nil
}

// Freshness reports the key set for metrics (policy.Fresher): when it was last fetched,
// how many keys it holds and how many fetches have failed.
func (a *Authenticator) Freshness() (policy.Freshness, bool) {
	f := policy.Freshness{Kind: "jwks"}
	if ks := a.keys.Load(); ks != nil {
		f.Entries = ks.count
	}
	a.mu.Lock()
	f.LastSuccess, f.RefreshErrors = a.lastOK, a.refreshErrors
	a.mu.Unlock()
	return f, true
}
