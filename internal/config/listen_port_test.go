package config

import "testing"

// TestRegression_ListenPortOutOfRange: server.listen ":99999" (or admin.listen,
// server.tls.acme.http_listen) passed validation, so `check` said OK and serve failed at
// bind with exit 1, which the systemd unit restarts. The port is checked now: a number
// from 0 to 65535 or a service name.
func TestRegression_ListenPortOutOfRange(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "server.listen port above 65535", src: withTop("server:\n  listen: \":99999\"\n"),
			want: []wantErr{{"server.listen", "listen:", `port "99999" is not a port number from 0 to 65535`}}},
		{name: "admin.listen unknown service", src: withTop("admin:\n  listen: \"127.0.0.1:no-such-service\"\n"),
			want: []wantErr{{"admin.listen", "listen:", `port "no-such-service" is not a port number`}}},
	})
	for _, ok := range []string{"127.0.0.1:0", ":65535", "[::1]:8080"} {
		if _, err := Parse("t.yaml", []byte(withTop("server:\n  listen: \""+ok+"\"\n")), nil); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
