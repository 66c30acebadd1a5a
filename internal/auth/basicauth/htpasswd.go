package basicauth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on an htpasswd file: a bcrypt line is about 70 bytes, so 4 MiB holds some
// 50,000 users.
const (
	maxFileSize = 4 << 20
	maxLineLen  = 1024
	maxErrors   = 10 // line errors reported before "and N more"
)

// entry is one user of an htpasswd file.
type entry struct {
	user string
	hash *hash
	line int
}

// parseHtpasswd parses htpasswd data: one `user:hash` per line, blank lines and lines
// starting with '#' ignored, spaces and tabs around a line and a CR before its LF
// ignored. Hashes must be bcrypt or argon2id (see parseHash); user names must be
// non-empty UTF-8 without ':' or control characters and appear once. Errors name
// name:line and never quote a hash. Entries keep file order.
func parseHtpasswd(name string, data []byte) ([]entry, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxFileSize>>20)
	}
	var (
		entries []entry
		errs    []error
		more    int // errors past maxErrors, counted but not formatted
		seen    = map[string]int{}
	)
	fail := func(line int, format string, args ...any) {
		if len(errs) == maxErrors {
			more++
			return
		}
		errs = append(errs, fmt.Errorf("%s:%d: "+format, append([]any{name, line}, args...)...))
	}
	for n := 1; len(data) > 0; n++ {
		var raw []byte
		raw, data, _ = bytes.Cut(data, []byte{'\n'})
		if len(raw) > maxLineLen {
			fail(n, "line longer than %d bytes", maxLineLen)
			continue
		}
		line := strings.Trim(string(raw), " \t\r")
		if line == "" || line[0] == '#' {
			continue
		}
		user, stored, ok := strings.Cut(line, ":")
		switch {
		case !ok:
			fail(n, "want user:hash (make a line with `gatehouse passwd USER`)")
			continue
		case user == "":
			fail(n, "empty user name")
			continue
		case hasControl(user) || !utf8.ValidString(user):
			fail(n, "user name with a control character or not UTF-8")
			continue
		}
		if prev, dup := seen[user]; dup {
			fail(n, "user %q is already defined on line %d", user, prev)
			continue
		}
		seen[user] = n
		h, err := parseHash(stored)
		if err != nil {
			fail(n, "user %q: %v", user, err)
			continue
		}
		entries = append(entries, entry{user: user, hash: h, line: n})
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("%s: and %d more errors", name, more))
	}
	return entries, errors.Join(errs...)
}

// fileStamp identifies one version of a file for change polling.
type fileStamp struct {
	info os.FileInfo // for os.SameFile: a replaced file is a new one
	sum  [32]byte    // SHA-256 of the content: a touched file has the same users
	read time.Time   // when it was read
}

// changed reports whether fi differs from the stamped version: another file (an
// atomic rename), another size or another modification time.
func (s fileStamp) changed(fi os.FileInfo) bool {
	return s.info == nil || !os.SameFile(s.info, fi) || s.info.Size() != fi.Size() || !s.info.ModTime().Equal(fi.ModTime())
}

// readHtpasswd reads and parses the htpasswd file at path. The stamp describes the file
// that was read (taken from the open file, so a replacement during the read shows up
// as a change at the next poll).
func readHtpasswd(path string) ([]entry, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("htpasswd file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("htpasswd file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fileStamp{}, fmt.Errorf("htpasswd file %s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("htpasswd file: %w", err)
	}
	entries, err := parseHtpasswd(path, data)
	return entries, fileStamp{info: fi, sum: sha256.Sum256(data), read: time.Now()}, err
}

// userSet is one immutable generation of users with what depends on them: the dummy
// hashes for refusing unknown users and the success cache. A reload builds a new set, so
// the cache of the old one is dropped with it.
type userSet struct {
	users map[string]*hash
	// dummies holds one dummy hash (see dummyLike) per distinct parameter set (hash.id)
	// among the users, in id order; a bcrypt cost-10 one when there are no users. See
	// Authenticator.check for how they hide which users exist.
	dummies []*hash
	cache   *successCache
	// params is the number of users per parameter set, for the log and warnings;
	// fileParams and inlineParams say where each set occurs, to name the field.
	params                   map[string]int
	fileParams, inlineParams map[string]bool
}

// newUserSet merges the file's entries with the inline users (a user in both is an
// error) and makes one dummy hash per distinct parameter set the users' hashes have.
func newUserSet(file string, fromFile []entry, inline map[string]*hash, cacheSize int) (*userSet, error) {
	s := &userSet{users: make(map[string]*hash, len(fromFile)+len(inline)), params: map[string]int{},
		fileParams: map[string]bool{}, inlineParams: map[string]bool{}}
	var errs []error
	for _, e := range fromFile {
		if _, dup := inline[e.user]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: user %q is also in the configuration's users; keep it in one place", file, e.line, e.user))
			continue
		}
		s.users[e.user] = e.hash
		s.fileParams[e.hash.id] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for u, h := range inline {
		s.users[u] = h
		s.inlineParams[h.id] = true
	}
	byParams := map[string]*hash{}
	for _, h := range s.users {
		s.params[h.id]++
		byParams[h.id] = h
	}
	for _, id := range slices.Sorted(maps.Keys(byParams)) {
		s.dummies = append(s.dummies, dummyLike(byParams[id]))
	}
	if len(s.dummies) == 0 {
		// No users: every request is refused; the dummy only keeps the cost realistic.
		s.dummies = append(s.dummies, dummyLike(&hash{kind: kindBcrypt, cost: 10}))
	}
	s.cache = newSuccessCache(cacheSize)
	return s, nil
}

// mixed describes the parameter sets when the users' hashes have more than one, and
// names the configuration key they come from ("htpasswd_file", "users", or "" for
// both); ok is false when every hash has the same parameters.
func (s *userSet) mixed() (field, desc string, ok bool) {
	if len(s.params) < 2 {
		return "", "", false
	}
	parts := make([]string, 0, len(s.params))
	for _, id := range slices.Sorted(maps.Keys(s.params)) {
		n := s.params[id]
		unit := "users"
		if n == 1 {
			unit = "user"
		}
		parts = append(parts, fmt.Sprintf("%s: %d %s", id, n, unit))
	}
	switch {
	case len(s.inlineParams) == 0:
		field = "htpasswd_file"
	case len(s.fileParams) == 0:
		field = "users"
	}
	return field, strings.Join(parts, ", "), true
}
