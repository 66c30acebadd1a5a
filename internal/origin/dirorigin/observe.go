package dirorigin

import (
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

var _ origin.Observable = (*Dir)(nil)

// SetObserver makes the folder report every Head, Get, Put, Delete and List, with the
// HTTP status its answer stands for (origin.StatusOf) (origin.Observable).
func (d *Dir) SetObserver(o origin.Observer) {
	if o == nil {
		d.observer.Store(nil)
		return
	}
	d.observer.Store(&o)
}

// observe reports one call that began at start and ended with *err.
func (d *Dir) observe(op string, start time.Time, err *error) {
	if o := d.observer.Load(); o != nil {
		(*o).ObserveCall(op, origin.StatusOf(*err), time.Since(start))
	}
}
