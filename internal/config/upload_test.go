package config

import (
	"strings"
	"testing"
)

// TestRegression_KeyPrefixOutsideAddPrefix: check accepted a key_prefix no key of the
// route can have (add_prefix big/ with key_prefix "{user}/"): every PUT was 403 and every
// presign call 400. It is an error at upload.key_prefix now.
func TestRegression_KeyPrefixOutsideAddPrefix(t *testing.T) {
	src := func(add, kp string) string {
		return `
origins:
  o: {s3: {bucket: b, region: eu-west-1}}
routes:
  - name: up
    path: /up/*
    origin: o
    strip_prefix: /up
    add_prefix: "` + add + `"
    methods: [GET, PUT]
    auth: {methods: [{basic: {users: {a: "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."}}}]}
    upload: {max_size: 1MiB, key_prefix: "` + kp + `"}
`
	}
	for _, tc := range []struct{ add, kp string }{
		{"big/", "{user}/"},
		{"big/", "x/{user}/"},
		{"big/", "bi/{user}/"},
		{"users/alice/", "users/{user}/"},
		{"big/", "other/"},
	} {
		errs := parseErrors(t, src(tc.add, tc.kp), nil)
		if len(errs) != 1 || errs[0].Path != "routes[0].upload.key_prefix" || !strings.Contains(errs[0].Msg, "add_prefix") {
			t.Errorf("add_prefix %q, key_prefix %q: %v", tc.add, tc.kp, errs)
		}
	}
	for _, tc := range []struct{ add, kp string }{
		{"", "{user}/"},
		{"big/", "big/{user}/"},
		{"big/", "big/up/{email}/"},
		{"big", "big/{user}/"},
		{"big/", "big/"},
		{"big/sub/", "big/"},
		{"big/", "big/sub/"},
	} {
		mustParse(t, src(tc.add, tc.kp), nil)
	}
}
