package ipsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// LambdaRuntime is a minimal client of the AWS Lambda Runtime API, enough to run
// LambdaHandler as a custom runtime (provided.al2023) without the aws-lambda-go
// module: fetch the next event, run the handler until the invocation's deadline,
// post the response or the error, repeat.
type LambdaRuntime struct {
	// API is the host:port in $AWS_LAMBDA_RUNTIME_API.
	API string
	// Client has no timeout: fetching the next event is a long poll.
	Client *http.Client
}

const runtimePath = "/2018-06-01/runtime"

func (r *LambdaRuntime) client() *http.Client {
	if r.Client == nil {
		return http.DefaultClient
	}
	return r.Client
}

// Run serves invocations with handle until ctx ends or the Runtime API fails.
func (r *LambdaRuntime) Run(ctx context.Context, handle func(context.Context, json.RawMessage) error) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.API+runtimePath+"/invocation/next", nil)
		if err != nil {
			return err
		}
		resp, err := r.client().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("lambda runtime: next invocation: %w", err)
		}
		event, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("lambda runtime: next invocation: HTTP %d: %v", resp.StatusCode, err)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		invCtx, cancel := ctx, context.CancelFunc(func() {})
		if ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil {
			invCtx, cancel = context.WithDeadline(ctx, time.UnixMilli(ms))
		}
		herr := handle(invCtx, event)
		cancel()
		// The answer is posted even when ctx ended during the invocation.
		postCtx, cancelPost := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if herr != nil {
			err = r.post(postCtx, "/invocation/"+id+"/error", lambdaError(herr))
		} else {
			err = r.post(postCtx, "/invocation/"+id+"/response", []byte(`{"status":"ok"}`))
		}
		cancelPost()
		if err != nil {
			return err
		}
	}
}

// InitError tells the Runtime API the function could not start (bad configuration...).
func (r *LambdaRuntime) InitError(ctx context.Context, err error) error {
	return r.post(ctx, "/init/error", lambdaError(err))
}

func lambdaError(err error) []byte {
	b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "GatehouseIPRangesError"})
	return b
}

func (r *LambdaRuntime) post(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.API+runtimePath+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client().Do(req)
	if err != nil {
		return fmt.Errorf("lambda runtime: POST %s: %w", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("lambda runtime: POST %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}
