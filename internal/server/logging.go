package server

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// Loggers builds the operational logger (to stderr) and the access logger from the log
// section. The returned closer closes an access-log file, if one was opened.
func Loggers(c config.Log, stdout, stderr io.Writer) (log, access *slog.Logger, closer io.Closer, err error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, nil, nil, fmt.Errorf("log.level: %w", err)
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
			return nil, nil, nil, fmt.Errorf("log.access: %w", err)
		}
		w, closer = f, f
	}
	// Access lines are always JSON: they are for machines.
	return log, slog.New(slog.NewJSONHandler(w, nil)), closer, nil
}

func handler(format string, w io.Writer, level slog.Level) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}
