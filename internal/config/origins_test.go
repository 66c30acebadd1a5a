package config

import (
	"testing"
)

func TestParseOrigins(t *testing.T) {
	runErrCases(t, []errCase{
		{name: "both s3 and dir", src: withOrigins("  site:\n    s3: {bucket: b}\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.site", "site:", "set exactly one of s3 and dir, not both"}}},
		{name: "neither s3 nor dir", src: withOrigins("  site:\n    timeout: 5s\n"),
			want: []wantErr{{"origins.site", "site:", "set one of s3 or dir"}}},
		{name: "empty origin", src: withOrigins("  site:\n"),
			want: []wantErr{{"origins.site", "site:", "empty origin: set s3 or dir"}}},
		{name: "empty origin mapping", src: withOrigins("  site: {}\n"),
			want: []wantErr{{"origins.site", "site:", "set one of s3 or dir"}}},
		{name: "no origins", src: "origins: {}\n" + oneRoute,
			want: []wantErr{
				{"origins", "origins:", "at least one origin is required"},
				{"routes[0].origin", "origin: site", `no origin named "site"`},
			}},
		{name: "origins absent", src: oneRoute,
			want: []wantErr{
				{"origins", "", "at least one origin is required"},
				{"routes[0].origin", "origin: site", `no origin named "site"`},
			}},
		{name: "missing bucket", src: withS3("region: eu-west-1"),
			want: []wantErr{{"origins.site.s3.bucket", "s3:", "required"}}},
		{name: "empty bucket", src: withS3(`bucket: ""`),
			want: []wantErr{{"origins.site.s3.bucket", "bucket:", "required"}}},
		{name: "endpoint with another scheme", src: withS3("bucket: b", "endpoint: ftp://minio:9000"),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `want an http:// or https:// URL, got "ftp://minio:9000"`}}},
		{name: "endpoint without a scheme", src: withS3("bucket: b", "endpoint: minio:9000"),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `got "minio:9000"`}}},
		{name: "endpoint without a host", src: withS3("bucket: b", "endpoint: http://"),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `got "http://"`}}},
		{name: "endpoint that does not parse", src: withS3("bucket: b", `endpoint: "http://[::1"`),
			want: []wantErr{{"origins.site.s3.endpoint", "endpoint:", `got "http://[::1"`}}},
		{name: "access key without secret", src: withS3("bucket: b", "access_key_id: k"),
			want: []wantErr{{"origins.site.s3", "s3:", "access_key_id and secret_access_key go together: set both or neither"}}},
		{name: "secret without access key", src: withS3("bucket: b", "secret_access_key: s"),
			want: []wantErr{{"origins.site.s3", "s3:", "access_key_id and secret_access_key go together"}}},
		{name: "session token without keys", src: withS3("bucket: b", "session_token: t"),
			want: []wantErr{{"origins.site.s3.session_token", "session_token:", "needs access_key_id and secret_access_key"}}},
		{name: "profile and keys", src: withS3("bucket: b", "profile: p", "access_key_id: k", "secret_access_key: s"),
			want: []wantErr{{"origins.site.s3.profile", "profile:", "set either profile or explicit keys, not both"}}},
		{name: "max_attempts too high", src: withS3("bucket: b", "max_attempts: 11"),
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", "must be between 1 and 10, got 11"}}},
		{name: "max_attempts negative", src: withS3("bucket: b", "max_attempts: -1"),
			want: []wantErr{{"origins.site.s3.max_attempts", "max_attempts:", "got -1"}}},
		{name: "dir without root", src: withOrigins("  site:\n    dir: {}\n"),
			want: []wantErr{{"origins.site.dir.root", "dir:", "required"}}},
		{name: "negative timeout", src: withOrigins("  site:\n    timeout: -5s\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.site.timeout", "timeout:", "must be positive"}}},
		{name: "name starting with a dash", src: withOrigins("  -site:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.-site", "-site:", `origin name "-site" must start with a letter or digit and hold only letters, digits, '.', '_' and '-'`}}},
		{name: "name with a space", src: withOrigins("  my site:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.my site", "my site:", `origin name "my site"`}}},
		{name: "name with a slash", src: withOrigins("  a/b:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.a/b", "a/b:", `origin name "a/b"`}}},
		{name: "non-ASCII name", src: withOrigins("  sité:\n    dir: {root: /srv}\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{{"origins.sité", "sité:", `origin name "sité"`}}},
		{name: "bad name and empty origin both reported", src: withOrigins("  _x:\n  site:\n    dir: {root: /srv}\n"),
			want: []wantErr{
				{"origins._x", "_x:", "origin name"},
				{"origins._x", "_x:", "empty origin"},
			}},
		{name: "every origin problem at once", src: `origins:
  a:
    s3:
      endpoint: gopher://x
      access_key_id: k
      max_attempts: 0x10
  b:
    dir: {}
  c: {}
` + oneRoute[:len("routes:\n")] + "  - path: /\n    origin: a\n    public: true\n",
			want: []wantErr{
				{"origins.a.s3.bucket", "s3:", "required"},
				{"origins.a.s3", "s3:", "go together"},
				{"origins.a.s3.endpoint", "endpoint:", "http:// or https://"},
				{"origins.a.s3.max_attempts", "max_attempts:", "got 16"},
				{"origins.b.dir.root", "dir:", "required"},
				{"origins.c", "c: {}", "set one of s3 or dir"},
			}},
	})
}
