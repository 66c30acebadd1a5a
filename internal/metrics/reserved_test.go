package metrics

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestRouteWordsReserved: every fixed route word is a name config refuses for a route,
// so no route's series can merge with the traffic the word labels.
func TestRouteWordsReserved(t *testing.T) {
	for _, w := range []string{NoRoute, LoginRoute, UploadRoute} {
		if !config.ReservedRouteName(w) {
			t.Errorf("route label %q is not reserved in config", w)
		}
	}
}
