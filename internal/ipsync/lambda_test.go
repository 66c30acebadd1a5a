package ipsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLambdaRuntime fakes the Lambda Runtime API: two invocations, one failing, then a
// long poll that lasts until the context ends.
func TestLambdaRuntime(t *testing.T) {
	events := []string{`{"n":1}`, `{"n":2}`}
	var mu sync.Mutex
	var posts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
			mu.Lock()
			if len(events) == 0 {
				mu.Unlock()
				<-r.Context().Done()
				return
			}
			ev := events[0]
			events = events[1:]
			mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-"+ev[5:6])
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
			io.WriteString(w, ev)
		case r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			posts = append(posts, r.URL.Path+" "+string(body))
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	rt := &LambdaRuntime{API: strings.TrimPrefix(srv.URL, "http://")}
	var seen []string
	err := rt.Run(ctx, func(ctx context.Context, ev json.RawMessage) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("no deadline")
		}
		seen = append(seen, string(ev))
		if len(seen) == 2 {
			defer cancel()
			return errors.New("boom")
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	want := []string{
		`/2018-06-01/runtime/invocation/req-1/response {"status":"ok"}`,
		`/2018-06-01/runtime/invocation/req-2/error {"errorMessage":"boom","errorType":"GatehouseIPRangesError"}`,
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || strings.Join(posts, "\n") != strings.Join(want, "\n") {
		t.Errorf("events %v, posts:\n%s", seen, strings.Join(posts, "\n"))
	}
}
