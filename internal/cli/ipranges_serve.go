package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/ipsync"
)

func newIPRangesServe(std IO) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Serve an SNS endpoint for AmazonIpSpaceChanged and sync on each notification, polling as a fallback",
		Long: `serve syncs once at start, then listens on sns.listen for SNS deliveries at sns.path:
it confirms subscriptions to the allowed topics only, verifies every message's signature,
ignores a syncToken not newer than the last applied one, checks the notification's md5
against the file it downloads, and syncs. It also syncs every sns.poll (default 1h), as
notifications are best effort; a poll of an unchanged list makes read calls only and
repairs drift. GET /healthz answers 200 while the last run succeeded, 503 otherwise.
SIGINT or SIGTERM stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.syncer(cmd.Context(), std.Stderr)
			if err != nil {
				return err
			}
			svc, err := ipsync.NewService(s)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serveIPRanges(ctx, svc)
		},
	}
	f.bind(cmd)
	return cmd
}

// serveIPRanges runs the HTTP(S) endpoint and the sync worker until ctx ends.
func serveIPRanges(ctx context.Context, svc *ipsync.Service) error {
	c := svc.Syncer.Config
	mux := http.NewServeMux()
	mux.Handle(c.SNS.Path, svc.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		last := svc.Last()
		status := map[string]any{"applied_sync_token": svc.Applied()}
		code := http.StatusOK
		switch {
		case last == nil:
			status["last"] = "none yet"
		case last.Err != nil:
			status["last"], status["error"], code = last.Trigger, last.Err.Error(), http.StatusServiceUnavailable
		default:
			status["last"] = last.Trigger
		}
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(status)
	})
	ln, err := net.Listen("tcp", c.SNS.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	scheme := "http"
	if c.SNS.TLSCert != "" {
		scheme = "https"
	}
	svc.Log.Info(fmt.Sprintf("ipranges serve listening on %s://%s%s", scheme, ln.Addr(), c.SNS.Path), "topics", c.SNS.Topics, "poll", c.SNS.Poll)
	serveErr := make(chan error, 1)
	go func() {
		if c.SNS.TLSCert != "" {
			serveErr <- srv.ServeTLS(ln, c.SNS.TLSCert, c.SNS.TLSKey)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run(runCtx) }()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	stopRun()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	<-runErr
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
