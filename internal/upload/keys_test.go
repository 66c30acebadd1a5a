package upload

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

func TestAllowed(t *testing.T) {
	alice := &policy.Identity{User: "alice", Email: "alice@example.com"}
	for _, tc := range []struct {
		template string
		id       *policy.Identity
		key      string
		want     error
	}{
		{"", alice, "anything/at/all.txt", nil},
		{"uploads/{user}/", alice, "uploads/alice/a.txt", nil},
		{"uploads/{user}/", alice, "uploads/alice/deep/er/a b ü.txt", nil},
		{"uploads/{user}/", alice, "uploads/bob/a.txt", ErrOutsidePrefix},
		{"uploads/{user}/", alice, "uploads/alicex/a.txt", ErrOutsidePrefix},
		{"uploads/{user}/", alice, "uploads/alice/", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice/../bob/a.txt", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice/./a.txt", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice//a.txt", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice/a\\b", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice/a\x00b", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice/\xff", ErrBadKey},
		{"uploads/{user}/", alice, "uploads/alice/" + strings.Repeat("a", 1100), ErrBadKey},
		{"by-mail/{email}/", alice, "by-mail/alice@example.com/x", nil},
		{"uploads/{user}/", nil, "uploads//x", ErrBadKey},
		{"uploads/{user}/", nil, "uploads/x/y", ErrIdentity},
		{"uploads/{user}/", &policy.Identity{Subject: "key:K1"}, "uploads/key:K1/y", ErrIdentity},
		{"uploads/{user}/", &policy.Identity{User: ".."}, "uploads/x/y", ErrIdentity},
		{"uploads/{user}/", &policy.Identity{User: "a/b"}, "uploads/a/b/y", ErrIdentity},
		{"uploads/{user}/", &policy.Identity{User: "a\nb"}, "uploads/x/y", ErrIdentity},
		{"uploads/{user}/", &policy.Identity{User: strings.Repeat("u", 256)}, "uploads/x/y", ErrIdentity},
	} {
		err := Allowed(tc.template, tc.id, tc.key)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Allowed(%q, %+v, %q) = %v, want %v", tc.template, tc.id, tc.key, err, tc.want)
		}
	}
}

// FuzzAllowed: whatever the identity and key, an allowed key is writable, lies under the
// prefix the identity expands to, and that prefix holds the identity as one segment.
func FuzzAllowed(f *testing.F) {
	f.Add("alice", "uploads/alice/a.txt")
	f.Add("..", "uploads/../x")
	f.Add("a/b", "uploads/a/b/c")
	f.Fuzz(func(t *testing.T, user, key string) {
		id := &policy.Identity{User: user}
		if Allowed("uploads/{user}/", id, key) != nil {
			return
		}
		if CheckKey(key) != nil || !strings.HasPrefix(key, "uploads/"+user+"/") || strings.Contains(user, "/") || user == "" || user == ".." {
			t.Fatalf("allowed %q for user %q", key, user)
		}
	})
}
