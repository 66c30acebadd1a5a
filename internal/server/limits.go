package server

import (
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// maxHeaderBytes is the public listener's http.Server.MaxHeaderBytes.
const maxHeaderBytes = 64 << 10

// defaultMaxConnections is the connection limit where the open-file limit is unknown
// (systems without RLIMIT_NOFILE).
const defaultMaxConnections = 10000

// connectionLimit raises the open-file limit as far as allowed, logs it, and returns
// server.max_connections, or when that is 0 the default derived from the limit: half of
// it, so that every client connection can have an origin connection (or a cache file)
// open beside it with room to spare for everything else, at most 1<<20.
func connectionLimit(log *slog.Logger, configured int) int {
	soft, hard, before, ok := raiseFDLimit()
	n := configured
	if n == 0 {
		n = defaultFromFDLimit(soft, ok)
	}
	if ok {
		log.Info("open-file limit", "soft", soft, "hard", hard, "raised_from", before, "max_connections", n)
		if uint64(n) >= soft {
			log.Warn("server.max_connections is not below the open-file limit: connections beyond the limit will fail to open origin connections and files",
				"max_connections", n, "open_files", soft)
		}
	}
	return n
}

// defaultFromFDLimit is the server.max_connections default for a soft open-file limit.
func defaultFromFDLimit(soft uint64, known bool) int {
	if !known {
		return defaultMaxConnections
	}
	return int(max(1, min(soft/2, 1<<20)))
}

// logRefused logs each connection whose request framing was refused.
func logRefused(log *slog.Logger) func(net.Conn, string) {
	return func(c net.Conn, reason string) {
		log.Info("request refused: ambiguous or malformed HTTP/1.x framing; connection closed",
			"client", c.RemoteAddr().String(), "reason", reason)
	}
}

// logShed counts connections turned away by the limit and logs the count at most once
// every 10 seconds, so that an overload does not also flood the log.
func logShed(log *slog.Logger, limit int) func() {
	var shed atomic.Int64
	var last atomic.Int64
	return func() {
		n := shed.Add(1)
		now := time.Now().UnixNano()
		if prev := last.Load(); now-prev >= int64(10*time.Second) && last.CompareAndSwap(prev, now) {
			log.Warn("connection limit reached: turning connections away (503 on plain HTTP, closed on TLS)",
				"max_connections", limit, "turned_away_total", n)
		}
	}
}
