package basicauth

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Fixed hashes (cost 4 and minimal argon2id, password "pw") keep these tests and the
// fuzz corpus deterministic.
const (
	fixedBcrypt = "$2a$04$3FNpL5iHQSm.ICNZ6xHdv.LFrPiOzktCNLmyLm7JUuaWlOnBPwIxK"
	fixedArgon2 = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$4fYLox2QlPew4kg1ik3+x6cVrmgv7pKr07neIZLZRU0"
)

func TestFixedHashes(t *testing.T) {
	for _, h := range []string{fixedBcrypt, fixedArgon2} {
		if ok, err := Verify(h, []byte("pw")); !ok || err != nil {
			t.Errorf("%s: %v, %v", h[:10], ok, err)
		}
	}
}

func TestParseHtpasswd(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		users []string // in order, when it parses
		errs  []string // substrings of the error, when it does not
	}{
		{name: "empty file"},
		{name: "comments and blank lines", data: "# users\n\n  \nalice:" + fixedBcrypt + "\n# bob left\n\t\nbob:" + fixedArgon2 + "\n", users: []string{"alice", "bob"}},
		{name: "CRLF and no final newline", data: "alice:" + fixedBcrypt + "\r\nbob:" + fixedArgon2, users: []string{"alice", "bob"}},
		{name: "spaces around a line", data: "  alice:" + fixedBcrypt + " \t\n", users: []string{"alice"}},
		{name: "bcrypt variants", data: "a:" + fixedBcrypt + "\nb:$2b$" + fixedBcrypt[4:] + "\nc:$2y$" + fixedBcrypt[4:] + "\n", users: []string{"a", "b", "c"}},
		{name: "UTF-8 user with space", data: "Zoë Q:" + fixedBcrypt + "\n", users: []string{"Zoë Q"}},

		{name: "plaintext", data: "alice:" + fixedBcrypt + "\nbob:hunter2\n", errs: []string{"users.htpasswd:2: ", `user "bob"`, "plaintext", "`gatehouse passwd USER`"}},
		{name: "apr1", data: "alice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n", errs: []string{"users.htpasswd:1:", "Apache MD5", "gatehouse passwd"}},
		{name: "SHA", data: "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", errs: []string{"users.htpasswd:1:", "SHA-1"}},
		{name: "crypt", data: "\nalice:rl0uE3Kmr8Cw2\n", errs: []string{"users.htpasswd:2:", "DES crypt"}},
		{name: "MD5-crypt", data: "alice:$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\n", errs: []string{"MD5-crypt"}},
		{name: "duplicate user", data: "alice:" + fixedBcrypt + "\n#\nalice:" + fixedArgon2 + "\n", errs: []string{"users.htpasswd:3:", `"alice" is already defined on line 1`}},
		{name: "no colon", data: "alice\n", errs: []string{"users.htpasswd:1:", "want user:hash"}},
		{name: "empty user", data: ":" + fixedBcrypt + "\n", errs: []string{"empty user name"}},
		{name: "control character in user", data: "al\x00ice:" + fixedBcrypt + "\n", errs: []string{"control character"}},
		{name: "user not UTF-8", data: "al\xffice:" + fixedBcrypt + "\n", errs: []string{"not UTF-8"}},
		{name: "htdigest line", data: "alice:realm:5f4dcc3b5aa765d61d8327deb882cf99\n", errs: []string{"users.htpasswd:1:", "a plaintext password or an unknown hash"}},
		{name: "bcrypt with extra field", data: "alice:" + fixedBcrypt + ":comment\n", errs: []string{"malformed bcrypt"}},
		{name: "line too long", data: "alice:" + strings.Repeat("x", 2000) + "\nbob:x\n", errs: []string{"users.htpasswd:1: line longer than 1024", "users.htpasswd:2:"}},
		{name: "file too large", data: strings.Repeat("#\n", maxFileSize/2+1), errs: []string{"larger than 4 MiB"}},
		{name: "many errors are capped", data: strings.Repeat("x\n", 25), errs: []string{"users.htpasswd:10:", "and 15 more errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := parseHtpasswd("users.htpasswd", []byte(tt.data))
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, want := range tt.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				for _, secret := range []string{"hunter2", "rl0uE3Kmr8Cw2", "HqJZimcKQFAMYayBlzkrA", "W6ph5Mm5Pz8GgiULbPgzG37mj9g"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error quotes the stored value %q", secret)
					}
				}
				if strings.Count(err.Error(), "\n") > maxErrors {
					t.Errorf("%d error lines", strings.Count(err.Error(), "\n")+1)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.user)
			}
			if strings.Join(got, ",") != strings.Join(tt.users, ",") {
				t.Errorf("users %q, want %q", got, tt.users)
			}
		})
	}
}

// FuzzParseHtpasswd checks that parsing any file never panics, and that what it accepts
// keeps the format's promises: unique valid user names, parsed hashes that re-parse to
// the same parameters, line numbers in order.
func FuzzParseHtpasswd(f *testing.F) {
	for _, s := range []string{
		"", "# c\n\nalice:" + fixedBcrypt + "\n", "bob:" + fixedArgon2 + "\r\n", "a:b\n", ":\n", "a:" + fixedBcrypt + "\na:" + fixedBcrypt,
		"x:$argon2id$v=19$m=8,t=1,p=1$$", "x:$2y$99$" + strings.Repeat(".", 53), "x:$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseHtpasswd("f", data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		line := 0
		for _, e := range entries {
			if e.user == "" || strings.Contains(e.user, ":") || hasControl(e.user) || !utf8.ValidString(e.user) {
				t.Fatalf("accepted user %q", e.user)
			}
			if seen[e.user] {
				t.Fatalf("user %q twice", e.user)
			}
			seen[e.user] = true
			if e.line <= line {
				t.Fatalf("line %d after %d", e.line, line)
			}
			line = e.line
			if h2, err := parseHash(string(e.hash.raw)); err != nil || h2.params() != e.hash.params() {
				t.Fatalf("accepted hash does not re-parse the same: %v", err)
			}
			if e.hash.kind == kindBcrypt && (e.hash.cost < minBcryptCost || e.hash.cost > maxBcryptCost) {
				t.Fatalf("accepted bcrypt cost %d", e.hash.cost)
			}
			if e.hash.kind == kindArgon2id && (e.hash.memory > maxArgon2Memory || e.hash.time > maxArgon2Time || e.hash.threads > maxArgon2Threads) {
				t.Fatalf("accepted argon2id parameters %s", e.hash.params())
			}
		}
	})
}
