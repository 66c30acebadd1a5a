package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// listStore is an origin the listing tests run against: a folder, or a MinIO bucket.
type listStore struct {
	name   string
	origin string // the origin's YAML (flow mapping)
	put    func(t *testing.T, keys map[string]string)
}

var listBuckets atomic.Int32

// listStores are a folder and, when MinIO runs, a fresh bucket.
func listStores(t *testing.T) []listStore {
	dir := t.TempDir()
	out := []listStore{{name: "dir", origin: fmt.Sprintf("{dir: {root: %q}}", dir), put: func(t *testing.T, keys map[string]string) {
		for k, v := range keys {
			p := filepath.Join(dir, filepath.FromSlash(k))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}}}
	if minio == nil {
		t.Log("MinIO not available: listing tests run against the folder origin only")
		return out
	}
	bucket := fmt.Sprintf("listing-%d", listBuckets.Add(1))
	minio.CreateBucket(t, bucket)
	return append(out, listStore{name: "s3", origin: fmt.Sprintf("{s3: {bucket: %s, endpoint: %q, path_style: true, access_key_id: %q, secret_access_key: %q}}",
		bucket, minio.Endpoint, minio.AccessKey, minio.SecretKey),
		put: func(t *testing.T, keys map[string]string) {
			work := make(chan [2]string)
			var wg sync.WaitGroup
			var failed atomic.Value
			for range 16 {
				wg.Go(func() {
					for kv := range work {
						_, err := minio.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(kv[0]), Body: strings.NewReader(kv[1])})
						if err != nil {
							failed.Store(fmt.Errorf("put %q: %w", kv[0], err))
						}
					}
				})
			}
			for k, v := range keys {
				work <- [2]string{k, v}
			}
			close(work)
			wg.Wait()
			if err, _ := failed.Load().(error); err != nil {
				t.Fatal(err)
			}
		}})
}

// weirdNames need escaping in HTML or in URLs, and each must round-trip: the link a
// listing gives fetches that object.
var weirdNames = []string{"<script>alert(1).txt", "<img src=x onerror=alert(1)>.txt", "a b.txt", "ünïcødé ✓.txt", "q?x#y%z.txt", `quote"s'.txt`,
	"semi;colon&amp.txt", "plus+eq=,.txt", "percent%41.txt", "tick`~!@$^*()[]{}|.txt"}

// oddNames cannot be reached through a URL on the route (path cleaning refuses or
// changes them), so listings leave them out.
var oddNames = []string{`back\slash.txt`, "%2e%2e.txt", "enc%2Fslash.txt", "tab\tname.txt"}

func listingKeys() map[string]string {
	keys := map[string]string{
		"outside.txt":              "not under pub/",
		"pub/top.txt":              "top",
		"pub/docs/a.txt":           "a",
		"pub/docs/sub/b.txt":       "b",
		"pub/docs/sub/deep/c.txt":  "c",
		"pub/hidden/x.txt":         "served by an earlier route",
		"pub/withindex/index.html": "<h1>the index</h1>",
		"pub/withindex/other.txt":  "other",
		"pub/many/k00998x/x.txt":   "a folder at the end of page 1",
		"pub/many/k01996x/x.txt":   "a folder at the end of page 2",
	}
	for i := range 2500 {
		keys[fmt.Sprintf("pub/many/k%05d", i)] = "n"
	}
	for _, n := range append(slices.Clone(weirdNames), oddNames...) {
		keys["pub/weird/"+n] = n
	}
	return keys
}

const listingRoutes = `
routes:
  - path: /files/hidden/*
    origin: o
    strip_prefix: /files
    public: true
  - path: /files/*
    origin: o
    strip_prefix: /files
    add_prefix: pub/
    listing: true
    public: true
  - path: /private/*
    origin: o
    strip_prefix: /private
    add_prefix: pub/
    listing: true
    auth:
      methods:
        - basic: {users: {alice: "%s"}}
  - path: /plain/*
    origin: o
    strip_prefix: /plain
    add_prefix: pub/
    index: index.html
    public: true
  - path: /site/*
    origin: o
    strip_prefix: /site
    add_prefix: pub/
    index: index.html
    listing: true
    public: true
  - path: /empty/*
    origin: o
    strip_prefix: /empty
    add_prefix: nothing-here/
    listing: true
    public: true
  - path: /cached/*
    origin: o
    strip_prefix: /cached
    add_prefix: pub/
    listing: true
    public: true
    cache: {policy: optimized}
`

