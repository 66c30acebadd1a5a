package gateway

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/gatehouse-dev/gatehouse/internal/cache"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/cors"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// buildRoutes compiles every route, in file order (the order they are matched in).
func (b *builder) buildRoutes() {
	b.buildRateLimits() // ratelimit.go
	for i, rc := range b.cfg.Routes {
		b.buildRoute(i, rc)
	}
}

// buildRoute compiles routes[i]: its policy, its origin (behind the cache when the
// route is cached), CORS, its writes (write.go), presigned uploads and listing, and
// adds it to the route table.
func (b *builder) buildRoute(i int, rc *config.Route) {
	pol, login := b.buildPolicy(i, rc)
	rt := &Route{
		Index: i, Name: rc.Name, Pattern: rc.Path, OriginName: rc.Origin, Origin: b.st.origins[rc.Origin],
		Keys:    route.KeyMap{StripPrefix: rc.StripPrefix, AddPrefix: rc.AddPrefix, Index: rc.Index},
		Methods: slices.Clone(rc.Methods), Policy: pol, Login: login, ErrorPages: rc.ErrorPages,
		Headers: newResponseHeaders(rc),
	}
	b.cacheRoute(rt, rc)
	corsRoute(rt, rc)
	b.writeRoute(i, rt, rc)
	b.presignRoute(i, rt, rc)
	b.rateLimitRoute(rt, rc)
	if rc.Listing {
		b.listRoute(i, rt)
	}
	if err := b.st.routes.Add(rc.Path, rt); err != nil {
		b.errorf(fmt.Sprintf("routes[%d].path", i), "%v", err)
	}
}

// cacheRoute puts the cache in front of rt's origin when the route is cached and the
// configuration has a cache (and the origin was built).
func (b *builder) cacheRoute(rt *Route, rc *config.Route) {
	c := b.cfg.Cache
	if !rc.Cache.Cached() || b.st.cache == nil || rt.Origin == nil {
		return
	}
	rt.Origin = b.st.cache.Wrap(rc.Origin, rt.Origin, cache.Policy{
		TTLs:         cache.TTLs{Default: rc.Cache.DefaultTTL, Min: rc.Cache.MinTTL, Max: rc.Cache.MaxTTL},
		StaleIfError: rc.Cache.StaleIfError,
		Compress:     compression(c, rc.Cache),
		ReadAhead:    *c.ReadAhead,
		Breaker:      *c.OriginBreaker,
	})
	rt.Cached, rt.QueryKeys = true, rc.Cache.QueryKeys
	rt.Compress = c.Compression != nil && *rc.Cache.Compress
}

// compression is a route's compression settings, nil when it does not compress.
func compression(c *config.Cache, rc *config.RouteCache) *cache.Compression {
	if c.Compression == nil || rc.Compress == nil || !*rc.Compress {
		return nil
	}
	return &cache.Compression{MinSize: int64(c.Compression.MinSize), Types: c.Compression.Types}
}

// corsRoute gives rt its CORS policy, when configured, and allows OPTIONS for its
// preflights.
func corsRoute(rt *Route, rc *config.Route) {
	if rc.CORS == nil {
		return
	}
	rt.CORS = cors.New(rc.CORS)
	if !slices.Contains(rt.Methods, http.MethodOptions) {
		rt.Methods = append(rt.Methods, http.MethodOptions)
	}
}

// hasWrite reports whether the route allows PUT or DELETE.
func hasWrite(rc *config.Route) bool {
	return slices.Contains(rc.Methods, http.MethodPut) || slices.Contains(rc.Methods, http.MethodDelete)
}
