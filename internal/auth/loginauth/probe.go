package loginauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// maxProbeDoc bounds what Probe reads of a discovery document or key set.
const maxProbeDoc = 1 << 20

// Probe checks the provider as a sign-in will use it: the discovery document answers,
// names exactly the configured issuer (go-oidc refuses a sign-in otherwise, and the
// visitor would get a 502), and its jwks_uri answers with at least one key. It backs
// /readyz and `gatehouse check --probe`, and is called again each probe round, so a
// provider that goes away shows. A failure is a *probe.Error: connection_refused,
// dns_not_found, tls_error, timeout, unreachable, http_status, issuer_mismatch or
// bad_document. It does not change what sign-ins use (they discover on their own).
func (a *Authenticator) Probe(ctx context.Context) error {
	u := strings.TrimSuffix(a.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
		Token   string `json:"token_endpoint"`
	}
	if err := a.getJSON(ctx, "OpenID discovery", u, &doc); err != nil {
		return err
	}
	if doc.Issuer != a.cfg.Issuer {
		return probe.New(probe.IssuerMismatch, nil,
			"the provider at %s says its issuer is %q, not the configured %q: set issuer to exactly %q",
			u, doc.Issuer, a.cfg.Issuer, doc.Issuer)
	}
	if doc.JWKSURI == "" || doc.Token == "" {
		return probe.New(probe.BadDocument, nil, "the OpenID discovery document at %s lacks jwks_uri or token_endpoint", u)
	}
	var keys struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := a.getJSON(ctx, "key set", doc.JWKSURI, &keys); err != nil {
		return err
	}
	if len(keys.Keys) == 0 {
		return probe.New(probe.BadDocument, nil, "the provider's key set at %s has no keys", doc.JWKSURI)
	}
	return nil
}

// getJSON fetches u with the provider's client and decodes it into v; what is the
// document's name in messages.
func (a *Authenticator) getJSON(ctx context.Context, what, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return probe.New(probe.Other, err, "%s URL %q is not usable", what, u)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		if pe := probe.Network(err, u, 0); pe != nil {
			return pe
		}
		return probe.New(probe.Unreachable, err, "%s at %s failed", what, u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return probe.New(probe.HTTPStatus, nil, "%s at %s answered HTTP status %s", what, u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeDoc+1))
	if err != nil {
		if pe := probe.Network(err, u, 0); pe != nil {
			return pe
		}
		return probe.New(probe.Unreachable, err, "%s at %s failed", what, u)
	}
	if len(body) > maxProbeDoc {
		return probe.New(probe.BadDocument, nil, "%s at %s is larger than %d bytes", what, u, maxProbeDoc)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return probe.New(probe.BadDocument, err, "%s at %s is not the JSON expected", what, u)
	}
	return nil
}