// TestListing runs every listing behaviour against a folder and a MinIO bucket holding
// the same keys.
func TestListing(t *testing.T) {
	for _, s := range listStores(t) {
		t.Run(s.name, func(t *testing.T) {
			s.put(t, listingKeys())
			yml := "cache: {memory: {max_size: 16MiB}}\norigins:\n  o: " + s.origin + "\n" + fmt.Sprintf(listingRoutes, aliceFastHash)
			g := startGateway(t, yml, nil)
			t.Run("pages", func(t *testing.T) { testListingPages(t, g) })
			t.Run("folders", func(t *testing.T) { testListingFolders(t, g) })
			t.Run("escaping", func(t *testing.T) { testListingEscaping(t, g) })
			t.Run("auth", func(t *testing.T) { testListingAuth(t, g) })
			t.Run("tokens", func(t *testing.T) { testListingTokens(t, g) })
			t.Run("index", func(t *testing.T) { testListingIndex(t, g) })
			t.Run("cached", func(t *testing.T) { testListingCached(t, g, s) })
		})
	}
}

type jsonListing struct {
	Path    string `json:"path"`
	Folders []struct {
		Name, URL string
	} `json:"folders"`
	Objects []struct {
		Name         string `json:"name"`
		URL          string `json:"url"`
		Size         int64  `json:"size"`
		LastModified string `json:"last_modified"`
		ETag         string `json:"etag"`
	} `json:"objects"`
	Next *string `json:"next"`
}

func (g *gw) listJSON(t *testing.T, path string) jsonListing {
	t.Helper()
	resp, body := g.do(t, "GET", path, "Accept: application/json")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "Content-Type", "application/json")
	var l jsonListing
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, body)
	}
	return l
}

func (l jsonListing) names() (folders, objects []string) {
	for _, f := range l.Folders {
		folders = append(folders, f.Name)
	}
	for _, o := range l.Objects {
		objects = append(objects, o.Name)
	}
	return
}

