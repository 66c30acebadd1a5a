package ipsync

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/gatehouse-dev/gatehouse/internal/auth/ipauth"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/sns"
)

// NewSyncer builds a Syncer for c with a real EC2 client: c.AWS's region, endpoint,
// profile or keys (else the SDK's default credential chain: environment, shared files,
// web identity, instance or Lambda role), and the standard retryer, which retries
// throttling (RequestLimitExceeded) and 5xx answers with jittered exponential backoff
// (ipauth.EC2MaxAttempts attempts). optFns adjust the EC2 client last.
func NewSyncer(ctx context.Context, c *Config, log *slog.Logger, optFns ...func(*ec2.Options)) (*Syncer, error) {
	client, err := ipauth.NewEC2Client(ctx, &config.SecurityGroupQuery{
		Region: c.AWS.Region, Endpoint: c.AWS.Endpoint, Profile: c.AWS.Profile,
		AccessKeyID: c.AWS.AccessKeyID, SecretAccessKey: c.AWS.SecretAccessKey,
	}, optFns...)
	if err != nil {
		return nil, err
	}
	return &Syncer{Config: c, EC2: client, HTTP: &http.Client{Timeout: time.Minute}, Log: log}, nil
}

// NewService builds the notification service around s: a verifier for the configured
// topics, and the last applied syncToken from the state file.
func NewService(s *Syncer) (*Service, error) {
	v, err := sns.NewVerifier(sns.Options{Topics: s.Config.SNS.Topics})
	if err != nil {
		return nil, err
	}
	svc := &Service{Syncer: s, Verifier: v, Log: s.Log}
	return svc, svc.LoadState()
}
