package fleet

import (
	"context"
	"errors"
	"time"

	"github.com/redis/rueidis"
	"golang.org/x/crypto/acme/autocert"
)

// The ACME store (server.tls.acme.store: redis): autocert keeps the account key, every
// certificate with its private key, and the http-01 and tls-alpn-01 challenge answers in
// its Cache, so with this Cache every replica reads what any one stored. A CA's
// validation of a challenge one replica ordered may reach any other: autocert looks a
// token up in its own memory first and then in the Cache ("<token>+http-01"; tls-alpn-01
// answers as "<domain>+token").
//
// Keys: "{prefix}:acme:<name>", the values the bytes autocert gave. Nothing expires:
// autocert deletes challenge answers when an authorization ends, and a certificate is
// replaced by its renewal.

// ACMECache is the fleet's autocert.Cache. Get answers autocert.ErrCacheMiss for a
// missing entry (autocert then orders, or creates the account key) and any other error
// when Redis does not answer (autocert then fails the handshake instead of ordering).
// Each call is bounded by redis.timeout.
func (f *Fleet) ACMECache() autocert.Cache { return acmeCache{f} }

type acmeCache struct{ f *Fleet }

var _ autocert.Cache = acmeCache{}

func (a acmeCache) key(name string) string { return a.f.keys.prefix + "acme:" + name }

// Get returns the stored bytes of name.
func (a acmeCache) Get(ctx context.Context, name string) ([]byte, error) {
	res, err := a.f.do(ctx, func(c rueidis.Client) rueidis.Completed { return c.B().Get().Key(a.key(name)).Build() })
	if rueidis.IsRedisNil(err) {
		return nil, autocert.ErrCacheMiss // compared with == by autocert: not wrapped
	}
	if err != nil {
		return nil, err
	}
	return res.AsBytes()
}

// Put stores data under name.
func (a acmeCache) Put(ctx context.Context, name string, data []byte) error {
	_, err := a.f.do(ctx, func(c rueidis.Client) rueidis.Completed {
		return c.B().Set().Key(a.key(name)).Value(rueidis.BinaryString(data)).Build()
	})
	return err
}

// Delete removes name; a missing name is no error.
func (a acmeCache) Delete(ctx context.Context, name string) error {
	_, err := a.f.do(ctx, func(c rueidis.Client) rueidis.Completed { return c.B().Del().Key(a.key(name)).Build() })
	return err
}

// The order lock: autocert orders a certificate when its Cache has none, and each
// replica's autocert.Manager decides that on its own, so replicas started together
// would each order one (and each serve its own until renewal). The server takes this
// lock around the first request for a domain's certificate: the first replica to hold
// it orders and stores the certificate; the others wait their turn and then find it
// in the Cache. Handshakes are not held by it inside autocert (whose state lock it
// would block for every domain), only before the server asks autocert.

// acmeLockTTL bounds how long a crashed holder can delay the others.
const acmeLockTTL = 3 * time.Minute

// acmeLockPoll is how often a waiting replica tries the lock again.
const acmeLockPoll = 250 * time.Millisecond

var unlockScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// LockACMEOrder waits until this replica holds the fleet's order lock for domain
// ("{prefix}:acme:lock:<domain>", SET NX PX, at most 3 minutes) and returns its release.
// It waits while Redis does not answer too. When ctx ends first it returns ctx's error
// and a release that does nothing; the caller then goes on without the lock (at worst,
// a second order).
func (f *Fleet) LockACMEOrder(ctx context.Context, domain string) (release func(), err error) {
	key := f.keys.prefix + "acme:lock:" + domain
	for {
		_, err := f.do(ctx, func(c rueidis.Client) rueidis.Completed {
			return c.B().Set().Key(key).Value(f.id).Nx().Px(acmeLockTTL).Build()
		})
		if err == nil {
			return func() {
				c := f.c()
				if c == nil {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), f.cfg.Timeout)
				defer cancel()
				unlockScript.Exec(ctx, c, []string{key}, []string{f.id})
			}, nil
		}
		if !rueidis.IsRedisNil(err) && !errors.Is(err, errNotConnected) {
			f.log.Debug("ACME order lock: redis did not answer; trying again", "domain", domain, "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return func() {}, ctx.Err()
		case <-time.After(acmeLockPoll):
		}
	}
}
