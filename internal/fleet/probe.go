package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// Probe connects to the Redis of cfg once and checks that gatehouse can use it: the
// credentials are accepted, and the fleet's keys can be written and scripts run (an
// ACL user may lack either). A failure is a *probe.Error; `gatehouse check --probe`
// prints it.
func Probe(ctx context.Context, cfg *config.Redis) error {
	f, err := New(cfg, slog.New(slog.DiscardHandler), Options{ReplicaID: "probe"})
	if err != nil {
		return probe.New(probe.Other, err, "%v", err)
	}
	target := strings.Join(cfg.Addresses, ", ")
	opt := f.clientOption()
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return classify(err, target, cfg)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*cfg.Timeout)
	defer cancel()
	probeKey := f.keys.prefix + "probe"
	for _, cmd := range []rueidis.Completed{
		c.B().Set().Key(probeKey).Value("1").Px(time.Minute).Build(),
		c.B().Eval().Script("return redis.call('DEL', KEYS[1])").Numkeys(1).Key(probeKey).Build(),
	} {
		if err := c.Do(ctx, cmd).Error(); err != nil {
			return classify(err, target, cfg)
		}
	}
	return nil
}

// classify turns a failure to use Redis into a probe.Error.
func classify(err error, target string, cfg *config.Redis) error {
	if e := probe.Network(err, target, cfg.Timeout); e != nil {
		return e
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "WRONGPASS"), strings.Contains(msg, "NOAUTH"), strings.Contains(msg, "invalid password"):
		return probe.New(probe.AuthFailed, err, "Redis at %s refused the credentials (%s)", target, firstWord(msg))
	case strings.Contains(msg, "NOPERM"):
		return probe.New(probe.AccessDenied, err, "the Redis user may not write gatehouse's keys or run scripts at %s (NOPERM): allow ~{%s}:* with +@read +@write +@stream +@scripting", target, cfg.KeyPrefix)
	case strings.Contains(strings.ToLower(msg), "sentinel"):
		return probe.New(probe.Unreachable, err, "no master for the sentinel set at %s: %v", target, err)
	}
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		return probe.New(probe.Other, err, "Redis at %s answered %s", target, firstWord(msg))
	}
	return probe.New(probe.Other, err, "%s: %v", target, fmt.Sprint(err))
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}
