package ratelimit

// NewMemorySyncerForTest returns the tests' in-memory fleet, for the external tests.
func NewMemorySyncerForTest() Syncer { return newMemSyncer() }
