package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// framingServer runs gatehouse with one public route, /o/*, on a folder or (origin
// "minio") on a MinIO bucket holding the same objects ("minio-no-reuse": through a proxy
// that closes every connection after one response, so each origin request opens a new
// one); tlsFiles adds server.tls.
func framingServer(t *testing.T, originKind string, tlsFiles ...string) *running {
	t.Helper()
	var origin string
	switch originKind {
	case "dir":
		dir := t.TempDir()
		for k, v := range framingObjects {
			os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644)
		}
		origin = fmt.Sprintf("{dir: {root: %q}}", dir)
	case "minio", "minio-no-reuse":
		m := startMinIO(t)
		endpoint := m.Endpoint
		if originKind == "minio-no-reuse" {
			endpoint = closingProxy(t, endpoint)
		}
		origin = fmt.Sprintf("{s3: {bucket: %s, endpoint: %q, path_style: true, access_key_id: %s, secret_access_key: %s}}",
			framingBucket, endpoint, m.AccessKey, m.SecretKey)
	}
	tlsLine := ""
	if len(tlsFiles) == 2 {
		tlsLine = fmt.Sprintf(", tls: {cert_file: %q, key_file: %q}", tlsFiles[0], tlsFiles[1])
	}
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 5s%s}
origins:
  o: %s
routes:
  - {path: "/o/*", origin: o, strip_prefix: /o/, public: true}
`, tlsLine, origin)), 0o644)
	return start(t, path)
}

// closingProxy forwards to target and closes every client connection after one response.
func closingProxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type rawResponse struct {
	status int
	body   string
	close  bool
}

// exchange writes raw to a fresh connection (dial makes it) and reads responses until
// the server closes the connection.
func exchange(t *testing.T, dial func() (net.Conn, error), raw string) []rawResponse {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A safety net so that a broken server fails the test instead of hanging it; no
	// test waits for it.
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go io.WriteString(c, raw)
	br := bufio.NewReader(c)
	var out []rawResponse
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
				t.Fatalf("reading response %d: %v", len(out)+1, err)
			}
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, rawResponse{resp.StatusCode, string(b), resp.Close})
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

const (
	reqA        = "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n"
	reqSmuggled = "GET /o/smuggled.txt HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n"
	reqAClose   = "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n"
)

// framingCases are raw requests and the answers they must get, in order; every
// connection ends after them.
var framingCases = []struct {
	name string
	raw  string
	want []rawResponse
}{
	{"CL then TE", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + reqSmuggled,
		[]rawResponse{{400, "400 Bad Request", true}}},
	{"TE then CL", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + reqSmuggled,
		[]rawResponse{{400, "400 Bad Request", true}}},
	{"TE obs-folded", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + reqSmuggled,
		[]rawResponse{{400, "400 Bad Request", true}}},
	{"bare LF", "GET /o/a.txt HTTP/1.1\nHost: gatehouse.test\n\n" + reqSmuggled,
		[]rawResponse{{400, "400 Bad Request", true}}},
	{"differing Content-Lengths", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: 0\r\nContent-Length: 41\r\n\r\n" + reqSmuggled,
		[]rawResponse{{400, "400 Bad Request", true}}},
	{"answered in order after a good request", reqA + "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + reqSmuggled,
		[]rawResponse{{200, "A", false}, {400, "400 Bad Request", true}}},
	{"smuggled in a Content-Length body is never answered", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: " + strconv.Itoa(len(reqSmuggled)) + "\r\n\r\n" + reqSmuggled + reqAClose,
		[]rawResponse{{200, "A", false}, {200, "A", true}}},
	{"pipelined GETs", reqA + reqA + reqAClose,
		[]rawResponse{{200, "A", false}, {200, "A", false}, {200, "A", true}}},
	{"chunked body on a GET", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" + reqAClose,
		[]rawResponse{{200, "A", false}, {200, "A", true}}},
	{"head too large", "GET /o/a.txt HTTP/1.1\r\nHost: gatehouse.test\r\nX-Big: " + strings.Repeat("b", 80<<10) + "\r\n\r\n",
		[]rawResponse{{431, "431 Request Header Fields Too Large", true}}},
}

// TestRegression_AmbiguousFramingSmuggles: requests framed two ways (Content-Length with
// Transfer-Encoding, an obs-folded Transfer-Encoding, bare LF line ends) get 400 and the
// connection is closed, so a request hidden in the body is never answered; pipelined
// requests and chunked bodies still work. Over raw TCP, through the whole server.
func TestRegression_AmbiguousFramingSmuggles(t *testing.T) {
	for _, origin := range []string{"dir", "minio"} {
		t.Run(origin, func(t *testing.T) {
			addr := strings.TrimPrefix(framingServer(t, origin).pub, "http://")
			dial := func() (net.Conn, error) { return net.Dial("tcp", addr) }
			for _, tc := range framingCases {
				t.Run(tc.name, func(t *testing.T) {
					checkExchange(t, exchange(t, dial, tc.raw), tc.want)
				})
			}
		})
	}
}

// TestRegression_AmbiguousFramingSmugglesOverTLS: the same over HTTPS with HTTP/1.1
// chosen by ALPN, while HTTP/2 keeps working on the same listener.
func TestRegression_AmbiguousFramingSmugglesOverTLS(t *testing.T) {
	cert, key := selfSigned(t)
	addr := strings.TrimPrefix(framingServer(t, "minio", cert, key).pub, "http://")
	dial := func() (net.Conn, error) {
		return tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	}
	for _, tc := range framingCases {
		t.Run(tc.name, func(t *testing.T) {
			checkExchange(t, exchange(t, dial, tc.raw), tc.want)
		})
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + addr + "/o/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(b) != "A" {
		t.Fatalf("HTTP/2: %d %q over %s", resp.StatusCode, b, resp.Proto)
	}
}

func checkExchange(t *testing.T, got, want []rawResponse) {
	t.Helper()
	for _, r := range got {
		if strings.Contains(r.body, "SMUGGLED") {
			t.Fatalf("the smuggled request was answered: %+v", got)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}
