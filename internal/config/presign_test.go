package config

import (
	"strings"
	"testing"
)

// TestPresignKey: mode gateway needs upload.presign.key of at least 32 bytes, reported
// at that field; mode bucket needs none.
func TestPresignKey(t *testing.T) {
	src := func(presign string) string {
		return `
origins:
  o: {s3: {bucket: b, region: eu-west-1}}
routes:
  - name: up
    path: /up/*
    origin: o
    methods: [GET, PUT]
    auth: {methods: [{basic: {users: {a: "$2a$04$kVaTh7rUjF1MepzdRbSXleHFvKZT433QQUSOBxSYCFwyv3niYFml."}}}]}
    upload: {max_size: 1MiB, presign: ` + presign + `}
`
	}
	env := map[string]string{"SHORT": strings.Repeat("k", 31), "LONG": strings.Repeat("k", 32)}
	for _, bad := range []string{`{mode: gateway}`, `{mode: gateway, key: "${SHORT}"}`} {
		errs := parseErrors(t, src(bad), env)
		if !strings.Contains(errs.Error(), "routes[0].upload.presign.key") {
			t.Errorf("%s: %v", bad, errs)
		}
	}
	cfg := mustParse(t, src(`{mode: gateway, key: "${LONG}"}`), env)
	if cfg.Routes[0].Upload.Presign.Key != env["LONG"] {
		t.Error("key not kept")
	}
	mustParse(t, src(`{mode: bucket}`), env)
}
