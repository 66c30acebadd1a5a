package config

// The route label of gatehouse's metrics is a route's name, except for requests that
// belong to no configured route, which carry a fixed word (internal/metrics: NoRoute,
// LoginRoute, UploadRoute). A route given one of those words would merge its series
// with that traffic, so validation refuses them as route names.
const reservedRouteNamesText = "-, _login and _upload"

// ReservedRouteName reports whether name is one of the metrics' fixed route words:
// "-" (no route matched), "_login" (login endpoints) and "_upload" (presigned-upload
// endpoints). A route may not be named so.
func ReservedRouteName(name string) bool {
	switch name {
	case "-", "_login", "_upload":
		return true
	}
	return false
}

// validateRouteName refuses a route name reserved for metrics labels.
func validateRouteName(c *collector, p, name string) {
	if ReservedRouteName(name) {
		c.addf(p+".name", "%q is reserved for metrics labels (%s label requests no route matched, the login endpoints and presigned-upload calls); choose another name", name, reservedRouteNamesText)
	}
}
