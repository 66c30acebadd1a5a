package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// limitsGateway serves the same objects four ways: S3 uncached (/s3/), S3 through the
// cache (/c/), a folder (/dir/), and S3 under a 200-byte add_prefix (/pre/), so that one
// request can be checked to get one answer whatever serves it.
func limitsGateway(t *testing.T) *gw {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(helloTxt), 0o644); err != nil {
		t.Fatal(err)
	}
	return startGateway(t, `
cache: {memory: {max_size: 16MiB}, slice_size: 1MiB}
origins:
  assets:
    s3: {bucket: assets, endpoint: "${E}", path_style: true, access_key_id: "${K}", secret_access_key: "${S}", max_attempts: 1}
  folder:
    dir: {root: "${DIR}"}
routes:
  - {path: /s3/*, origin: assets, strip_prefix: /s3, public: true}
  - {path: /c/*, origin: assets, strip_prefix: /c, public: true, cache: {policy: optimized}}
  - {path: /dir/*, origin: folder, strip_prefix: /dir, public: true}
  - {path: /pre/*, origin: assets, strip_prefix: /pre, add_prefix: "${P}/", public: true}
`, map[string]string{"E": minio.Endpoint, "K": minio.AccessKey, "S": minio.SecretKey, "DIR": dir, "P": strings.Repeat("p", 199)})
}

// send makes a request whose headers are "Name: value" lines, added in order (a name
// given twice is sent on two lines).
func send(t *testing.T, g *gw, method, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	return g.request(t, method, path, http.Header.Add, headers...)
}

// etagList is n distinct S3-style entity tags, comma-separated.
func etagList(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf(`"%032x"`, i)
	}
	return strings.Join(tags, ", ")
}

// TestRegression_ClientCaused502s is issue 12 item 4: a 300-byte path segment, an
// If-None-Match with 1,000 entity tags, or a 20 KB If-Match answered 502 "origin
// unavailable" on an uncached S3 route (and 200 on cached and folder routes). Each
// case now gets the same 4xx on every kind of route, and the origin is never blamed.
func TestRegression_ClientCaused502s(t *testing.T) {
	needMinIO(t)
	g := limitsGateway(t)
	big := func(n int) string { return `"` + strings.Repeat("x", n-2) + `"` }
	for _, tc := range []struct {
		name   string
		file   string // path under the route
		hdr    []string
		status int
		body   string // for GET; "" means the status text
	}{
		// MinIO refuses a segment over 255 bytes and a folder's file system cannot hold
		// one: no such object can exist there (AWS S3 would look it up).
		{"LongKeySegmentAnswers502", strings.Repeat("a", 300) + ".txt", nil, 404, ""},
		{"LongMultibyteSegmentAnswers502", strings.Repeat("é", 130), nil, 404, ""},
		{"KeyOver1024Bytes", strings.Repeat("abcdefg/", 128) + "x", nil, 414, ""},
		{"KeyOf1024BytesIsLookedUp", strings.Repeat("abcdefg/", 127) + strings.Repeat("x", 8), nil, 404, ""},
		{"IfNoneMatch1000ETagsAnswers502", "hello.txt", []string{"If-None-Match: " + etagList(1000)}, 431, ""},
		{"IfNoneMatch33ETags", "hello.txt", []string{"If-None-Match: " + etagList(33)}, 431, ""},
		{"IfNoneMatch32ETags", "hello.txt", []string{"If-None-Match: " + etagList(32)}, 200, helloTxt},
		{"IfNoneMatch33ETagsOnTwoLines", "hello.txt", []string{"If-None-Match: " + etagList(16), "If-None-Match: " + etagList(17)}, 431, ""},
		{"IfMatch20KBAnswers502", "hello.txt", []string{"If-Match: " + big(20000)}, 431, ""},
		{"IfMatch2048Bytes", "hello.txt", []string{"If-Match: " + big(2048)}, 412, ""},
		{"IfMatch2049Bytes", "hello.txt", []string{"If-Match: " + big(2049)}, 431, ""},
		{"ConditionsTogetherOver2048Bytes", "hello.txt", []string{"If-Match: " + big(1100), "If-None-Match: " + big(1000)}, 431, ""},
		{"IfRange20KBAnswers502", "hello.txt", []string{"Range: bytes=0-4", "If-Range: " + big(20000)}, 431, ""},
		{"WeakIfRange20KB", "hello.txt", []string{"Range: bytes=0-4", "If-Range: W/" + big(20000)}, 431, ""},
		// Range is parsed and sent on re-rendered, never as received: a long or
		// multi-range header is ignored, whatever its size.
		{"Range20KB", "hello.txt", []string{"Range: bytes=0-1," + strings.Repeat("2-3,", 5000) + "4-5"}, 200, helloTxt},
		{"RangeHugeNumbers", "hello.txt", []string{"Range: bytes=0-" + strings.Repeat("9", 5000)}, 200, helloTxt},
		// Unrelated large headers are not passed on, so they change nothing.
		{"LargeOtherHeader", "hello.txt", []string{"X-Padding: " + strings.Repeat("x", 20000)}, 200, helloTxt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, prefix := range []string{"/s3/", "/c/", "/dir/"} {
				for _, method := range []string{"GET", "HEAD"} {
					resp, body := send(t, g, method, prefix+tc.file, tc.hdr...)
					if resp.StatusCode != tc.status {
						t.Errorf("%s %s: status %d, want %d", method, prefix, resp.StatusCode, tc.status)
						continue
					}
					want := tc.body
					if want == "" && tc.status >= 400 {
						want = fmt.Sprintf("%d %s\n", tc.status, http.StatusText(tc.status))
					}
					if method == "GET" && tc.status != 412 && body != want {
						t.Errorf("%s %s: body %q, want %q", method, prefix, body, want)
					}
				}
			}
		})
	}
	if log := g.access.String(); strings.Contains(log, "origin unavailable") || strings.Contains(log, `"status":5`) {
		t.Errorf("a client-caused refusal was logged as an origin failure:\n%s", log)
	}
}

