package gateway_test

import (
	"crypto/md5"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// originLog sits between gatehouse and MinIO and records what reaches the origin: each
// request as "METHOD /bucket/key If-Match: ..." and how many connections gatehouse
// opened to it.
type originLog struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []string
	conns int
	// after, when set (before any request), runs once a request has been answered by
	// MinIO, before the answer reaches gatehouse.
	after func(r *http.Request)
}

func newOriginLog(t *testing.T) *originLog {
	t.Helper()
	target, _ := url.Parse(minio.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	ol := &originLog{}
	ol.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := r.Method + " " + r.URL.Path
		if m := r.Header.Get("If-Match"); m != "" {
			line += " If-Match: " + m
		}
		ol.mu.Lock()
		ol.reqs = append(ol.reqs, line)
		ol.mu.Unlock()
		rp.ServeHTTP(w, r)
		if ol.after != nil {
			ol.after(r)
		}
	}))
	ol.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ol.mu.Lock()
			ol.conns++
			ol.mu.Unlock()
		}
	}
	ol.Start()
	t.Cleanup(ol.Close)
	return ol
}

// take returns the requests and new connections seen since the last take.
func (ol *originLog) take() (reqs []string, conns int) {
	ol.mu.Lock()
	defer ol.mu.Unlock()
	reqs, conns = ol.reqs, ol.conns
	ol.reqs, ol.conns = nil, 0
	return reqs, conns
}

// s3Gateway serves /s3/* uncached from bucket assets through ol.
func s3Gateway(t *testing.T, ol *originLog) *gw {
	t.Helper()
	return startGateway(t, `
origins:
  assets:
    s3: {bucket: assets, endpoint: "${E}", path_style: true, access_key_id: "${K}", secret_access_key: "${S}", max_attempts: 1}
routes:
  - {path: /s3/*, origin: assets, strip_prefix: /s3, public: true}
`, map[string]string{"E": ol.URL, "K": minio.AccessKey, "S": minio.SecretKey})
}

// TestRegression_WeakIfNoneMatchChurnsOriginConnections: a weak tag or a list in
// If-None-Match (which S3 cannot evaluate) on an uncached S3 route was answered with a
// full GetObject whose body was closed unread when the answer was 304, so Go's HTTP
// client dropped the connection and every such request opened a new one to S3 (and S3
// started sending the object). Now a HeadObject decides; a body is asked for only when
// one is sent, pinned to the version the HEAD described.
func TestRegression_WeakIfNoneMatchChurnsOriginConnections(t *testing.T) {
	needMinIO(t)
	const key = "conditions/churn.bin"
	putObject(t, "assets", key, strings.Repeat("x", 4<<20), nil)
	ol := newOriginLog(t)
	g := s3Gateway(t, ol)
	head, _ := send(t, g, "HEAD", "/s3/"+key)
	etag := head.Header.Get("ETag")
	ol.take()

	for _, inm := range []string{"W/" + etag, `"other", ` + etag, "*"} {
		for range 5 {
			for _, method := range []string{"GET", "HEAD"} {
				resp, _ := send(t, g, method, "/s3/"+key, "If-None-Match: "+inm)
				wantStatus(t, resp, 304)
			}
		}
		reqs, conns := ol.take()
		for _, r := range reqs {
			if !strings.HasPrefix(r, "HEAD ") {
				t.Errorf("If-None-Match: %s: 304s asked the origin for %q; want HEADs only", inm, r)
			}
		}
		if conns > 1 {
			t.Errorf("If-None-Match: %s: ten 304s opened %d origin connections", inm, conns)
		}
	}

	// A body is sent: one HEAD, then a GET of the version it described.
	resp, body := send(t, g, "GET", "/s3/"+key, `If-None-Match: W/"other"`, "Range: bytes=0-9")
	wantStatus(t, resp, 206)
	if body != "xxxxxxxxxx" {
		t.Errorf("body %q", body)
	}
	want := []string{"HEAD /assets/" + key, "GET /assets/" + key + " If-Match: " + etag}
	if reqs, _ := ol.take(); fmt.Sprint(reqs) != fmt.Sprint(want) {
		t.Errorf("origin requests %q, want %q", reqs, want)
	}
}

// An object replaced between the HEAD that evaluated the client's conditions and the
// GET of its body: the GET (If-Match: the HEAD's ETag) is refused, and gatehouse asks
// once more without conditions and answers for the version it got, body and ETag
// together.
func TestS3ObjectChangedBetweenHeadAndGet(t *testing.T) {
	needMinIO(t)
	const key = "conditions/changing.txt"
	const newBody = "version 2"
	newETag := fmt.Sprintf(`"%x"`, md5.Sum([]byte(newBody))) // MinIO: the MD5 of a single-part upload
	ol := newOriginLog(t)
	var replace sync.Once
	ol.after = func(r *http.Request) {
		if r.Method == "HEAD" && strings.HasSuffix(r.URL.Path, key) {
			replace.Do(func() { putObject(t, "assets", key, newBody, nil) })
		}
	}
	g := s3Gateway(t, ol)
	for _, tc := range []struct {
		inm    string
		status int
	}{
		{`W/"other"`, 200},
		{"W/" + newETag, 304}, // the new version is the client's
	} {
		putObject(t, "assets", key, "version 1", nil)
		replace = sync.Once{}
		ol.take()
		resp, body := send(t, g, "GET", "/s3/"+key, "If-None-Match: "+tc.inm)
		wantStatus(t, resp, tc.status)
		wantHeader(t, resp, "ETag", newETag)
		if tc.status == 200 && body != newBody {
			t.Errorf("If-None-Match: %s: body %q, want %q", tc.inm, body, newBody)
		}
		reqs, _ := ol.take()
		if len(reqs) != 3 || !strings.HasPrefix(reqs[0], "HEAD ") || !strings.Contains(reqs[1], "If-Match: ") || reqs[2] != "GET /assets/"+key {
			t.Errorf("If-None-Match: %s: origin requests %q; want HEAD, GET with If-Match, GET", tc.inm, reqs)
		}
	}
}
