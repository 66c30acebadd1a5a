package ratelimit_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/ratelimit"
	"github.com/gatehouse-dev/gatehouse/internal/ratelimit/ratelimittest"
)

// TestCheckInMemory runs the Syncer contract check against the tests' in-memory fleet
// (the fleet package runs it against Redis).
func TestCheckInMemory(t *testing.T) {
	ratelimittest.Check(t, func(t *testing.T) ratelimit.Syncer { return sharedMem })
}

var sharedMem = ratelimit.NewMemorySyncerForTest()
