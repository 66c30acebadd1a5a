package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/cors"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/route"
	"github.com/gatehouse-dev/gatehouse/internal/upload"
)

// A route with upload.presign gets an upload endpoint at config.UploadEndpointPrefix +
// its name + "/" (package upload answers it). Resolve recognises the prefix before any
// route, as it does the login endpoints; preflights are answered here with the route's
// cors section (its origins, headers, credentials and max age; the endpoint's own
// methods); every other call goes to the endpoint, which authorizes it with the route's
// policy, and out with Cache-Control: no-store and the route's security and CORS
// headers.

// UploadEndpoint is what serving needs of a route's upload endpoint (upload.Endpoint).
type UploadEndpoint interface {
	// Serve authorizes and answers one call; sub is the cleaned path after the
	// endpoint's base. It returns the policy's decision and the cause of a failure, for
	// the access log.
	Serve(w http.ResponseWriter, r *http.Request, preq *policy.Request, sub string) (policy.Decision, error)
	// Decide is the decision Serve starts with (for explain).
	Decide(ctx context.Context, preq *policy.Request) policy.Decision
}

// uploadEndpoint is a route's endpoint as the State holds it.
type uploadEndpoint struct {
	ep    UploadEndpoint
	route *Route
	cors  *cors.Policy // nil: the route has no cors section
}

// endpointMethods are the methods the upload endpoint answers (presign: GET and POST;
// Uppy's abort: DELETE).
var endpointMethods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}

// uploadPath splits a cleaned path under the upload prefix into route name and sub-path.
func uploadPath(path string) (name, sub string, ok bool) {
	rest, ok := strings.CutPrefix(path, config.UploadEndpointPrefix)
	if !ok {
		return "", "", false
	}
	name, sub, _ = strings.Cut(rest, "/")
	return name, sub, true
}

// resolveUpload plans a request under the upload prefix: 404 for a route without an
// endpoint, the preflight's 204 or 403, or the endpoint.
func (s *State) resolveUpload(p *Plan, r *http.Request, name, sub string) *Plan {
	ue, ok := s.uploads[name]
	if !ok || !strings.HasPrefix(p.Path, config.UploadEndpointPrefix+name+"/") {
		return p.refuse(http.StatusNotFound, errors.New("no upload endpoint here"))
	}
	p.Route, p.Upload, p.Sub = ue.route, ue.ep, sub
	ue.route.Headers.Security(p.Header)
	p.Header.Set("Cache-Control", "no-store")
	if ue.cors != nil {
		if cors.IsPreflight(r) {
			p.Preflight = true
			p.Decision = policy.Decision{Allow: true, Reason: "CORS preflight (no credentials needed)"}
			if reason := ue.cors.Preflight(p.Header, r); reason != "" {
				p.Decision.Allow = false
				return p.refuse(http.StatusForbidden, errors.New(reason))
			}
			p.Outcome = Answer
			return p
		}
		ue.cors.Apply(p.Header, r)
	}
	if !slices.Contains(endpointMethods, r.Method) {
		p.Header.Set("Allow", strings.Join(endpointMethods, ", "))
		return p.refuse(http.StatusMethodNotAllowed, errors.New("method "+r.Method+" not allowed on the upload endpoint"))
	}
	p.Outcome = Upload
	return p
}

// serveUpload hands an Upload plan to its endpoint.
func (h *Handler) serveUpload(w *httpx.Recorder, r *http.Request, p *Plan, e *entry, preq *policy.Request) {
	e.rt, e.path, e.route = p.Route, truncate(p.Path), p.Route.Name
	for k, v := range p.Header {
		w.Header()[k] = v
	}
	d, err := p.Upload.Serve(w, r, preq, p.Sub)
	p.Route.metrics.Auth(d.Steps) // verdicts count under the route, the call under "_upload"
	e.cause = err
	e.decision, e.reason, e.identity = "deny", d.Reason, d.Identity
	if d.Allow {
		e.decision = "allow"
	}
}

// presignRoute builds routes[i]'s upload endpoint, when it has a presign section, and
// in mode gateway adds the authenticator that accepts gatehouse's signed PUTs to the
// route's policy (the endpoint keeps deciding with the policy as configured).
func (b *builder) presignRoute(i int, rt *Route, rc *config.Route) {
	if rc.Upload == nil || rc.Upload.Presign == nil {
		return
	}
	ps := rc.Upload.Presign
	pattern, err := route.Compile(rc.Path)
	if err != nil {
		return // reported when the route is added
	}
	// Writes map paths to keys without the index document: a folder is never written.
	writeKeys := route.KeyMap{StripPrefix: rt.Keys.StripPrefix, AddPrefix: rt.Keys.AddPrefix}
	st := b.st // not b: the State must not keep the builder (and the previous State) alive
	ep := &upload.Endpoint{
		Route: rc.Name, Base: config.UploadEndpointPrefix + rc.Name + "/", Policy: rt.Policy,
		Pattern: pattern, Keys: writeKeys, Limits: upload.NewLimits(rc.Upload),
		Mode: ps.Mode, Expires: ps.Expires,
		Owns: func(path string) bool { m, ok := st.routes.Match(path); return ok && m == rt },
	}
	// The origin itself, not the cache in front of it: a decorator hides capabilities.
	o := b.st.origins[rc.Origin]
	ep.Presigner, _ = o.(origin.Presigner)
	ep.Multipart, _ = o.(origin.Multipart)
	switch ps.Mode {
	case config.PresignBucket:
		if ep.Presigner == nil && o != nil {
			b.errorf(fmt.Sprintf("routes[%d].upload.presign.mode", i), "origin %q cannot presign uploads: use mode: gateway", rc.Origin)
		}
	case config.PresignGateway:
		ep.Signer = upload.NewSigner([]byte(ps.Key))
		rt.Policy = upload.WithGatewayAuth(rt.Policy, &upload.GatewayAuth{Route: rc.Name, Keys: writeKeys, Signer: ep.Signer})
	}
	ue := &uploadEndpoint{ep: ep, route: rt}
	if rc.CORS != nil {
		c := *rc.CORS
		c.AllowedMethods = endpointMethods
		c.AllowedHeaders = append(slices.Clone(c.AllowedHeaders), "Content-Type")
		ue.cors = cors.New(&c)
	}
	if b.st.uploads == nil {
		b.st.uploads = map[string]*uploadEndpoint{}
	}
	if _, dup := b.st.uploads[rc.Name]; dup {
		b.errorf(fmt.Sprintf("routes[%d].name", i), "another route with presigned uploads is named %q", rc.Name)
		return
	}
	b.st.uploads[rc.Name] = ue
}

var _ UploadEndpoint = (*upload.Endpoint)(nil)
