package config

import "testing"

// TestRegression_ReservedRouteNames: a route named -, _login or _upload passed check,
// and its metrics then merged with unmatched, login or upload traffic; it is refused,
// naming the field and line. Names that merely contain the words are fine.
func TestRegression_ReservedRouteNames(t *testing.T) {
	var cases []errCase
	for _, name := range []string{"-", "_login", "_upload"} {
		cases = append(cases, errCase{name: name, src: withRoutes("  - path: /a\n    origin: site\n    public: true\n    name: \"" + name + "\" # here\n"),
			want: []wantErr{{"routes[0].name", "# here", `"` + name + `" is reserved for metrics labels (-, _login and _upload label requests no route matched, the login endpoints and presigned-upload calls); choose another name`}}})
	}
	runErrCases(t, cases)
	mustParse(t, withRoutes("  - {path: /a, origin: site, public: true, name: _login2}\n  - {path: /b, origin: site, public: true, name: my-_upload}\n  - {path: /c, origin: site, public: true, name: \"--\"}\n"), nil)
}
