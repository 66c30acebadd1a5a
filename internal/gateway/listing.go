package gateway

// Folder listings (config listing: true; docs/listings.md). A GET or HEAD of a folder
// path on a listing route (a path whose key, before any index document, is empty or
// ends in '/') answers the route's index document when the route has one and it
// exists, as nginx's autoindex does, and otherwise one page of what lies directly
// under the folder's key prefix: an HTML page, or JSON when the client asks for it
// (wantsJSON). The route's policy has run first (Resolve), so a caller who may not GET
// the folder never sees a listing. Listings are read from the origin itself, never
// from the cache.
//
// Only keys that map back to a URL on the same route are shown (urlOf): a key outside
// the route's add_prefix, or one whose URL serving would clean, refuse, or hand to
// another route, is left out, so every link on a listing fetches the object it names.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/httpx"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/pages"
	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
	"github.com/gatehouse-dev/gatehouse/internal/route"
	"github.com/gatehouse-dev/gatehouse/internal/upload"
)

// listPageSize is the most entries (folders plus objects) one listing page asks the
// origin for.
const listPageSize = origin.MaxListKeys

// listRoute gives routes[i] the origin that lists its folders: the route's origin, or
// the one behind its cache. An origin that cannot list is a configuration error.
func (b *builder) listRoute(i int, rt *Route) {
	o := rt.Origin
	if o == nil {
		return // the origin failed to build, which is reported already
	}
	if d, ok := o.(interface{ Next() origin.Origin }); ok {
		o = d.Next() // the cache: listings are never cached
	}
	l, ok := o.(origin.Lister)
	if !ok {
		b.errorf(fmt.Sprintf("routes[%d].listing", i), "origin %q cannot list its keys", rt.OriginName)
		return
	}
	rt.Lister = l
}

// folder reports whether a request with method for path asks rt for a folder
// listing, and returns the folder's key prefix.
func (rt *Route) folder(method, path string) (string, bool) {
	if rt.Lister == nil || (method != http.MethodGet && method != http.MethodHead) {
		return "", false
	}
	return folderPrefix(rt.Keys, path)
}

// folderPrefix maps a path to a key as route.KeyMap.Key does before it appends the index
// document, and returns the key when the path names a folder (the key is empty or ends
// in '/').
func folderPrefix(k route.KeyMap, path string) (string, bool) {
	rel := strings.TrimPrefix(path, k.StripPrefix)
	rel = strings.TrimPrefix(rel, "/")
	if rel != "" && !strings.HasSuffix(rel, "/") {
		return "", false
	}
	return k.AddPrefix + rel, true
}

// list makes p a listing of the folder at prefix, trying the route's index document
// first when it has one.
func (p *Plan) list(prefix string, h http.Header) *Plan {
	key, index := p.Route.Keys.Key(p.Path)
	for _, k := range []string{prefix, key} {
		if err := origin.CheckKey(k); err != nil {
			return p.refuse(http.StatusRequestURITooLong, err)
		}
	}
	if err := origin.CheckConditionHeaders(h); err != nil {
		return p.refuse(http.StatusRequestHeaderFieldsTooLarge, err)
	}
	p.Outcome, p.Prefix = List, prefix
	if index {
		p.Key = key
	}
	return p
}

// serveList carries out a List plan: the index document when there is one, else a page
// of the listing.
func serveList(ctx context.Context, w *httpx.Recorder, r *http.Request, st *State, p *Plan, e *entry) error {
	if p.Key != "" {
		e.key = p.Key
		err := fetch(ctx, w, r, p, &e.served)
		if !errors.Is(err, origin.ErrNotFound) || w.Started() {
			return err
		}
		w.Header().Del("X-Cache") // what follows is not from the cache
		e.served = origin.Served{}
	}
	e.key = p.Prefix
	after, err := parseListQuery(r.URL.RawQuery, p.Route, p.Prefix)
	if err != nil {
		return &httpx.Error{Status: http.StatusBadRequest, Cause: err}
	}
	l, err := st.listPage(ctx, p, after)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Set("Cache-Control", "no-store")
	body := r.Method != http.MethodHead
	if wantsJSON(r.Header) {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if body {
			w.Write(b)
		}
		return nil
	}
	pl := l.page(st, p.Route)
	pl.Upload = st.uploadForm(ctx, r, p, l, e)
	st.pages.WriteListing(w, pl, body)
	return nil
}

