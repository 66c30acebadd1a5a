package basicauth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// testArgon2 are cheap argon2id parameters for tests (the minimum memory).
var testArgon2 = Argon2Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustBcrypt(t testing.TB, password string, cost int) string {
	t.Helper()
	h, err := HashBcrypt([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustArgon2(t testing.TB, password string) string {
	t.Helper()
	h, err := HashArgon2id([]byte(password), testArgon2)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerifyRoundTrip(t *testing.T) {
	b := mustBcrypt(t, "s3cret", 4)
	a := mustArgon2(t, "s3cret")
	def, err := HashArgon2id([]byte("s3cret"), DefaultArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(def, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("default argon2id hash = %s", def)
	}
	// 64 MiB per check: once right, once wrong.
	if ok, err := Verify(def, []byte("s3cret")); !ok || err != nil {
		t.Errorf("default parameters, right password: %v, %v", ok, err)
	}
	if ok, err := Verify(def, []byte("s3cret!")); ok || err != nil {
		t.Errorf("default parameters, wrong password: %v, %v", ok, err)
	}
	for name, h := range map[string]string{
		"bcrypt $2a$": b, "bcrypt $2b$": "$2b$" + b[4:], "bcrypt $2y$": "$2y$" + b[4:],
		"argon2id": a,
	} {
		t.Run(name, func(t *testing.T) {
			if ok, err := Verify(h, []byte("s3cret")); !ok || err != nil {
				t.Errorf("right password: %v, %v", ok, err)
			}
			for _, wrong := range []string{"", "s3cre", "s3cret ", "S3cret", "s3cret\x00"} {
				if ok, err := Verify(h, []byte(wrong)); ok || err != nil {
					t.Errorf("wrong password %q: %v, %v", wrong, ok, err)
				}
			}
		})
	}
}

func TestHashBounds(t *testing.T) {
	if _, err := HashBcrypt(make([]byte, 73), 4); err == nil || !strings.Contains(err.Error(), "72 bytes") {
		t.Errorf("73-byte bcrypt password: %v", err)
	}
	if _, err := HashBcrypt(make([]byte, 72), 4); err != nil {
		t.Errorf("72-byte bcrypt password: %v", err)
	}
	for _, cost := range []int{3, 17, 31} {
		if _, err := HashBcrypt([]byte("x"), cost); err == nil {
			t.Errorf("cost %d accepted", cost)
		}
	}
	for _, p := range []Argon2Params{
		{Memory: 7, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := HashArgon2id([]byte("x"), p); err == nil {
			t.Errorf("argon2id parameters %+v accepted", p)
		}
	}
}

func TestParseHashRefuses(t *testing.T) {
	b := mustBcrypt(t, "pw", 4)
	a := mustArgon2(t, "pw")
	salt, key := strings.Split(a, "$")[4], strings.Split(a, "$")[5]
	tests := []struct{ name, hash, want string }{
		{"plaintext", "hunter2", "plaintext"},
		{"empty", "", "empty"},
		{"DES crypt", "rl0uE3Kmr8Cw2", "DES crypt"},
		{"apr1", "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", "Apache MD5"},
		{"MD5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "MD5-crypt"},
		{"SHA-512 crypt", "$6$salt$abc", "SHA-crypt"},
		{"SHA-1", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "SHA-1"},
		{"argon2i", "$argon2i$v=19$m=8,t=1,p=1$" + salt + "$" + key, "only argon2id"},
		{"bcrypt $2x$", "$2x$" + b[4:], "unknown bcrypt"},
		{"bcrypt truncated", b[:59], "malformed bcrypt"},
		{"bcrypt trailing field", b + ":x", "malformed bcrypt"},
		{"bcrypt cost 3", b[:4] + "03" + b[6:], "outside 4-16"},
		{"bcrypt cost 17", b[:4] + "17" + b[6:], "outside 4-16"},
		{"bcrypt cost 31", b[:4] + "31" + b[6:], "outside 4-16"},
		{"bcrypt cost sign", b[:4] + "+9" + b[6:], "two digits"},
		{"bcrypt bad alphabet", b[:20] + "+" + b[21:], "alphabet"},
		{"argon2id v=16", "$argon2id$v=16$m=8,t=1,p=1$" + salt + "$" + key, "version 19"},
		{"argon2id no version", "$argon2id$m=8,t=1,p=1$" + salt + "$" + key, "malformed argon2id"},
		{"argon2id reordered", "$argon2id$v=19$t=1,m=8,p=1$" + salt + "$" + key, "parameter 1 must be m="},
		{"argon2id extra param", "$argon2id$v=19$m=8,t=1,p=1,k=2$" + salt + "$" + key, "m=M,t=T,p=P"},
		{"argon2id negative", "$argon2id$v=19$m=-8,t=1,p=1$" + salt + "$" + key, "m= followed"},
		{"argon2id 1 TiB", "$argon2id$v=19$m=1073741824,t=1,p=1$" + salt + "$" + key, "outside"},
		{"argon2id overflow", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key, "m= followed"},
		{"argon2id t=0", "$argon2id$v=19$m=8,t=0,p=1$" + salt + "$" + key, "t=0"},
		{"argon2id t=1000", "$argon2id$v=19$m=8,t=1000,p=1$" + salt + "$" + key, "t=1000"},
		{"argon2id p=0", "$argon2id$v=19$m=8,t=1,p=0$" + salt + "$" + key, "p=0"},
		{"argon2id p=300", "$argon2id$v=19$m=8000,t=1,p=300$" + salt + "$" + key, "p=300"},
		{"argon2id padded salt", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "==$" + key, "salt"},
		{"argon2id short salt", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$" + key, "salt"},
		{"argon2id short key", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$a2V5a2V5", "hash must be"},
		{"argon2id trailing field", a + "$x", "malformed argon2id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHash(tt.hash)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if len(tt.hash) > 3 && strings.Contains(err.Error(), tt.hash) {
				t.Errorf("error quotes the value: %v", err)
			}
			if _, verr := Verify(tt.hash, []byte("pw")); verr == nil {
				t.Error("Verify accepted it")
			}
		})
	}
	// Unsupported schemes point to the fix.
	_, err := parseHash("hunter2")
	if !strings.Contains(err.Error(), "gatehouse passwd") {
		t.Errorf("plaintext error does not mention gatehouse passwd: %v", err)
	}
}

// TestDummyLike checks that the dummy hash is well-formed (a check against it does the
// full work and fails, rather than failing fast on a format error) and has the same
// parameters as its model.
func TestDummyLike(t *testing.T) {
	for _, model := range []string{mustBcrypt(t, "pw", 5), mustArgon2(t, "pw")} {
		h, err := parseHash(model)
		if err != nil {
			t.Fatal(err)
		}
		d := dummyLike(h)
		if d.params() != h.params() {
			t.Errorf("dummy %s, model %s", d.params(), h.params())
		}
		if d.matches([]byte("pw")) {
			t.Error("dummy matches the model's password")
		}
		if d.kind == kindBcrypt {
			if _, err := parseHash(string(d.raw)); err != nil {
				t.Errorf("dummy bcrypt hash does not parse: %v", err)
			}
			if err := bcrypt.CompareHashAndPassword(d.raw, []byte("pw")); !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
				t.Errorf("dummy bcrypt comparison: %v, want a mismatch", err)
			}
		}
		if d2 := dummyLike(h); string(d2.raw) == string(d.raw) && d.kind == kindBcrypt {
			t.Error("two dummies are equal")
		}
	}
}
