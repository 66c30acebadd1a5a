package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
)

// reply is the one place gatehouse writes a response of its own (everything but the
// object responses serve.go writes from the origin, 304s included, and what a login
// endpoint writes). status
// is 204 for a request answered here (a CORS preflight, OPTIONS): no body, never
// stored. Any other status is an error, cause (may be nil) why; in order:
//  1. the route's error_pages entry for the status (an origin object, a built-in page,
//     or a redirect to sign in), with its status and cache lifetime;
//  2. a browser (Accept has text/html) denied 401 or 403 on a route with a login
//     authenticator is redirected (302) to its login path carrying the original URL;
//  3. the plain status with a short fixed body (API clients, everything else).
//
// A 503 because gatehouse ran out of file descriptors says Retry-After: 1; a 416 says
// the object's size in Content-Range. An error page that cannot be fetched from the
// origin falls through to the plain status; the cause is logged.
func (h *Handler) reply(ctx context.Context, w http.ResponseWriter, r *http.Request, st *State, rt *Route, status int, cause error) {
	if status == http.StatusNoContent {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	if status == http.StatusServiceUnavailable && cause != nil && origin.FDExhausted(cause) {
		w.Header().Set("Retry-After", "1") // shed load: come back when descriptors are free
	}
	var re *origin.RangeError
	if status == http.StatusRequestedRangeNotSatisfiable && errors.As(cause, &re) {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", re.Size)) // the object's size
	}
	if rt != nil {
		if ep := rt.ErrorPages[status]; ep != nil && h.errorPage(ctx, w, r, st, rt, status, ep) {
			return
		}
		if rt.Login != nil && (status == http.StatusUnauthorized || status == http.StatusForbidden) && wantsHTML(r) {
			redirectToLogin(w, r, rt)
			return
		}
	}
	httpx.WriteStatus(w, status)
}

// errorPage answers with ep and reports whether it did.
func (h *Handler) errorPage(ctx context.Context, w http.ResponseWriter, r *http.Request, st *State, rt *Route, status int, ep *config.ErrorPage) bool {
	code := ep.Status
	if code == 0 {
		code = status
	}
	cache := "no-store"
	if ep.CacheSeconds > 0 {
		cache = "max-age=" + strconv.Itoa(ep.CacheSeconds)
		if rt.Headers.Private {
			// A shared cache must not keep one user's 403 and serve it to another.
			cache = PrivateCacheControl(cache)
		}
	}
	switch {
	case ep.Login:
		if rt.Login == nil || !wantsHTML(r) {
			return false // API clients get the plain status
		}
		redirectToLogin(w, r, rt)
		return true
	case ep.Builtin != "":
		action := ""
		if rt.Login != nil && r.Method == http.MethodGet {
			action = rt.Login.LoginURL(r.URL.RequestURI())
		}
		w.Header().Set("Cache-Control", cache)
		st.pages.Write(w, code, pages.Defaults(pages.Kind(ep.Builtin), action))
		return true
	case ep.Page != "":
		obj, err := rt.Origin.Get(ctx, ep.Page, origin.GetOptions{})
		if err != nil {
			h.log.Warn("error page unavailable; sending the plain status", "route", rt.Name, "page", ep.Page, "error", err)
			return false
		}
		defer obj.Body.Close()
		hd := w.Header()
		hd.Set("Content-Type", obj.ContentType)
		if obj.ContentType == "" {
			hd.Set("Content-Type", "text/html; charset=utf-8")
		}
		hd.Set("Content-Length", strconv.FormatInt(obj.Length(), 10))
		hd.Set("Cache-Control", cache)
		hd.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(code)
		if r.Method != http.MethodHead {
			io.Copy(w, obj.Body)
		}
		return true
	}
	return false
}

// redirectToLogin sends the browser to the route's login path with the URL it asked
// for (path and query, always relative to this site).
func redirectToLogin(w http.ResponseWriter, r *http.Request, rt *Route) {
	// GET and HEAD alike carry the URL to come back to (wantsHTML admits only those).
	ret := r.URL.RequestURI()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("WWW-Authenticate")
	http.Redirect(w, r, rt.Login.LoginURL(ret), http.StatusFound)
}

// wantsHTML reports whether the client is a browser navigating (Accept names text/html):
// those are sent to sign in; API clients get the plain status.
func wantsHTML(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(v), "text/html") {
			return true
		}
	}
	return false
}
