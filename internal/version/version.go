// Package version reports what gatehouse binary this is.
package version

import (
	"fmt"
	"runtime"
	"strings"
)

// Version is set at link time (-ldflags "-X .../version.Version=v1.2.3"); otherwise it is
// read from the module build information.
var Version = ""

// String is a one-line description: version, VCS revision, Go version, platform.
func String() string {
	v, rev := Parts()
	full, dirty, _ := strings.Cut(rev, "+")
	if len(full) > 12 {
		full = full[:12]
	}
	if full != "" {
		rev = " " + full
		if dirty != "" {
			rev += "+" + dirty
		}
	}
	return fmt.Sprintf("gatehouse %s%s %s %s/%s", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
