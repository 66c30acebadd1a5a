package version

import (
	"runtime/debug"
)

// Parts returns the version and the VCS revision (full, with "+dirty" when the tree
// was modified) of this binary, as String reads them: "dev" for a version that was not
// stamped or read from the module, "" for an unknown revision. Metrics label them.
func Parts() (v, revision string) {
	v = Version
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		dirty := ""
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if revision != "" {
			revision += dirty
		}
	}
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	return v, revision
}
