package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
)

// listingState builds routes with every kind of key mapping over a folder origin, for
// the unit and fuzz tests of the mapping and the tokens.
func listingState(tb testing.TB) *State {
	tb.Helper()
	yml := `
origins:
  o: {dir: {root: "` + tb.TempDir() + `"}}
routes:
  - {path: /files/hidden/*, origin: o, strip_prefix: /files, public: true}
  - {path: /files/*, origin: o, strip_prefix: /files, add_prefix: pub/, listing: true, public: true}
  - {path: /s/*, origin: o, strip_prefix: /s/, listing: true, public: true, index: index.html}
  - {path: /raw/*, origin: o, listing: true, public: true}
  - {path: "*", origin: o, add_prefix: www, listing: true, public: true}
`
	cfg, err := config.Parse("test.yaml", []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	st, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// notLister is an origin without the listing capability.
type notLister struct{ origin.Origin }

// TestListRouteNeedsALister: listing on a route whose origin cannot list is a
// configuration error on the route's listing field; behind a cache, the cached origin's
// own lister is used.
func TestListRouteNeedsALister(t *testing.T) {
	st := listingState(t)
	b := &builder{cfg: st.Config, st: st}
	rt := &Route{OriginName: "o", Origin: notLister{}}
	b.listRoute(3, rt)
	if len(b.errs) != 1 || b.errs[0].Path != "routes[3].listing" || !strings.Contains(b.errs[0].Error(), `origin "o" cannot list its keys`) || rt.Lister != nil {
		t.Fatalf("errors %v, lister %v", b.errs, rt.Lister)
	}
	b.errs = nil
	rt = &Route{Origin: nil} // the origin failed to build: reported there, not again
	b.listRoute(3, rt)
	if len(b.errs) != 0 {
		t.Fatalf("errors %v", b.errs)
	}
}

// TestWantsJSON pins the rule docs/listings.md states.
func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                     false,
		"*/*":                                  false,
		"application/json":                     true,
		"Application/JSON; charset=utf-8":      true,
		"application/*":                        false,
		"text/html,application/json":           false,
		"text/html;q=0.5, application/json":    true,
		"application/json;q=0.5, text/html":    false,
		"application/json;q=0":                 false,
		"application/json;q=NaN":               false,
		"application/json;q=2":                 false,
		"text/html,application/xhtml+xml,*/*":  false,
		"application/json, text/html;q=0.9":    true,
		"application/json;q=0.9, text/html;q=": true, // text/html's q does not parse: 0
	} {
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		if got := wantsJSON(h); got != want {
			t.Errorf("Accept %q: JSON %v, want %v", accept, got, want)
		}
	}
}

// TestListTokenRoundTrip: a token names its position on its own route and folder only.
func TestListTokenRoundTrip(t *testing.T) {
	st := listingState(t)
	rt, _ := st.Match("/files/a/")
	other, _ := st.Match("/raw/a/")
	tok := listToken(rt, "pub/a/", "k1")
	if pos, err := parseListQuery("after="+tok, rt, "pub/a/"); err != nil || pos != "k1" {
		t.Fatalf("round trip: %q, %v", pos, err)
	}
	for name, q := range map[string]struct {
		rt     *Route
		prefix string
	}{"other folder": {rt, "pub/b/"}, "other route": {other, "pub/a/"}} {
		if _, err := parseListQuery("after="+tok, q.rt, q.prefix); err == nil {
			t.Errorf("%s: token accepted", name)
		}
	}
}

