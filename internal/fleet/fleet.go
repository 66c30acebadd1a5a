// Package fleet is the state a fleet of gatehouse replicas shares through Redis
// (docs/fleet.md): one event stream that every replica reads (cache invalidations,
// revocations, Basic failure counts), the revocation list, fleet-wide counters for
// Basic failures and rate limits, spent sign-in states, and, with server.tls.acme.store:
// redis, the ACME account, certificates and challenge answers (acme.go).
//
// There is one Fleet per process, made from the configuration's redis section at start
// and kept across reloads. It never blocks serving on Redis: New does not touch the
// network, Start connects in the background and keeps reconnecting, and every caller
// on a request path either reads local state (the revocation snapshot, the failure
// counts merged from the stream) or bounds its Redis call by redis.timeout and has a
// documented answer for an outage.
//
// Keys all start with "{prefix}:" — the braces make the prefix a hash tag, so on a
// Redis Cluster every key of one fleet lives in one slot and the scripts that touch
// several keys work.
package fleet

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// Why rueidis: it speaks to a single server, Sentinel and Cluster through one client
// type, with AUTH, ACLs and TLS, pipelines concurrent commands on one connection
// without being asked, and keeps blocking reads (XREAD BLOCK) on their own pooled
// connections. Linked into gatehouse it costs 0.6 MB against go-redis v9's 3.3 MB.

// Fleet is this process's connection to the fleet's shared state.
type Fleet struct {
	cfg     *config.Redis
	log     *slog.Logger
	id      string // this replica, in the stream and the replica table
	keys    keys
	now     func() time.Time
	tlsConf *tls.Config

	client atomic.Pointer[clientBox] // nil until the first connection
	// connected is set while the last command to Redis succeeded.
	connected atomic.Bool
	// lastErr is why the last command failed ("" when connected).
	lastErr atomic.Pointer[string]

	mu       sync.Mutex
	handlers map[string][]func(Event) // by event kind
	onLost   []func(reason string)
	onSync   []func(at time.Time)
	onRead   []func(at time.Time) // after every stream read: known current as of at
	started  bool

	stream streamState
	// epochChanged is set by the heartbeat when the epoch key differs from the one the
	// reader's position was fixed under (or is gone): the reader resynchronises.
	epochChanged atomic.Bool
	// liveReplicas is how many replicas beat within liveFor, as of the last beat.
	liveReplicas atomic.Int32
	// beatNow asks the heartbeat to write this replica's entry at once (after it
	// applied an event a publisher may be waiting on).
	beatNow chan struct{}
	stop    context.CancelFunc
	done    chan struct{}
}

type clientBox struct{ c rueidis.Client }

// Options are a Fleet's runtime dependencies; the zero value is usable.
type Options struct {
	// Now is the clock for event and failure times; nil uses time.Now.
	Now func() time.Time
	// ReplicaID names this replica in the stream and the replica table; empty: the host
	// name and a random suffix.
	ReplicaID string
}

// New prepares a Fleet for cfg (defaults applied, validated). It reads the TLS files but
// does not connect: Start does, in the background.
func New(cfg *config.Redis, log *slog.Logger, opts Options) (*Fleet, error) {
	if cfg == nil {
		return nil, errors.New("fleet: no redis configuration")
	}
	f := &Fleet{cfg: cfg, log: log.With("component", "redis"), id: opts.ReplicaID, keys: newKeys(cfg.KeyPrefix),
		now: opts.Now, handlers: map[string][]func(Event){}, done: make(chan struct{}), beatNow: make(chan struct{}, 1)}
	if f.now == nil {
		f.now = time.Now
	}
	if f.id == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		f.id = host + "-" + hex.EncodeToString(b)
	}
	if cfg.TLS != nil {
		tc, err := TLSConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		f.tlsConf = tc
	}
	msg := "not connected yet"
	f.lastErr.Store(&msg)
	return f, nil
}

// TLSError is a redis.tls file that does not load; Field is its key under redis.
type TLSError struct {
	Field string
	Err   error
}

func (e *TLSError) Error() string { return "redis." + e.Field + ": " + e.Err.Error() }
func (e *TLSError) Unwrap() error { return e.Err }

