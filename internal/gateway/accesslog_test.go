package gateway_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
)

// TestAccessLogFastPathMatchesSlog: the server's access log (httpx.AccessHandler, whose
// lines the handler builds itself) writes the fields, in the order and with the values,
// that any other slog handler gets as attributes; only time and duration_ms differ.
func TestAccessLogFastPathMatchesSlog(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.txt"), []byte("hello"), 0o644)
	st := buildState(t, cacheDirConfig(dir, "8MiB"), nil)
	var fast, plain syncBuffer
	hf := gateway.NewHandler(st, slogDiscard, slog.New(httpx.NewAccessHandler(&fast)))
	hp := gateway.NewHandler(st, slogDiscard, slog.New(slog.NewJSONHandler(&plain, nil)))
	for _, target := range []string{"/f/small.txt", "/f/small.txt", "/f/missing.txt", "/nowhere", "/f/%ff%e2%80%a8\"<x>", "/f/../etc"} {
		for _, method := range []string{"GET", "HEAD", "PUT"} {
			for _, h := range []http.Handler{hf, hp} {
				r := httptest.NewRequest(method, "http://gw.example"+target, strings.NewReader("body"))
				r.RemoteAddr = "[2001:db8::7]:4000"
				r.Header.Set("X-Request-Id", "fixed") // untrusted: replaced by a new ID
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		}
	}
	fl, pl := strings.Split(strings.TrimSpace(fast.String()), "\n"), strings.Split(strings.TrimSpace(plain.String()), "\n")
	if len(fl) != len(pl) || len(fl) != 18 {
		t.Fatalf("%d fast lines, %d plain lines, want 18", len(fl), len(pl))
	}
	normal := func(line string) []string {
		t.Helper()
		// Keys in order (a decoded map loses it), values with the varying ones blanked.
		dec := json.NewDecoder(strings.NewReader(line))
		var out []string
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			v, err := dec.Token()
			if err != nil {
				t.Fatalf("%v in %s", err, line)
			}
			switch k {
			case "time", "duration_ms", "request_id":
				v = "*"
			}
			out = append(out, k.(string), strings.TrimSpace(strings.ReplaceAll(jsonText(v), "\n", "")))
		}
		return out
	}
	for i := range fl {
		if f, p := normal(fl[i]), normal(pl[i]); !reflect.DeepEqual(f, p) {
			t.Errorf("line %d:\nfast  %s\nslog  %s", i, fl[i], pl[i])
		}
	}
	if !strings.Contains(fast.String(), `"client_ip":"2001:db8::7"`) {
		t.Errorf("no client_ip in %s", fl[0])
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
