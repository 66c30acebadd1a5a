// Command gatehouse is an authenticating, caching edge in front of private object storage.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/gatehouse-dev/gatehouse/internal/cli"
)

// defaultGCPercent replaces Go's default of 100. gatehouse's live heap is small (a few
// MiB without the cache) while each proxied request allocates tens of KiB, so with
// GOGC=100 the collector ran every ~140 requests and took 13% of the CPU in the load
// test; at 400 the CPU per request fell by about 20% for ~20 MiB more resident memory
// (BENCHMARKS.md). Setting GOGC (or GOMEMLIMIT) in the environment still wins.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