// TLSConfig builds the client TLS configuration of t; a file that does not load is a
// *TLSError naming its field (the gateway's build reports it with the file's line).
func TLSConfig(t *config.RedisTLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, &TLSError{"tls.ca_file", err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &TLSError{"tls.ca_file", fmt.Errorf("%s holds no PEM certificate", t.CAFile)}
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, &TLSError{"tls", fmt.Errorf("loading cert_file and key_file: %w", err)}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ID is this replica's name in the fleet.
func (f *Fleet) ID() string { return f.id }

// Config is the redis section the Fleet was made from.
func (f *Fleet) Config() *config.Redis { return f.cfg }

// clientOption is the rueidis configuration for the redis section.
func (f *Fleet) clientOption() rueidis.ClientOption {
	c := f.cfg
	o := rueidis.ClientOption{
		InitAddress:      c.Addresses,
		Username:         c.Username,
		Password:         c.Password,
		SelectDB:         c.DB,
		TLSConfig:        f.tlsConf,
		ClientName:       "gatehouse-" + f.id,
		DisableCache:     true, // the revocation list is pushed over the stream instead
		Dialer:           net.Dialer{Timeout: c.Timeout, KeepAlive: time.Second},
		ConnWriteTimeout: max(c.Timeout, 2*time.Second),
		// Most commands here are not idempotent (INCRBY, XADD): one try each, bounded by
		// redis.timeout; the callers decide what an error means.
		DisableRetry: true,
	}
	switch c.Mode {
	case config.RedisSingle:
		o.ForceSingleClient = true
	case config.RedisSentinel:
		o.Sentinel = rueidis.SentinelOption{MasterSet: c.MasterName, Username: c.SentinelUsername,
			Password: c.SentinelPassword, TLSConfig: f.tlsConf, Dialer: o.Dialer}
	}
	return o
}

// Start connects in the background and runs the stream reader and the heartbeat until
// ctx ends or Close is called. Handlers must be registered before Start.
func (f *Fleet) Start(ctx context.Context) {
	f.mu.Lock()
	if f.started {
		f.mu.Unlock()
		return
	}
	f.started = true
	ctx, f.stop = context.WithCancel(ctx)
	f.mu.Unlock()
	go func() {
		defer close(f.done)
		f.run(ctx)
	}()
}

// Close stops the background work and closes the connection.
func (f *Fleet) Close() {
	f.mu.Lock()
	stop, started := f.stop, f.started
	f.mu.Unlock()
	if started && stop != nil {
		stop()
		<-f.done
	}
	if b := f.client.Load(); b != nil {
		b.c.Close()
	}
}

// run connects (retrying with backoff), then reads the stream and beats until ctx ends.
func (f *Fleet) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for f.client.Load() == nil {
		c, err := rueidis.NewClient(f.clientOption())
		if err == nil {
			f.client.Store(&clientBox{c})
			break
		}
		f.setDown(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
	go f.heartbeat(ctx)
	f.readStream(ctx)
}

// c is the client, or nil before the first connection.
func (f *Fleet) c() rueidis.Client {
	if b := f.client.Load(); b != nil {
		return b.c
	}
	return nil
}

// errNotConnected is returned by calls made before the first connection.
var errNotConnected = errors.New("redis: not connected yet")

// do runs one command bounded by redis.timeout and records whether Redis answered. The
// error is errNotConnected before the first connection, else the result's error (a
// Redis nil reply included: check rueidis.IsRedisNil).
func (f *Fleet) do(ctx context.Context, build func(rueidis.Client) rueidis.Completed) (rueidis.RedisResult, error) {
	c := f.c()
	if c == nil {
		return rueidis.RedisResult{}, errNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	res := c.Do(ctx, build(c))
	f.observe(res.Error())
	return res, res.Error()
}

// observe records the outcome of a command: a Redis error reply (other than nil) still
// means Redis answered.
func (f *Fleet) observe(err error) {
	if err == nil || rueidis.IsRedisNil(err) {
		f.setUp()
		return
	}
	if _, ok := rueidis.IsRedisErr(err); ok {
		f.setUp()
		return
	}
	f.setDown(err)
}

func (f *Fleet) setUp() {
	if !f.connected.Swap(true) {
		f.log.Info("redis connected")
	}
	empty := ""
	f.lastErr.Store(&empty)
}

func (f *Fleet) setDown(err error) {
	msg := err.Error()
	f.lastErr.Store(&msg)
	if f.connected.Swap(false) {
		f.log.Warn("redis unreachable", "error", msg)
	}
}

// Connected reports whether the last command to Redis got an answer.
func (f *Fleet) Connected() bool { return f.connected.Load() }

// Status is what readiness reports about Redis.
type Status struct {
	Connected bool   `json:"connected"`
	Error     string `json:"error,omitempty"`
	// LastSync is when this replica last knew it had every event of the stream.
	LastSync time.Time `json:"last_sync,omitzero"`
	// Replicas is how many replicas beat within the last few seconds.
	Replicas int `json:"replicas,omitempty"`
}

// Status returns the current connection state.
func (f *Fleet) Status() Status {
	s := Status{Connected: f.connected.Load(), LastSync: f.stream.lastSync()}
	if e := f.lastErr.Load(); e != nil {
		s.Error = *e
	}
	s.Replicas = int(f.liveReplicas.Load())
	return s
}