// testListingPages follows next tokens through a folder of 2,500 objects and two
// folders, each page boundary on a folder: every entry comes once, in S3's order.
func testListingPages(t *testing.T, g *gw) {
	var want []string
	for i := range 2500 {
		want = append(want, fmt.Sprintf("k%05d", i))
		if i == 998 || i == 1996 {
			want = append(want, fmt.Sprintf("k%05dx/", i))
		}
	}
	var got []string
	path, pages := "/files/many/", 0
	for {
		l := g.listJSON(t, path)
		pages++
		f, o := l.names()
		page := append(f, o...)
		slices.Sort(page) // folders and objects come apart; merged they are in order
		got = append(got, page...)
		if l.Next == nil {
			break
		}
		if pages > 10 {
			t.Fatal("listing does not end")
		}
		path = "/files/many/?after=" + url.QueryEscape(*l.Next)
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d pages, %d entries (want 3 pages, %d entries); first differences: %v", pages, len(got), len(want), firstDiff(got, want))
	}
	// The HTML pages link to each other the same way.
	rows, path, pages := 0, "/files/many/", 0
	for path != "" {
		resp, body := g.do(t, "GET", path, "Accept: text/html")
		wantStatus(t, resp, 200)
		pages++
		rows += strings.Count(body, "<tr><td class=\"name\">")
		path = ""
		if m := regexp.MustCompile(`<a href="([^"]*)" rel="next">`).FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if pages != 3 || rows != len(want) {
		t.Errorf("HTML: %d pages, %d rows", pages, rows)
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d: %q, want %q", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

// testListingFolders: folders, breadcrumbs, the route's key mapping both ways, keys
// outside the route or reached through another route left out, a route without
// listing, and HEAD.
func testListingFolders(t *testing.T, g *gw) {
	l := g.listJSON(t, "/files/")
	f, o := l.names()
	// hidden/ maps to /files/hidden/, which an earlier route serves: left out.
	// outside.txt is not under add_prefix pub/: never listed.
	if !slices.Equal(f, []string{"docs/", "many/", "weird/", "withindex/"}) || !slices.Equal(o, []string{"top.txt"}) || l.Path != "/files/" {
		t.Errorf("/files/: path %q folders %q objects %q", l.Path, f, o)
	}
	if l.Folders[0].URL != "/files/docs/" || l.Objects[0].URL != "/files/top.txt" || l.Objects[0].Size != 3 || l.Objects[0].ETag == "" || l.Objects[0].LastModified == "" {
		t.Errorf("/files/: %+v", l)
	}
	l = g.listJSON(t, "/files/docs/sub/")
	if f, o := l.names(); !slices.Equal(f, []string{"deep/"}) || !slices.Equal(o, []string{"b.txt"}) || l.Folders[0].URL != "/files/docs/sub/deep/" {
		t.Errorf("/files/docs/sub/: %+v", l)
	}
	resp, body := g.do(t, "GET", "/files/docs/sub/")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "Content-Type", "text/html; charset=utf-8")
	wantHeader(t, resp, "Cache-Control", "no-store")
	for _, want := range []string{
		`<h1 id="heading">Index of /files/docs/sub/</h1>`,
		// "/" and "files/" are not folders of this listing route ("/files/" is its top, so
		// it is); the crumbs link only what lists here.
		`<nav class="crumbs" aria-label="Breadcrumbs">/ <a href="/files/">files/</a> <a href="/files/docs/">docs/</a> <a href="/files/docs/sub/">sub/</a></nav>`,
		`<a href="/files/docs/sub/deep/">deep/</a>`, `<a href="/files/docs/sub/b.txt">b.txt</a>`, `title="1 bytes">1 B</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	head, hb := g.do(t, "HEAD", "/files/docs/sub/")
	wantStatus(t, head, 200)
	if hb != "" || head.Header.Get("Content-Length") != resp.Header.Get("Content-Length") || head.Header.Get("Content-Type") != resp.Header.Get("Content-Type") {
		t.Errorf("HEAD: body %q, headers %v (GET: %v)", hb, head.Header, resp.Header)
	}
	// A folder holding nothing is not found; a route's top folder lists empty.
	resp, _ = g.do(t, "GET", "/files/nothing/")
	wantStatus(t, resp, 404)
	resp, body = g.do(t, "GET", "/empty/")
	wantStatus(t, resp, 200)
	if !strings.Contains(body, "Nothing here.") {
		t.Errorf("empty top folder:\n%s", body)
	}
	// A route without listing: a folder path is 404 as always, objects are served.
	resp, _ = g.do(t, "GET", "/plain/docs/")
	wantStatus(t, resp, 404)
	resp, _ = g.do(t, "GET", "/plain/docs/", "Accept: application/json")
	wantStatus(t, resp, 404)
	resp, body = g.do(t, "GET", "/plain/docs/a.txt")
	wantStatus(t, resp, 200)
	if body != "a" {
		t.Errorf("/plain/docs/a.txt: %q", body)
	}
}

// testListingEscaping: every name is escaped in the page, and every link fetches the
// object it names; names no URL reaches are left out.
func testListingEscaping(t *testing.T, g *gw) {
	resp, body := g.do(t, "GET", "/files/weird/")
	wantStatus(t, resp, 200)
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;alert(1).txt") {
		t.Errorf("a name is not escaped:\n%s", body)
	}
	links := regexp.MustCompile(`<td class="name"><a href="([^"]*)">([^<]*)</a>`).FindAllStringSubmatch(body, -1)
	var names []string
	for _, m := range links {
		u, name := html.UnescapeString(m[1]), html.UnescapeString(m[2])
		names = append(names, name)
		r, got := g.do(t, "GET", u)
		if r.StatusCode != 200 || got != name {
			t.Errorf("link %q for %q: %d %q", u, name, r.StatusCode, got)
		}
	}
	want := slices.Clone(weirdNames)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("listed %q, want %q (names with no URL on the route left out)", names, want)
	}
	l := g.listJSON(t, "/files/weird/")
	if _, o := l.names(); !slices.Equal(o, want) {
		t.Errorf("JSON lists %q", o)
	}
	for _, o := range l.Objects {
		if r, got := g.do(t, "GET", o.URL); r.StatusCode != 200 || got != o.Name {
			t.Errorf("JSON url %q for %q: %d %q", o.URL, o.Name, r.StatusCode, got)
		}
	}
}