// FuzzListQuery: whatever the query, parsing never panics, and a position it accepts
// is valid UTF-8 inside the key length limit and is what the token it came from says.
func FuzzListQuery(f *testing.F) {
	st := listingState(f)
	rt, _ := st.Match("/files/a/")
	for _, s := range []string{"", "after=", "after=" + listToken(rt, "pub/a/", "k1"), "after=%zz", "after=a&after=b", "a;b", "after=" + listToken(rt, "pub/a/", "ü/")} {
		f.Add(s, "pub/a/")
	}
	f.Fuzz(func(t *testing.T, raw, prefix string) {
		// A token gatehouse made names its position; changed in any one byte, it is refused.
		if utf8.ValidString(raw) && raw != "" && len(prefix)+len(raw) <= origin.MaxKeyBytes {
			tok := listToken(rt, prefix, raw)
			if pos, err := parseAfter(rt, prefix, tok); err != nil || pos != raw {
				t.Fatalf("token of %q: %q, %v", raw, pos, err)
			}
			b := []byte(tok)
			i := len(raw) % len(b)
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			if pos, err := parseAfter(rt, prefix, string(b)); err == nil {
				t.Fatalf("token of %q changed at %d accepted: %q", raw, i, pos)
			}
		}
		pos, err := parseListQuery(raw, rt, prefix)
		if err != nil || pos == "" {
			return
		}
		if !utf8.ValidString(pos) || len(prefix)+len(pos) > origin.MaxKeyBytes {
			t.Fatalf("accepted position %q", pos)
		}
		if again, err := parseAfter(rt, prefix, listToken(rt, prefix, pos)); err != nil || again != pos {
			t.Fatalf("re-encoded %q: %q, %v", pos, again, err)
		}
	})
}

// FuzzKeyURL: the URL a listing gives a key is one serving cleans to itself, matches the
// same route and maps back to that key; and folderPrefix agrees with the route's key
// mapping on every path.
func FuzzKeyURL(f *testing.F) {
	st := listingState(f)
	for _, s := range []string{"pub/a.txt", "pub/docs/", "pub/hidden/x", "pub/<b> ?#%\"'.txt", "pub/a//b", "pub/%2e%2e",
		"pub/ü.txt", "x/y", "s/index.html", "www/", "wwwx/y", "raw/../x", `pub/back\slash`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, rt := range st.routes.Values() {
			if rt.Lister == nil {
				continue
			}
			// key stands in for a path here: folderPrefix is KeyMap.Key without the index.
			withIndex, noIndex := rt.Keys, rt.Keys
			withIndex.Index, noIndex.Index = "i", ""
			p, folder := folderPrefix(rt.Keys, key)
			got, ok := withIndex.Key(key)
			_, isObject := noIndex.Key(key)
			if folder == isObject || !ok || (folder && got != p+"i") {
				t.Fatalf("path %q: folderPrefix %q, %v; KeyMap.Key %q (index), object %v", key, p, folder, got, isObject)
			}
			u, ok := st.urlOf(rt, key)
			if !ok {
				continue
			}
			path, err := reqpath.Clean(u)
			if err != nil {
				t.Fatalf("key %q: URL %q refused: %v", key, u, err)
			}
			if m, _ := st.Match(path); m != rt {
				t.Fatalf("key %q: URL %q matches another route", key, u)
			}
			back, ok := rt.Keys.Key(path)
			if strings.HasSuffix(key, "/") || key == "" {
				back, ok = folderPrefix(rt.Keys, path)
			}
			if !ok || back != key {
				t.Fatalf("key %q: URL %q maps back to %q", key, u, back)
			}
		}
	})
}

// TestRegression_ListTokenLastCharacter: a token changed only in the unused bits of its last
// character decoded to the same bytes (base64 decoding was not strict) and was accepted;
// it is refused.
func TestRegression_ListTokenLastCharacter(t *testing.T) {
	st := listingState(t)
	rt, _ := st.Match("/files/a/")
	for _, pos := range []string{"k", "k1", "k12", "k123"} {
		tok := listToken(rt, "pub/a/", pos)
		last := tok[len(tok)-1]
		for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
			if c == last {
				continue
			}
			if got, err := parseAfter(rt, "pub/a/", tok[:len(tok)-1]+string(c)); err == nil {
				t.Errorf("position %q: token with last character %q accepted (%q)", pos, c, got)
			}
		}
	}
}
