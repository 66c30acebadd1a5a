package lambdaedge

import (
	"os"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

func TestRequestFromRealExample(t *testing.T) {
	f, err := os.Open(testenv.SharedTestdata(t, "aws", "lambda-edge-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Request(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "GET" || r.URL.Path != "/private/report.pdf" || r.Host != "d111111abcdef8.cloudfront.net" ||
		r.RemoteAddr != "198.51.100.23:0" || r.URL.Query().Get("Key-Pair-Id") != "K2JCJMDEHXQW5F" ||
		r.Header.Get("User-Agent") != "curl/8.5.0" || !strings.Contains(r.Header.Get("Cookie"), "session=abc") {
		t.Fatalf("got %s %s host %s from %s, headers %v", r.Method, r.URL, r.Host, r.RemoteAddr, r.Header)
	}
}

func TestRequestRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":     `{`,
		"no records":   `{"Records":[]}`,
		"bad ip":       `{"Records":[{"cf":{"request":{"clientIp":"x","uri":"/"}}}]}`,
		"relative uri": `{"Records":[{"cf":{"request":{"clientIp":"1.2.3.4","uri":"a"}}}]}`,
		"bad method":   `{"Records":[{"cf":{"request":{"clientIp":"1.2.3.4","uri":"/","method":"G T"}}}]}`,
		"crlf header":  `{"Records":[{"cf":{"request":{"clientIp":"1.2.3.4","uri":"/","headers":{"x":[{"key":"X","value":"a\r\nb"}]}}}}]}`,
		"response":     `{"Records":[{"cf":{"config":{"eventType":"viewer-response"},"request":{"clientIp":"1.2.3.4","uri":"/"}}}]}`,
	} {
		if _, err := Request(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzRequest(f *testing.F) {
	f.Add(`{"Records":[{"cf":{"request":{"clientIp":"1.2.3.4","method":"GET","uri":"/a","querystring":"x=1","headers":{"host":[{"key":"Host","value":"h"}]}}}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		r, err := Request(strings.NewReader(doc))
		if err != nil {
			return
		}
		if r.URL == nil || !strings.HasPrefix(r.URL.Path, "/") && r.URL.Path != "" {
			t.Fatalf("bad request from %q: %v", doc, r.URL)
		}
	})
}
