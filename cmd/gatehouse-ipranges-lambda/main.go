// Command gatehouse-ipranges-lambda runs `gatehouse ipranges` as an AWS Lambda function
// on the provided.al2023 runtime (build it as "bootstrap"): subscribed to the
// AmazonIpSpaceChanged SNS topic it syncs on each verified notification, and invoked by
// an EventBridge schedule it polls. The sync configuration is the file named by
// $GATEHOUSE_IPRANGES_CONFIG (default ipranges-sync.yaml beside the binary); see
// docs/ip-range-sync.md.
package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatehouse-dev/gatehouse/internal/ipsync"
)

func main() {
	ctx := context.Background()
	rt := &ipsync.LambdaRuntime{API: os.Getenv("AWS_LAMBDA_RUNTIME_API")}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if rt.API == "" {
		log.Error("AWS_LAMBDA_RUNTIME_API is not set: this binary runs inside AWS Lambda (use `gatehouse ipranges` elsewhere)")
		os.Exit(1)
	}
	svc, err := setup(ctx, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		rt.InitError(ctx, err)
		os.Exit(1)
	}
	if err := rt.Run(ctx, svc.LambdaHandler); err != nil {
		log.Error("lambda runtime", "err", err)
		os.Exit(1)
	}
}

func setup(ctx context.Context, log *slog.Logger) (*ipsync.Service, error) {
	path := os.Getenv("GATEHOUSE_IPRANGES_CONFIG")
	if path == "" {
		path = filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), "ipranges-sync.yaml")
	}
	c, err := ipsync.Load(path)
	if err != nil {
		return nil, err
	}
	if c.Debug {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := ipsync.NewSyncer(ctx, c, log)
	if err != nil {
		return nil, err
	}
	return ipsync.NewService(s)
}
