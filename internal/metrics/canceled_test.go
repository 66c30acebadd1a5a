package metrics

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// TestOriginCanceled: a call its caller abandoned has its own status, "canceled", kept
// apart from "error" (the origin did not answer) and the 5xx of origin failures.
func TestOriginCanceled(t *testing.T) {
	m := New()
	o := m.Origin("assets")
	o.ObserveCall("GetObject", origin.StatusCanceled, time.Second)
	o.ObserveCall("GetObject", 0, time.Second)
	want(t, m, 1, "gatehouse_origin_requests_total", "origin=assets", "operation=GetObject", "status=canceled")
	want(t, m, 1, "gatehouse_origin_requests_total", "origin=assets", "operation=GetObject", "status=error")
	want(t, m, 2, "gatehouse_origin_request_duration_seconds", "origin=assets", "operation=GetObject")
}
