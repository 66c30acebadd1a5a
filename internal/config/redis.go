package config

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// Redis is the state a fleet of replicas shares (docs/fleet.md): cache invalidations
// reach every replica, Basic failure counts and rate limits are counted fleet-wide,
// revocations are stored and pushed to every replica, and spent sign-in states are
// remembered once for all. nil (no redis section): each replica keeps these to itself,
// and revocation is not available. Read at start only: a reload that changes it takes
// effect on restart.
type Redis struct {
	// Mode is how Addresses are read: "single" (default: one server), "sentinel" (the
	// sentinels of MasterName) or "cluster" (seed nodes of a Redis Cluster).
	Mode string `yaml:"mode"`
	// Addresses are host:port pairs: the server, the sentinels, or cluster seed nodes.
	Addresses []string `yaml:"addresses"`
	// MasterName is the sentinel master set's name (mode sentinel only).
	MasterName string `yaml:"master_name"`
	// Username and Password authenticate to Redis (AUTH; Username for Redis 6 ACLs).
	// Give the password as ${ENV}.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// SentinelUsername and SentinelPassword authenticate to the sentinels, when they
	// need it (mode sentinel only).
	SentinelUsername string `yaml:"sentinel_username"`
	SentinelPassword string `yaml:"sentinel_password"`
	// DB selects the database (single and sentinel; a cluster has only 0).
	DB int `yaml:"db"`
	// TLS connects with TLS (rediss); nil: plain TCP.
	TLS *RedisTLS `yaml:"tls"`
	// KeyPrefix starts every key gatehouse writes (default "gatehouse"); fleets that
	// share one Redis but not their state need different prefixes. All keys of a fleet
	// carry it as a hash tag ({prefix}), so on a cluster they live in one slot.
	KeyPrefix string `yaml:"key_prefix"`
	// Timeout bounds each command and connection attempt (default 2s, at most 1m).
	Timeout time.Duration `yaml:"timeout"`
	// MaxStaleness is how long a replica that lost Redis keeps enforcing the
	// revocations it last saw before on_outage applies (default 30s).
	MaxStaleness time.Duration `yaml:"max_staleness"`
	// OnOutage is what requests that need the revocation list get once it is older
	// than max_staleness, and what sign-in callbacks get while Redis cannot say whether
	// a sign-in state was spent: "deny" (default: 503) or "allow" (checked against the
	// last list seen, or locally only).
	OnOutage string `yaml:"on_outage"`
	// Replicas is the most replicas that share this Redis. While a replica cannot reach
	// Redis it divides Basic failure limits and rate limits by it, so the fleet as a
	// whole never allows more than its shared limits would (default 1).
	Replicas int `yaml:"replicas"`
}

// RedisTLS configures the TLS client to Redis.
type RedisTLS struct {
	// CAFile is a PEM bundle trusted instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key (both or neither).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name the server's certificate must carry (default: the host of
	// the address dialled).
	ServerName string `yaml:"server_name"`
}

// Redis modes, outage answers and defaults.
const (
	RedisSingle           = "single"
	RedisSentinel         = "sentinel"
	RedisCluster          = "cluster"
	RedisOutageDeny       = "deny"
	RedisOutageAllow      = "allow"
	DefaultRedisKeyPrefix = "gatehouse"
	DefaultRedisTimeout   = 2 * time.Second
	MaxRedisTimeout       = time.Minute
	DefaultRedisStaleness = 30 * time.Second
)

// ApplyDefaults fills empty fields (Load does it; for configurations built in code).
func (r *Redis) ApplyDefaults() { r.applyDefaults() }

func (r *Redis) applyDefaults() {
	if r.Mode == "" {
		r.Mode = RedisSingle
	}
	if r.KeyPrefix == "" {
		r.KeyPrefix = DefaultRedisKeyPrefix
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultRedisTimeout
	}
	if r.MaxStaleness == 0 {
		r.MaxStaleness = DefaultRedisStaleness
	}
	if r.OnOutage == "" {
		r.OnOutage = RedisOutageDeny
	}
	if r.Replicas == 0 {
		r.Replicas = 1
	}
}

func validateRedis(c *collector, p string, r *Redis) {
	switch r.Mode {
	case RedisSingle, RedisSentinel, RedisCluster:
	default:
		c.addf(p+".mode", "want single, sentinel or cluster, got %q", r.Mode)
	}
	switch {
	case len(r.Addresses) == 0:
		c.addf(p+".addresses", "required: host:port of the Redis server (or of the sentinels, or cluster seed nodes)")
	case r.Mode == RedisSingle && len(r.Addresses) > 1:
		c.addf(p+".addresses", "mode single takes one address; for several, set mode: sentinel or cluster")
	}
	for i, a := range r.Addresses {
		host, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			c.addf(p+".addresses["+strconv.Itoa(i)+"]", "want host:port, got %q", a)
		}
	}
	if r.Mode == RedisSentinel && r.MasterName == "" {
		c.addf(p+".master_name", "required with mode sentinel: the master set's name")
	}
	if r.Mode != RedisSentinel {
		if r.MasterName != "" {
			c.addf(p+".master_name", "only with mode sentinel")
		}
		if r.SentinelUsername != "" || r.SentinelPassword != "" {
			c.addf(p+".sentinel_password", "only with mode sentinel")
		}
	}
	if r.DB < 0 || r.DB > 15 && r.Mode != RedisCluster {
		c.addf(p+".db", "must be between 0 and 15, got %d", r.DB)
	}
	if r.Mode == RedisCluster && r.DB != 0 {
		c.addf(p+".db", "a cluster has only database 0")
	}
	if r.Username != "" && r.Password == "" {
		c.addf(p+".password", "required with username (an unset ${ENV}?)")
	}
	if t := r.TLS; t != nil {
		if (t.CertFile == "") != (t.KeyFile == "") {
			c.addf(p+".tls", "cert_file and key_file go together")
		}
	}
	if r.KeyPrefix == "" || strings.ContainsAny(r.KeyPrefix, "{}\r\n\x00 ") || len(r.KeyPrefix) > 64 {
		c.addf(p+".key_prefix", "want 1 to 64 characters without braces, spaces or control characters, got %q", r.KeyPrefix)
	}
	if r.Timeout <= 0 || r.Timeout > MaxRedisTimeout {
		c.addf(p+".timeout", "must be between 1ms and %s, got %s", MaxRedisTimeout, r.Timeout)
	}
	if r.MaxStaleness < time.Second {
		c.addf(p+".max_staleness", "must be at least 1s, got %s", r.MaxStaleness)
	}
	switch r.OnOutage {
	case RedisOutageDeny, RedisOutageAllow:
	default:
		c.addf(p+".on_outage", "want deny or allow, got %q", r.OnOutage)
	}
	if r.Replicas < 1 || r.Replicas > 1000 {
		c.addf(p+".replicas", "must be between 1 and 1000, got %d", r.Replicas)
	}
}
