//go:build !race

package gateway_test

// raceDetector reports whether the tests run under the race detector, which slows the
// byte path several times over: the 1 GiB uploads are then skipped.
const raceDetector = false
