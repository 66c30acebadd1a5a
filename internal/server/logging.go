package server

import (
	"io"
	"log/slog"
	"os"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/httpx"
)

// Loggers builds the operational logger (to stderr) and the access logger from the log
// section, opening (and creating) the access-log file if one is named. The returned closer
// closes it. Errors name the field and its line.
func Loggers(cfg *config.Config, stdout, stderr io.Writer) (log, access *slog.Logger, closer io.Closer, err error) {
	c := cfg.Log
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, nil, nil, config.Errors{cfg.Errorf("log.level", "%v", err)}
	}
	log = slog.New(handler(c.Format, stderr, level))
	closer = io.NopCloser(nil)
	var w io.Writer
	switch c.Access {
	case "off":
		return log, nil, closer, nil
	case "stdout":
		w = stdout
	case "stderr":
		w = stderr
	default:
		f, err := os.OpenFile(c.Access, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, nil, config.Errors{cfg.Errorf("log.access", "cannot open the access log: %v", err)}
		}
		w, closer = f, f
	}
	// Access lines are always JSON: they are for machines. httpx.AccessHandler writes
	// them as slog.NewJSONHandler does, with a fast path for the gateway's request lines.
	return log, slog.New(httpx.NewAccessHandler(w)), closer, nil
}

func handler(format string, w io.Writer, level slog.Level) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}