// testListingAuth: the route's policy runs first; a denied caller sees no listing.
func testListingAuth(t *testing.T, g *gw) {
	for _, accept := range []string{"text/html", "application/json"} {
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := g.do(t, method, "/private/docs/", "Accept: "+accept)
			wantStatus(t, resp, 401)
			if strings.Contains(body, "a.txt") || strings.Contains(body, "sub/") {
				t.Errorf("a denied caller sees the listing: %q", body)
			}
		}
		resp, body := g.do(t, "GET", "/private/docs/", "Accept: "+accept, "Authorization: Basic YWxpY2U6YmFk")
		wantStatus(t, resp, 401)
		if strings.Contains(body, "a.txt") {
			t.Errorf("wrong password sees the listing: %q", body)
		}
	}
	resp, body := g.do(t, "GET", "/private/docs/", "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==")
	wantStatus(t, resp, 200)
	if !strings.Contains(body, `<a href="/private/docs/a.txt">a.txt</a>`) {
		t.Errorf("alice's listing:\n%s", body)
	}
}

// testListingTokens: a continuation token the client changed, or one from another
// folder, is refused with 400 before the origin is asked.
func testListingTokens(t *testing.T, g *gw) {
	next := *g.listJSON(t, "/files/many/").Next
	flip := []byte(next)
	flip[len(flip)/2] ^= 1
	if flip[len(flip)/2] == '-' || flip[len(flip)/2] == '_' {
		flip[len(flip)/2] = 'A'
	}
	for _, q := range []string{
		"after=" + string(flip),
		"after=" + next[:len(next)-3],
		"after=" + next + "AAAA",
		"after=!!!",
		"after=" + strings.Repeat("A", 5000),
		"after=" + next + "&after=" + next,
		"after=%zz",
	} {
		for _, path := range []string{"/files/many/?", "/files/docs/?"} {
			resp, body := g.do(t, "GET", path+q, "Accept: application/json")
			if resp.StatusCode != 400 || strings.Contains(body, "k0") {
				t.Errorf("%s%.60s: %d %q", path, q, resp.StatusCode, body)
			}
		}
	}
	// The token of /files/many/ is not valid on /files/docs/ nor on /files/.
	for _, path := range []string{"/files/docs/", "/files/"} {
		resp, _ := g.do(t, "GET", path+"?after="+next)
		wantStatus(t, resp, 400)
	}
	// Other parameters are ignored, an empty after is the first page.
	l := g.listJSON(t, "/files/many/?after=&v=1")
	if l.Objects[0].Name != "k00000" {
		t.Errorf("first page starts at %q", l.Objects[0].Name)
	}
}

// testListingIndex: on a route with an index document, a folder that has one answers it;
// one without is listed.
func testListingIndex(t *testing.T, g *gw) {
	resp, body := g.do(t, "GET", "/site/withindex/")
	wantStatus(t, resp, 200)
	if body != "<h1>the index</h1>" {
		t.Errorf("index document: %q", body)
	}
	resp, body = g.do(t, "HEAD", "/site/withindex/")
	wantStatus(t, resp, 200)
	wantHeader(t, resp, "Content-Length", "18")
	if body != "" {
		t.Errorf("HEAD body %q", body)
	}
	resp, body = g.do(t, "GET", "/site/docs/")
	wantStatus(t, resp, 200)
	if !strings.Contains(body, `<a href="/site/docs/a.txt">a.txt</a>`) {
		t.Errorf("folder without index:\n%s", body)
	}
	l := g.listJSON(t, "/site/")
	if f, _ := l.names(); !slices.Contains(f, "withindex/") {
		t.Errorf("/site/ folders %q", f)
	}
}

// testListingCached: a cached route lists from its origin, never from the cache.
func testListingCached(t *testing.T, g *gw, s listStore) {
	resp, body := g.do(t, "GET", "/cached/docs/", "Accept: application/json")
	wantStatus(t, resp, 200)
	if resp.Header.Get("X-Cache") != "" || strings.Contains(body, "new.txt") {
		t.Errorf("X-Cache %q, body %s", resp.Header.Get("X-Cache"), body)
	}
	s.put(t, map[string]string{"pub/docs/new.txt": "new"})
	if _, o := g.listJSON(t, "/cached/docs/").names(); !slices.Contains(o, "new.txt") {
		t.Errorf("a cached route's listing is stale: %q", o)
	}
}
