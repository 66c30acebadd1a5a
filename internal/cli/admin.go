package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// adminFlags are how a command reaches a running gatehouse's admin listener
// (invalidate, revoke). The token is read from an environment variable, never from the
// command line, where other users could see it.
type adminFlags struct {
	admin    string
	tokenEnv string
	timeout  time.Duration
}

func (f *adminFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.admin, "admin", "127.0.0.1:9090", "admin listener address (host:port or URL)")
	fl.StringVar(&f.tokenEnv, "token-env", "GATEHOUSE_ADMIN_TOKEN", "environment variable holding admin.token")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the answer")
}

// adminAnswer is the admin listener's answer to one call.
type adminAnswer struct {
	status int
	body   []byte
}

// call sends method path (with body as JSON unless nil) to the admin listener with the
// token. A missing token or an unusable --admin is a usage error; no answer is an
// exitError (1). Any status is returned: the caller decides which it expects.
func (f *adminFlags) call(cmd *cobra.Command, method, path string, body any) (adminAnswer, error) {
	token := os.Getenv(f.tokenEnv)
	if token == "" {
		return adminAnswer{}, usagef(cmd, "environment variable %s (--token-env) is empty: it must hold admin.token", f.tokenEnv)
	}
	base := f.admin
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return adminAnswer{}, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, rd)
	if err != nil {
		return adminAnswer{}, usagef(cmd, "--admin: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return adminAnswer{}, &exitError{code: ExitFailure, msg: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return adminAnswer{}, &exitError{code: ExitFailure, msg: "reading the answer: " + err.Error()}
	}
	return adminAnswer{status: resp.StatusCode, body: raw}, nil
}

// refused is the failure for an answer with an unexpected status: the status and the
// server's short message.
func (a adminAnswer) refused() error {
	return &exitError{code: ExitFailure, msg: fmt.Sprintf("%d %s: %s", a.status, http.StatusText(a.status), strings.TrimSpace(string(a.body)))}
}