// uploadForm is the listing page's upload form (docs/listings.md, "Uploads from the
// page"), or nil: only on a route whose upload endpoint presigns with the bucket, for a
// caller who may write in the folder (upload.Endpoint.ListingForm says which), signed
// to come back to the folder's first page at the scheme and host the caller used. The
// route's policy has already allowed the caller, as the endpoint's own would. A failure
// to sign leaves the page without a form, its cause in the access log.
func (s *State) uploadForm(ctx context.Context, r *http.Request, p *Plan, l *listing, e *entry) *pages.UploadForm {
	ue, ok := s.uploads[p.Route.Name]
	if !ok || ue.route != p.Route {
		return nil
	}
	ep, ok := ue.ep.(*upload.Endpoint)
	if !ok || r.Host == "" {
		return nil
	}
	_, scheme := s.proxies.Client(r)
	f, err := ep.ListingForm(ctx, p.Decision.Identity, p.Prefix, scheme+"://"+r.Host+l.url)
	if err != nil {
		if !errors.Is(err, upload.ErrNoForm) {
			e.cause = fmt.Errorf("listing upload form: %w", err)
		}
		return nil
	}
	names := slices.Sorted(maps.Keys(f.Fields))
	form := &pages.UploadForm{Action: f.URL, TypePrefix: f.TypePrefix, Accept: f.Accept, MaxSize: f.MaxSize}
	for _, n := range names {
		form.Fields = append(form.Fields, pages.Field{Name: n, Value: f.Fields[n]})
	}
	return form
}

// listing is one page of a folder listing; its JSON form is the API (docs/listings.md).
type listing struct {
	Path    string       `json:"path"`
	Folders []listFolder `json:"folders"`
	Objects []listObject `json:"objects"`
	// Next is the after= value of the following page; null on the last.
	Next *string `json:"next"`
	url  string  // the folder's URL (escaped path)
}

type listFolder struct {
	Name string `json:"name"` // relative to the folder, ending in '/'
	URL  string `json:"url"`
}

type listObject struct {
	Name         string    `json:"name"`
	URL          string    `json:"url"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified"`
	ETag         string    `json:"etag"`
}

// listPage asks the origin for the page after position after (relative to the prefix;
// "" for the first page) and keeps what maps back to the route. A folder that holds
// nothing is not found (S3 has no folders), except the route's top folder, which may
// be empty.
func (s *State) listPage(ctx context.Context, p *Plan, after string) (*listing, error) {
	rt, prefix := p.Route, p.Prefix
	start := ""
	if after != "" {
		start = prefix + after
	}
	page, err := rt.Lister.List(ctx, prefix, origin.ListOptions{Delimiter: "/", StartAfter: start, Max: listPageSize})
	if err != nil {
		return nil, err
	}
	l := &listing{Path: p.Path, Folders: []listFolder{}, Objects: []listObject{}, url: escapePath(p.Path)}
	last := start
	for _, f := range page.Prefixes {
		last = max(last, f)
		// An origin may list again the folder the page starts after (S3 does, for a
		// StartAfter that is a common prefix); entries up to the start are skipped.
		if f <= start || !strings.HasPrefix(f, prefix) {
			continue
		}
		if u, ok := s.urlOf(rt, f); ok {
			l.Folders = append(l.Folders, listFolder{Name: f[len(prefix):], URL: u})
		}
	}
	for _, o := range page.Objects {
		last = max(last, o.Key)
		if o.Key <= start || !strings.HasPrefix(o.Key, prefix) || o.Key == prefix {
			continue // o.Key == prefix: an S3 console's folder marker
		}
		if u, ok := s.urlOf(rt, o.Key); ok {
			l.Objects = append(l.Objects, listObject{Name: o.Key[len(prefix):], URL: u, Size: o.Size,
				LastModified: o.LastModified.UTC(), ETag: o.ETag})
		}
	}
	if page.Next != "" {
		if last <= start || !strings.HasPrefix(last, prefix) {
			return nil, errors.New("origin listing did not advance past its start")
		}
		next := listToken(rt, prefix, last[len(prefix):])
		l.Next = &next
	}
	if after == "" && l.Next == nil && len(l.Folders) == 0 && len(l.Objects) == 0 && prefix != rt.Keys.AddPrefix {
		return nil, fmt.Errorf("%w: nothing under %q", origin.ErrNotFound, prefix)
	}
	return l, nil
}

// page is the listing as the built-in page shows it.
func (l *listing) page(s *State, rt *Route) pages.Listing {
	pl := pages.Listing{Path: l.Path, Crumbs: s.crumbs(rt, l.Path)}
	for _, f := range l.Folders {
		pl.Folders = append(pl.Folders, pages.Link{Name: f.Name, URL: f.URL})
	}
	for _, o := range l.Objects {
		pl.Objects = append(pl.Objects, pages.Object{Name: o.Name, URL: o.URL, Size: o.Size, LastModified: o.LastModified})
	}
	if l.Next != nil {
		pl.NextURL = l.url + "?after=" + *l.Next
		pl.FirstURL = l.url
	}
	return pl
}