// TestRegression_RoutePrefixCountsTowardsKeyLength: the 1,024-byte limit applies to the
// key after mapping, so a route's add_prefix counts.
func TestRegression_RoutePrefixCountsTowardsKeyLength(t *testing.T) {
	needMinIO(t)
	g := limitsGateway(t)
	file := strings.Repeat("abcdefg/", 103) + "x" // 825 bytes: 1,025 with the 200-byte prefix
	for _, method := range []string{"GET", "HEAD"} {
		resp, _ := send(t, g, method, "/s3/"+file)
		wantStatus(t, resp, 404)
		resp, _ = send(t, g, method, "/pre/"+file)
		wantStatus(t, resp, 414)
	}
	if !strings.Contains(g.access.String(), "object key too long: 1025 bytes, at most 1024") {
		t.Errorf("the access log does not say why:\n%s", g.access.String())
	}
}

// TestRegression_S3ComparesETagListsAsOneString: S3 and MinIO compare If-Match and
// If-None-Match with the ETag as one string, so on an uncached S3 route a list holding
// the current ETag got 412 (If-Match) or 200 (If-None-Match), and a weak
// If-None-Match never matched, while the cache answered 200 and 304. A list sent on
// two lines (one list, RFC 9110 section 5.3) was read from its first line only.
// Every route now answers as RFC 9110 says.
func TestRegression_S3ComparesETagListsAsOneString(t *testing.T) {
	needMinIO(t)
	g := limitsGateway(t)
	for _, prefix := range []string{"/s3/", "/c/", "/dir/"} {
		head, _ := send(t, g, "HEAD", prefix+"hello.txt")
		etag := head.Header.Get("ETag")
		for _, tc := range []struct {
			hdr    []string
			status int
		}{
			{[]string{`If-None-Match: "other", ` + etag}, 304},
			{[]string{`If-None-Match: ` + etag + `,"other"`}, 304},
			{[]string{`If-None-Match: W/` + etag}, 304},
			{[]string{`If-None-Match: "other", W/"other2"`}, 200},
			{[]string{`If-None-Match: "other"`, "If-None-Match: " + etag}, 304},
			{[]string{`If-Match: "other", ` + etag}, 200},
			{[]string{`If-Match: "other"`, "If-Match: " + etag}, 200},
			{[]string{`If-Match: "other", "other2"`}, 412},
			{[]string{`If-Match: W/` + etag}, 412},
			{[]string{`If-Match: *`}, 200},
			{[]string{`If-None-Match: *`}, 304},
			{[]string{`If-None-Match: "a,b", ` + etag}, 304},
			// Preconditions before the range: a failed If-Match list is 412, not 416.
			{[]string{`If-Match: "other", "other2"`, "Range: bytes=100-"}, 412},
			{[]string{`If-Match: "other", ` + etag, "Range: bytes=100-"}, 416},
			{[]string{`If-Match: "other", ` + etag, "Range: bytes=0-4"}, 206},
		} {
			for _, method := range []string{"GET", "HEAD"} {
				want := tc.status
				if method == "HEAD" && (want == 206 || want == 416) {
					want = 200 // HEAD ignores Range
				}
				resp, _ := send(t, g, method, prefix+"hello.txt", tc.hdr...)
				if resp.StatusCode != want {
					t.Errorf("%s %s %q: status %d, want %d", method, prefix, tc.hdr, resp.StatusCode, want)
				}
			}
		}
		// If-Range takes one validator: a list is not one, so the whole object is sent.
		resp, body := send(t, g, "GET", prefix+"hello.txt", "Range: bytes=0-4", "If-Range: "+etag+`, "other"`)
		wantStatus(t, resp, 200)
		if body != helloTxt {
			t.Errorf("%s: If-Range list: body %q", prefix, body)
		}
	}
}

