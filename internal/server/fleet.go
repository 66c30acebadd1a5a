package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/authbuild"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fleet"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

// invalidateKind is the stream event of a cache invalidation: its data is the JSON of
// InvalidateRequest.
const invalidateKind = "invalidate"

// fleetWait is how long POST /cache/invalidate waits for every live replica to apply
// an invalidation before it answers (it answers with how many did).
const fleetWait = 2 * time.Second

// newFleet makes the process's Fleet for cfg.Redis (nil when there is none), the
// authenticators' shared state joined to it, and the revocation Store (nil without a
// fleet). Nothing is contacted until startFleet.
func newFleet(cfg *config.Config, log *slog.Logger) (*fleet.Fleet, *authbuild.Shared, revoke.Store, error) {
	if cfg.Redis == nil {
		return nil, authbuild.NewShared(), nil, nil
	}
	f, err := fleet.New(cfg.Redis, log, fleet.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	// Until the first load every check fails with ErrStale (503), unless on_outage is
	// allow: a replica that never read the list must not let revoked credentials in.
	set := revoke.NewSet(revoke.SetOptions{MaxStaleness: cfg.Redis.MaxStaleness, AllowStale: cfg.Redis.OnOutage == config.RedisOutageAllow})
	shared := authbuild.NewSharedWith(authbuild.SharedOptions{Revocations: set})
	shared.JoinFleet(f)
	return f, shared, f.Revocations(set), nil
}

// startFleet connects the Fleet and applies other replicas' invalidations to the State
// serving at the time. When the replica may have missed invalidations (Redis lost its
// data, or it was cut off for longer than the stream keeps), it drops every cached
// entry: it cannot prove any of them current.
func startFleet(ctx context.Context, f *fleet.Fleet, h *gateway.Handler, log *slog.Logger) {
	if f == nil {
		return
	}
	f.Handle(invalidateKind, func(e fleet.Event) {
		if e.Mine {
			return // applied before it was published
		}
		var req InvalidateRequest
		if err := json.Unmarshal(e.Data, &req); err != nil {
			log.Warn("redis: unreadable invalidation event", "id", e.ID, "error", err.Error())
			return
		}
		res, err := h.State().Invalidate(req.Paths)
		if err != nil {
			log.Debug("redis: invalidation from another replica not applied", "from", e.Replica, "error", err.Error())
			return
		}
		removed := 0
		for _, x := range res {
			removed += x.Removed
		}
		log.Info("cache invalidated by another replica", "from", e.Replica, "paths", len(req.Paths), "removed", removed)
	})
	f.OnLost(func(reason string) {
		res, err := h.State().Invalidate([]string{"/*"})
		if err != nil {
			return // no cache
		}
		removed := 0
		for _, x := range res {
			removed += x.Removed
		}
		log.Warn("cache emptied: invalidations from other replicas may have been missed", "reason", reason, "removed", removed)
	})
	f.Start(ctx)
}

// publishInvalidation sends an invalidation this replica applied to the others and
// waits (up to fleetWait) until every live replica has read it.
func publishInvalidation(ctx context.Context, f *fleet.Fleet, paths []string) (*fleet.Applied, error) {
	data, _ := json.Marshal(InvalidateRequest{Paths: paths})
	id, err := f.Publish(ctx, invalidateKind, data)
	if err != nil {
		return nil, fmt.Errorf("not sent to the other replicas: %w", err)
	}
	a, err := f.WaitApplied(ctx, id, fleetWait)
	if err != nil {
		return nil, fmt.Errorf("sent to the other replicas, but how many applied it is unknown: %w", err)
	}
	return &a, nil
}

// fleetStatus is /readyz's "redis" entry. A replica is not ready until it has read the
// fleet's state once (revocations, the stream's position): before that it would deny
// every request that needs them. After that, losing Redis is reported (connected
// false, with the error) but does not make the replica unready: every replica loses
// the same Redis at once, and taking them all out of the load balancer would turn a
// degraded fleet (docs/fleet.md's outage table) into no service at all.
type fleetStatus struct {
	Ready bool `json:"ready"`
	fleet.Status
}

func newFleetStatus(f *fleet.Fleet) *fleetStatus {
	s := f.Status()
	return &fleetStatus{Ready: !s.LastSync.IsZero(), Status: s}
}

// fleetMetrics reads the fleet's state for /metrics.
func fleetMetrics(f *fleet.Fleet, shared *authbuild.Shared) func() metrics.Fleet {
	return func() metrics.Fleet {
		s := f.Status()
		return metrics.Fleet{Connected: s.Connected, LastSync: s.LastSync, Replicas: s.Replicas, Revocations: shared.Revocations().Len()}
	}
}