// urlOf returns the URL (escaped path) at which serving maps to key on rt, when there is
// one: the inverse of the route's key mapping (add_prefix removed, strip_prefix put
// back), accepted only if that URL comes through path cleaning unchanged, matches rt
// and not an earlier route, and maps to key again. Keys ending in '/' are folders.
func (s *State) urlOf(rt *Route, key string) (string, bool) {
	rel, ok := strings.CutPrefix(key, rt.Keys.AddPrefix)
	if !ok {
		return "", false
	}
	path := rt.Keys.StripPrefix
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	path += rel
	esc := escapePath(path)
	if clean, err := reqpath.Clean(esc); err != nil || clean != path {
		return "", false
	}
	if m, ok := s.Match(path); !ok || m != rt {
		return "", false
	}
	var back string
	if key == "" || strings.HasSuffix(key, "/") {
		back, ok = folderPrefix(rt.Keys, path)
	} else {
		back, ok = rt.Keys.Key(path)
	}
	if !ok || back != key {
		return "", false
	}
	return esc, true
}

// escapePath percent-encodes each segment of a decoded path, so that a name holding
// '?', '#', '%', spaces or quotes stays one segment of the URL's path.
func escapePath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// crumbs names each folder from the site root down to path, linked when it is a
// listing folder of rt whose URL is that path.
func (s *State) crumbs(rt *Route, path string) []pages.Link {
	names, paths := []string{"/"}, []string{"/"}
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		if seg != "" {
			names, paths = append(names, seg+"/"), append(paths, paths[len(paths)-1]+seg+"/")
		}
	}
	out := make([]pages.Link, len(names))
	for i, c := range paths {
		out[i].Name = names[i]
		if prefix, ok := folderPrefix(rt.Keys, c); ok {
			if u, ok := s.urlOf(rt, prefix); ok && u == escapePath(c) {
				out[i].URL = u
			}
		}
	}
	return out
}

// Continuation tokens. A token is the last entry of the previous page (relative to the
// folder's prefix) with a checksum binding it to the route and the folder, base64url
// without padding. It is not secret: a client that forges a valid one can only start
// the listing at another position of the same folder, which it may list anyway. A
// token that does not decode, fails its checksum or names an impossible position is
// refused (400) before the origin is asked.
const (
	tokenSumLen = 8
	maxTokenLen = (tokenSumLen + origin.MaxKeyBytes + 2) / 3 * 4
)

// errBadToken is the cause of every refused token.
var errBadToken = errors.New("listing: bad continuation token")

// listToken is the token of the page that starts after pos, in the folder at prefix.
func listToken(rt *Route, prefix, pos string) string {
	sum := tokenSum(rt, prefix, pos)
	return base64.RawURLEncoding.EncodeToString(append(sum[:tokenSumLen:tokenSumLen], pos...))
}

func tokenSum(rt *Route, prefix, pos string) [32]byte {
	return sha256.Sum256([]byte("gatehouse listing token v1\x00" + rt.Pattern + "\x00" + prefix + "\x00" + pos))
}

// parseAfter returns the position a token names; see listToken.
func parseAfter(rt *Route, prefix, tok string) (string, error) {
	if len(tok) > maxTokenLen {
		return "", fmt.Errorf("%w: too long", errBadToken)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok) // one encoding per token
	if err != nil || len(b) <= tokenSumLen {
		return "", fmt.Errorf("%w: does not decode", errBadToken)
	}
	pos := string(b[tokenSumLen:])
	sum := tokenSum(rt, prefix, pos)
	if string(sum[:tokenSumLen]) != string(b[:tokenSumLen]) {
		return "", fmt.Errorf("%w: checksum does not match this folder", errBadToken)
	}
	if !utf8.ValidString(pos) || len(prefix)+len(pos) > origin.MaxKeyBytes {
		return "", fmt.Errorf("%w: not a position in a listing", errBadToken)
	}
	return pos, nil
}

// parseListQuery reads the after= parameter of a listing request ("" for the first
// page). Other parameters are ignored; a query that does not parse, or names after
// twice, is refused.
func parseListQuery(raw string, rt *Route, prefix string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("listing: query does not parse: %w", err)
	}
	vs := q["after"]
	switch {
	case len(vs) > 1:
		return "", errors.New("listing: after given more than once")
	case len(vs) == 0 || vs[0] == "":
		return "", nil
	}
	return parseAfter(rt, prefix, vs[0])
}

// wantsJSON reports whether a listing is sent as JSON: when the Accept header lists
// application/json with a higher q-value than text/html. A type not listed counts as
// q=0, wildcards count for neither, and a q-value that does not parse as a number from
// 0 to 1 counts as 0; so browsers, curl (*/*) and a missing Accept get HTML.
func wantsJSON(h http.Header) bool {
	var qJSON, qHTML float64
	for _, v := range h.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, _ := strings.Cut(part, ";")
			q := 1.0
			for prm := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(prm, "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
					continue
				}
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || !(f >= 0 && f <= 1) {
					f = 0
				}
				q = f
			}
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/json":
				qJSON = max(qJSON, q)
			case "text/html":
				qHTML = max(qHTML, q)
			}
		}
	}
	return qJSON > qHTML
}
