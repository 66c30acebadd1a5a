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
)

type invalidateFlags struct {
	admin    string
	tokenEnv string
	json     bool
	timeout  time.Duration
}

func newInvalidate(std IO) *cobra.Command {
	var f invalidateFlags
	cmd := &cobra.Command{
		Use:   "invalidate [flags] PATH...",
		Short: "Remove paths from a running gatehouse's cache",
		Long: `invalidate asks a running gatehouse, through its admin listener, to drop cached objects.
A PATH is exact (/docs/a.html) or a prefix ending in '*' (/www/*, /*); quote it so the
shell does not expand it. The admin token is read from the environment variable named by
--token-env, never from the command line. Each replica has its own cache: invalidate
every one of them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, std, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.admin, "admin", "127.0.0.1:9090", "admin listener address (host:port or URL)")
	fl.StringVar(&f.tokenEnv, "token-env", "GATEHOUSE_ADMIN_TOKEN", "environment variable holding admin.token")
	fl.BoolVar(&f.json, "json", false, "print the server's JSON answer")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the answer")
	return cmd
}

func (f *invalidateFlags) run(cmd *cobra.Command, std IO, paths []string) error {
	ctx := cmd.Context()
	token := os.Getenv(f.tokenEnv)
	if token == "" {
		return usagef(cmd, "environment variable %s (--token-env) is empty: it must hold admin.token", f.tokenEnv)
	}
	base := f.admin
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	body, _ := json.Marshal(map[string][]string{"paths": paths})
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/cache/invalidate", bytes.NewReader(body))
	if err != nil {
		return usagef(cmd, "--admin: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: 1, msg: fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(raw)))}
	}
	if f.json {
		_, err := std.Stdout.Write(raw)
		return err
	}
	var out struct {
		Results []struct {
			Path    string `json:"path"`
			Removed int    `json:"removed"`
		} `json:"results"`
		Removed int `json:"removed"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return &exitError{code: 1, msg: "unexpected answer: " + err.Error()}
	}
	for _, r := range out.Results {
		fmt.Fprintf(std.Stdout, "%s\t%d\n", r.Path, r.Removed)
	}
	fmt.Fprintf(std.Stderr, "removed %d cache entries\n", out.Removed)
	return nil
}