// fakeS3 answers every request with the S3 error status, code and ArgumentName it is
// given (HEAD without a body, as S3 does) and counts requests by method.
type fakeS3 struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	code   string
	arg    string
	calls  map[string]int
}

func newFakeS3(t *testing.T) *fakeS3 {
	f := &fakeS3{calls: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		status, code, arg := f.status, f.code, f.arg
		f.calls[r.Method]++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead && code != "" {
			if arg != "" {
				arg = "<ArgumentName>" + arg + "</ArgumentName><ArgumentValue>v</ArgumentValue>"
			}
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>refused</Message>%s<RequestId>1</RequestId></Error>`, code, arg)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeS3) set(status int, code, arg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.code, f.arg, f.calls = status, code, arg, map[string]int{}
}

// TestRegression_OriginRefusalsOfTheRequestAnswer502: whatever request-caused refusal an
// S3-compatible service still sends (its limits may be lower than gatehouse's) is the
// client's 4xx, on GET and on HEAD (whose error has no body: the code is learnt from a
// one-byte GET). Refusals of the origin's own setup stay 502, InvalidArgument included
// when its ArgumentName is not a header the client sent (it was 400 whatever it named:
// a bucket needing Signature Version 4 for KMS looked like a client error to readiness,
// the cache's stale serving and its breaker).
func TestRegression_OriginRefusalsOfTheRequestAnswer502(t *testing.T) {
	f := newFakeS3(t)
	g := startGateway(t, `
origins:
  fake:
    s3: {bucket: b, endpoint: "${E}", path_style: true, access_key_id: k, secret_access_key: s, max_attempts: 1}
routes:
  - {path: "*", origin: fake, public: true}
`, map[string]string{"E": f.URL})
	for _, tc := range []struct {
		status int
		code   string
		arg    string // the error's ArgumentName
		want   int
		head   int // the HEAD's status when not want
	}{
		{400, "KeyTooLongError", "", 414, 0},
		{400, "MetadataTooLarge", "", 431, 0},
		{400, "RequestHeaderSectionTooLarge", "", 431, 0},
		{400, "InvalidArgument", "If-None-Match", 400, 0},
		{400, "InvalidArgument", "if-modified-since", 400, 0},
		// The HEAD's one-byte GET sent that Range itself, the HEAD none.
		{400, "InvalidArgument", "Range", 400, 502},
		{400, "XMinioInvalidObjectName", "", 404, 0},
		{400, "InvalidObjectName", "", 404, 0},
		{414, "", "", 414, 0},
		{431, "", "", 431, 0},
		// The origin's setup, not the request: still an outage.
		{400, "InvalidArgument", "", 502, 0},
		{400, "InvalidArgument", "Authorization", 502, 0}, // KMS objects need SigV4
		{400, "InvalidArgument", "x-amz-request-payer", 502, 0},
		{400, "ExpiredToken", "", 502, 0},
		{400, "AuthorizationHeaderMalformed", "", 502, 0},
		{400, "InvalidBucketName", "", 502, 0},
		{400, "SomethingNew", "", 502, 0},
		// HEAD: 404, as documented: a bodiless 403 is what S3 sends for a missing key
		// without s3:ListBucket.
		{403, "InvalidAccessKeyId", "", 502, 404},
		{403, "SignatureDoesNotMatch", "", 502, 404},
	} {
		t.Run(fmt.Sprintf("%d %s %s", tc.status, tc.code, tc.arg), func(t *testing.T) {
			for _, method := range []string{"GET", "HEAD"} {
				f.set(tc.status, tc.code, tc.arg)
				resp, body := send(t, g, method, "/k.txt")
				want := tc.want
				if method == "HEAD" && tc.head != 0 {
					want = tc.head
				}
				if resp.StatusCode != want {
					t.Errorf("%s: status %d, want %d", method, resp.StatusCode, want)
				}
				if method == "GET" && body != fmt.Sprintf("%d %s\n", tc.want, http.StatusText(tc.want)) {
					t.Errorf("GET: body %q", body)
				}
				if method == "HEAD" && tc.status == 400 && (f.calls["HEAD"] != 1 || f.calls["GET"] != 1) {
					t.Errorf("HEAD answered 400: origin calls %v, want one HEAD and one GET", f.calls)
				}
			}
		})
	}
}
