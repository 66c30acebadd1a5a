package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------------------
// ${ENV} expansion

func TestParseEnv(t *testing.T) {
	s3 := func(t *testing.T, c *Config) *S3Origin {
		t.Helper()
		return c.Origins["site"].S3
	}
	runOKCases(t, []okCase{
		{name: "plain reference", src: withS3("bucket: ${BUCKET}"), env: map[string]string{"BUCKET": "from-env"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "from-env") }},
		{name: "default when unset", src: withS3("bucket: b", "region: ${REGION:-us-west-2}"),
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "us-west-2") }},
		{name: "default when empty", src: withS3("bucket: b", "region: ${REGION:-us-west-2}"), env: map[string]string{"REGION": ""},
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "us-west-2") }},
		{name: "default ignored when set", src: withS3("bucket: b", "region: ${REGION:-us-west-2}"), env: map[string]string{"REGION": "eu-north-1"},
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "eu-north-1") }},
		{name: "empty default", src: withS3("bucket: b", "region: ${REGION:-}"),
			check: func(t *testing.T, c *Config) { eq(t, "region", s3(t, c).Region, "") }},
		{name: "default containing a colon", src: withS3("bucket: b", "endpoint: ${EP:-http://127.0.0.1:9000}"),
			check: func(t *testing.T, c *Config) { eq(t, "endpoint", s3(t, c).Endpoint, "http://127.0.0.1:9000") }},
		{name: "several references in one value", src: withS3("bucket: b", "endpoint: http://${HOST}:${PORT}/"),
			env:   map[string]string{"HOST": "minio", "PORT": "9000"},
			check: func(t *testing.T, c *Config) { eq(t, "endpoint", s3(t, c).Endpoint, "http://minio:9000/") }},
		{name: "$$ escapes a dollar", src: withS3("bucket: price$$5"),
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "price$5") }},
		{name: "$${ is not a reference", src: withS3("bucket: $${NOT_A_REF}"),
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "${NOT_A_REF}") }},
		{name: "lone dollars are literal", src: withS3("bucket: a$b$"),
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "a$b$") }},
		{name: "quoted reference", src: withS3(`bucket: "${BUCKET}"`), env: map[string]string{"BUCKET": "q"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "q") }},
		{name: "values are not expanded twice", src: withS3("bucket: ${BUCKET}"), env: map[string]string{"BUCKET": "${OTHER}$$"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "${OTHER}$$") }},
		{name: "string field keeps a numeric-looking value", src: withS3("bucket: ${BUCKET}"), env: map[string]string{"BUCKET": "007"},
			check: func(t *testing.T, c *Config) { eq(t, "bucket", s3(t, c).Bucket, "007") }},
		{name: "int field", src: withS3("bucket: b", "max_attempts: ${N}"), env: map[string]string{"N": "7"},
			check: func(t *testing.T, c *Config) { eq(t, "max_attempts", s3(t, c).MaxAttempts, 7) }},
		{name: "quoted int field", src: withS3("bucket: b", `max_attempts: "${N}"`), env: map[string]string{"N": "7"},
			check: func(t *testing.T, c *Config) { eq(t, "max_attempts", s3(t, c).MaxAttempts, 7) }},
		{name: "int field from a default", src: withS3("bucket: b", "max_attempts: ${N:-2}"),
			check: func(t *testing.T, c *Config) { eq(t, "max_attempts", s3(t, c).MaxAttempts, 2) }},
		{name: "bool field", src: withS3("bucket: b", "path_style: ${PS}"), env: map[string]string{"PS": "true"},
			check: func(t *testing.T, c *Config) { eq(t, "path_style", s3(t, c).PathStyle, true) }},
		{name: "duration field", src: withOrigins("  site:\n    timeout: ${T}\n    dir: {root: /srv}\n"), env: map[string]string{"T": "2s"},
			check: func(t *testing.T, c *Config) { eq(t, "timeout", c.Origins["site"].Timeout, 2*time.Second) }},
		{name: "list item", src: withTop("server:\n  trusted_proxies: [\"${LB}\"]\n"), env: map[string]string{"LB": "10.1.0.0/16"},
			check: func(t *testing.T, c *Config) {
				eq(t, "trusted_proxies", c.Server.TrustedProxies, []string{"10.1.0.0/16"})
			}},
	})
	runErrCases(t, []errCase{
		{name: "missing variable", src: withS3("bucket: b", "access_key_id: ${AWS_KEY}", "secret_access_key: x"),
			want: []wantErr{{"origins.site.s3.access_key_id", "access_key_id:", "environment variable AWS_KEY is not set"}}},
		{name: "empty variable", src: withS3("bucket: b", "access_key_id: ${AWS_KEY}", "secret_access_key: x"), env: map[string]string{"AWS_KEY": ""},
			want: []wantErr{{"origins.site.s3.access_key_id", "access_key_id:", "environment variable AWS_KEY is empty"}}},
		{name: "invalid name: leading digit", src: withS3("bucket: ${1BUCKET}"),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `invalid environment variable name "1BUCKET"`}}},
		{name: "invalid name: dash", src: withS3("bucket: ${MY-BUCKET}"),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `invalid environment variable name "MY-BUCKET"`}}},
		{name: "invalid name: empty", src: withS3("bucket: a${}b"),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `invalid environment variable name ""`}}},
		{name: "unterminated", src: withS3("bucket: ${BUCKET"), env: map[string]string{"BUCKET": "b"},
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", `unterminated ${ in "${BUCKET"`}}},
		{name: "expanded int that is not a number", src: withS3("bucket: b", "max_attempts: ${N}"), env: map[string]string{"N": "seven"},
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", `want a whole number, got "seven"`}}},
		{name: "expanded int out of range is validated", src: withS3("bucket: b", "max_attempts: ${N}"), env: map[string]string{"N": "50"},
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", "must be between 1 and 10, got 50"}}},
		{name: "every missing variable reported", src: "server:\n  listen: ${LISTEN}\n" + withS3("bucket: ${BUCKET}", "region: ${REGION}"),
			want: []wantErr{
				{"server.listen", "listen:", "environment variable LISTEN is not set"},
				{"origins.site.s3.bucket", "bucket:", "environment variable BUCKET is not set"},
				{"origins.site.s3.region", "region:", "environment variable REGION is not set"},
			}},
	})
}

func TestParseEnvNeverInKeys(t *testing.T) {
	var looked []string
	env := func(name string) (string, bool) {
		looked = append(looked, name)
		return map[string]string{"TOP": "server", "NAME": "site", "KEY": "root"}[name], true
	}
	t.Run("top-level key", func(t *testing.T) {
		looked = nil
		src := "${TOP}:\n  listen: 127.0.0.1:1\n" + originsDoc + oneRoute
		_, err := Parse("test.yaml", []byte(src), env)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "${TOP}" || errs[0].Line != 1 ||
			!strings.Contains(errs[0].Msg, `unknown key "${TOP}"`) {
			t.Errorf("got %v, want one unknown-key error for ${TOP} on line 1", err)
		}
		if len(looked) != 0 {
			t.Errorf("environment consulted for %v", looked)
		}
	})
	t.Run("origin name and field key", func(t *testing.T) {
		looked = nil
		src := "origins:\n  ${NAME}:\n    dir:\n      ${KEY}: /srv\n  site:\n    dir: {root: /srv}\n" + oneRoute
		_, err := Parse("test.yaml", []byte(src), env)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "origins.${NAME}.dir.${KEY}" || errs[0].Line != 4 {
			t.Errorf("got %v, want one unknown-key error at origins.${NAME}.dir.${KEY} on line 4", err)
		}
		if len(looked) != 0 {
			t.Errorf("environment consulted for %v", looked)
		}
	})
	t.Run("origin name is validated literally", func(t *testing.T) {
		looked = nil
		src := "origins:\n  ${NAME}:\n    dir: {root: /srv}\n" + oneRoute
		errs := parseErrors(t, src, nil)
		checkErrs(t, src, errs, []wantErr{
			{"origins.${NAME}", "${NAME}:", `origin name "${NAME}" must start with a letter or digit`},
			{"routes[0].origin", "origin: site", `no origin named "site"`},
		})
	})
}

func TestExpandEnv(t *testing.T) {
	env := envMap(map[string]string{"A": "alpha", "B": "", "N_1": "n", "_X": "x", "D": "$$", "R": "${A}"})
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "<${A}>", want: "<alpha>"},
		{in: "${A}${A}", want: "alphaalpha"},
		{in: "${N_1}${_X}", want: "nx"},
		{in: "${A:-d}", want: "alpha"},
		{in: "${Z:-d}", want: "d"},
		{in: "${B:-d}", want: "d"},
		{in: "${Z:-}", want: ""},
		{in: "${Z:-a:-b}", want: "a:-b"},
		{in: "${Z:-{x}", want: "{x"},
		{in: "${Z:-x}}", want: "x}"},
		{in: "${Z:-$${A}}", want: "$${A}"}, // the default is used literally and ends at the first '}'
		{in: "$$", want: "$"},
		{in: "$$$$", want: "$$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "$", want: "$"},
		{in: "a$", want: "a$"},
		{in: "$A", want: "$A"},
		{in: "$}", want: "$}"},
		{in: "${D}", want: "$$"},
		{in: "${R}", want: "${A}"},
		{in: "${Z}", err: "environment variable Z is not set"},
		{in: "x${B}", err: "environment variable B is empty"},
		{in: "${}", err: `invalid environment variable name ""`},
		{in: "${:-d}", err: `invalid environment variable name ""`},
		{in: "${9A}", err: `invalid environment variable name "9A"`},
		{in: "${A B}", err: `invalid environment variable name "A B"`},
		{in: "${A.B}", err: `invalid environment variable name "A.B"`},
		{in: "${", err: `unterminated ${ in "${"`},
		{in: "${A", err: `unterminated ${ in "${A"`},
		{in: "${A}${B", err: `unterminated ${ in "${A}${B"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := expandEnv(tc.in, env)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("expandEnv(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("expandEnv(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
