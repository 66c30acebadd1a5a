package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
	"github.com/gatehouse-dev/gatehouse/internal/route"
)

// Invalidation is what one invalidation path removed.
type Invalidation struct {
	Path    string              `json:"path"`
	Targets []InvalidationMatch `json:"targets"`
	Removed int                 `json:"removed"`
}

// InvalidationMatch is one (origin, key or key prefix) a path mapped to.
type InvalidationMatch struct {
	Route  string `json:"route"`
	Origin string `json:"origin"`
	Key    string `json:"key"`
	Prefix bool   `json:"prefix"`
}

// ErrNoCache is returned by Invalidate when the configuration has no cache.
var ErrNoCache = errors.New("the configuration has no cache section")

// Invalidate removes cached entries for request paths, each either exact ("/a.txt") or a
// prefix ending in '*' ("/www/*", "/*"). A path is mapped to object keys through the
// route table the way requests are: an exact path through the route it matches (index
// documents included); a prefix through every cached route whose paths can start with
// it, which may remove more than strictly needed but never less.
func (s *State) Invalidate(paths []string) ([]Invalidation, error) {
	if s.cache == nil {
		return nil, ErrNoCache
	}
	out := make([]Invalidation, 0, len(paths))
	for _, p := range paths {
		inv := Invalidation{Path: p}
		prefix, isPrefix := strings.CutSuffix(p, "*")
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(prefix, "*?") {
			return nil, fmt.Errorf("path %q: want /exact/path or /prefix/*", clipPath(p))
		}
		if isPrefix {
			for _, rt := range s.routes.Values() {
				if !rt.Cached {
					continue
				}
				lit := route.LiteralPrefix(rt.Pattern)
				if !strings.HasPrefix(lit, prefix) && !strings.HasPrefix(prefix, lit) {
					continue // no path of this route starts with prefix
				}
				inv.Targets = append(inv.Targets, InvalidationMatch{Route: rt.Name, Origin: rt.OriginName, Key: keyPrefix(rt, prefix), Prefix: true})
			}
		} else {
			clean, err := reqpath.Clean(p)
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", clipPath(p), err)
			}
			if rt, ok := s.Match(clean); ok && rt.Cached {
				if key, ok := rt.Keys.Key(clean); ok {
					inv.Targets = append(inv.Targets, InvalidationMatch{Route: rt.Name, Origin: rt.OriginName, Key: key})
				}
			}
		}
		for _, m := range inv.Targets {
			inv.Removed += s.cache.Invalidate(m.Origin, m.Key, m.Prefix)
		}
		out = append(out, inv)
	}
	return out, nil
}

// keyPrefix maps a path prefix to the prefix of the object keys a route serves for
// paths starting with it.
func keyPrefix(rt *Route, prefix string) string {
	strip := rt.Keys.StripPrefix
	var rel string
	switch {
	case strings.HasPrefix(prefix, strip):
		rel = strings.TrimPrefix(prefix, strip)
	case strings.HasPrefix(strip, prefix):
		rel = "" // the prefix is shorter than what the route strips: all of its keys
	default:
		rel = prefix
	}
	return rt.Keys.AddPrefix + strings.TrimPrefix(rel, "/")
}

// clipPath shortens a path for an error message: an answer to a bad request stays short.
func clipPath(p string) string {
	const max = 200
	if len(p) <= max {
		return p
	}
	return strings.ToValidUTF8(p[:max], "") + "…"
}
