package basicauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Bounds on stored hashes. Every uncached check of a password costs what its hash asks
// for, per request, so a hash asking for minutes of CPU or gigabytes of memory is refused
// when the users are loaded rather than discovered under load.
const (
	minBcryptCost    = bcrypt.MinCost // 4: htpasswd -B without -C writes 5
	maxBcryptCost    = 16             // ~4 s per check; passwd writes 10-14
	maxArgon2Memory  = 256 << 10      // KiB (256 MiB)
	maxArgon2Time    = 16
	maxArgon2Threads = 16
	minArgon2Salt    = 8
	maxArgon2Salt    = 64
	minArgon2Key     = 16
	maxArgon2Key     = 64
)

// Argon2Params are the argon2id parameters HashArgon2id uses. Memory is in KiB.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key stored in the hash
}

// DefaultArgon2Params are the parameters `gatehouse passwd --argon2id` uses: 64 MiB of
// memory, 3 passes, 2 lanes, a 16-byte salt and a 32-byte key. This is the second
// recommended option of RFC 9106 (section 4) with 2 lanes instead of 4, so that a check
// costs about what a bcrypt cost-11 or -12 check does (~150 ms on a current 2-core
// server) and two checks at once fit a small machine.
var DefaultArgon2Params = Argon2Params{Memory: 64 << 10, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

type hashKind uint8

const (
	kindBcrypt hashKind = iota + 1
	kindArgon2id
)

// hash is a parsed stored password hash: parsed once when the users are loaded, so a
// check does no parsing and a malformed hash is an error at load time.
type hash struct {
	kind hashKind
	raw  []byte // the hash as stored (bcrypt compares against it)
	cost int    // bcrypt
	// argon2id
	memory, time uint32
	threads      uint8
	salt, key    []byte

	// id is params(), computed once when the hash is parsed or made.
	id string
	// dummy marks a hash made by dummyLike, which no password matches.
	dummy bool
}

// params names the work one check of h costs: two hashes with equal params take the
// same time to check, whatever the password.
func (h *hash) params() string {
	if h.kind == kindBcrypt {
		return fmt.Sprintf("bcrypt cost %d", h.cost)
	}
	return fmt.Sprintf("argon2id m=%d,t=%d,p=%d,salt=%d,key=%d", h.memory, h.time, h.threads, len(h.salt), len(h.key))
}

// matches reports whether password is the one h was made from. It takes the time h's
// parameters ask for whether or not the password matches.
func (h *hash) matches(password []byte) bool {
	switch h.kind {
	case kindBcrypt:
		return bcrypt.CompareHashAndPassword(h.raw, password) == nil
	case kindArgon2id:
		k := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
		return subtle.ConstantTimeCompare(k, h.key) == 1
	}
	return false
}

// bcryptB64 is bcrypt's own base64 alphabet (not the standard one).
var bcryptB64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// parseHash parses a stored hash. Errors never quote the value: a "hash" that is not one
// is most likely a plaintext password.
func parseHash(s string) (*hash, error) {
	var (
		h   *hash
		err error
	)
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		h, err = parseBcrypt(s)
	case strings.HasPrefix(s, "$argon2id$"):
		h, err = parseArgon2id(s)
	default:
		return nil, fmt.Errorf("%s is not accepted: use a bcrypt or argon2id hash (make one with `gatehouse passwd USER`)", describeUnsupported(s))
	}
	if err != nil {
		return nil, err
	}
	h.id = h.params()
	return h, nil
}

// describeUnsupported names the scheme of a hash gatehouse refuses, for the error.
func describeUnsupported(s string) string {
	switch {
	case s == "":
		return "an empty password hash"
	case strings.HasPrefix(s, "$apr1$"):
		return "an Apache MD5 ($apr1$) hash"
	case strings.HasPrefix(s, "$1$"):
		return "an MD5-crypt ($1$) hash"
	case strings.HasPrefix(s, "$5$"), strings.HasPrefix(s, "$6$"):
		return "a SHA-crypt (" + s[:3] + ") hash"
	case strings.HasPrefix(s, "{SHA}"), strings.HasPrefix(s, "{SSHA}"):
		return "a SHA-1 ({SHA}) hash"
	case strings.HasPrefix(s, "$argon2i$"), strings.HasPrefix(s, "$argon2d$"):
		return "an argon2i/argon2d hash (only argon2id is accepted)"
	case strings.HasPrefix(s, "$2"):
		return "an unknown bcrypt variant"
	case len(s) == 13 && !strings.HasPrefix(s, "$"):
		return "a plaintext password or a DES crypt hash"
	}
	return "a plaintext password or an unknown hash"
}

func parseBcrypt(s string) (*hash, error) {
	// $2a$12$ + 22 characters of salt + 31 of hash.
	if len(s) != 60 || s[6] != '$' {
		return nil, errors.New("malformed bcrypt hash: want 60 characters like $2a$12$ followed by 53 of salt and hash")
	}
	if !isDigit(s[4]) || !isDigit(s[5]) {
		return nil, errors.New("malformed bcrypt hash: the cost is not two digits")
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < minBcryptCost || cost > maxBcryptCost {
		return nil, fmt.Errorf("bcrypt cost %d is outside %d-%d (every check would take too long, or be too easy to brute-force)", cost, minBcryptCost, maxBcryptCost)
	}
	for i := 7; i < len(s); i++ {
		if !isBcryptB64(s[i]) {
			return nil, errors.New("malformed bcrypt hash: salt and hash must use bcrypt's base64 alphabet")
		}
	}
	return &hash{kind: kindBcrypt, raw: []byte(s), cost: cost}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isBcryptB64(c byte) bool {
	return c == '.' || c == '/' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// parseArgon2id parses the PHC string form $argon2id$v=19$m=M,t=T,p=P$SALT$KEY, with
// unpadded standard base64 for SALT and KEY, exactly as the reference implementation
// and HashArgon2id write it.
func parseArgon2id(s string) (*hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return nil, errors.New("malformed argon2id hash: want $argon2id$v=19$m=...,t=...,p=...$salt$hash")
	}
	if parts[2] != "v=19" {
		return nil, errors.New("argon2id hash: only version 19 (v=19) is supported")
	}
	h := &hash{kind: kindArgon2id, raw: []byte(s)}
	ps := strings.Split(parts[3], ",")
	if len(ps) != 3 {
		return nil, errors.New("malformed argon2id hash: want the parameters m=M,t=T,p=P")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(ps[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("malformed argon2id hash: parameter %d must be %s followed by a number", i+1, name)
		}
		vals[i] = n
	}
	switch m, t, p := vals[0], vals[1], vals[2]; {
	case p < 1 || p > maxArgon2Threads:
		return nil, fmt.Errorf("argon2id hash: p=%d is outside 1-%d", p, maxArgon2Threads)
	case t < 1 || t > maxArgon2Time:
		return nil, fmt.Errorf("argon2id hash: t=%d is outside 1-%d", t, maxArgon2Time)
	case m < 8*p || m > maxArgon2Memory:
		return nil, fmt.Errorf("argon2id hash: m=%d KiB is outside %d-%d", m, 8*p, maxArgon2Memory)
	}
	h.memory, h.time, h.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	var err error
	enc := base64.RawStdEncoding.Strict()
	if h.salt, err = enc.DecodeString(parts[4]); err != nil || len(h.salt) < minArgon2Salt || len(h.salt) > maxArgon2Salt {
		return nil, fmt.Errorf("argon2id hash: the salt must be %d-%d bytes in unpadded base64", minArgon2Salt, maxArgon2Salt)
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil || len(h.key) < minArgon2Key || len(h.key) > maxArgon2Key {
		return nil, fmt.Errorf("argon2id hash: the hash must be %d-%d bytes in unpadded base64", minArgon2Key, maxArgon2Key)
	}
	return h, nil
}

// dummyLike returns a hash with h's parameters and random contents. Checking a password
// against it costs what checking against h does and never succeeds (but for a 2^-184
// chance), so an unknown user takes as long to refuse as a wrong password does.
func dummyLike(h *hash) *hash {
	switch h.kind {
	case kindBcrypt:
		raw := fmt.Sprintf("$2a$%02d$%s%s", h.cost, bcryptB64.EncodeToString(random(16)), bcryptB64.EncodeToString(random(23)))
		d := &hash{kind: kindBcrypt, raw: []byte(raw), cost: h.cost, dummy: true}
		d.id = d.params()
		return d
	case kindArgon2id:
		d := *h
		d.salt, d.key = random(len(h.salt)), random(len(h.key))
		d.raw = nil
		d.id, d.dummy = d.params(), true
		return &d
	}
	panic("basicauth: dummyLike of an unparsed hash")
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return b
}

// Verify reports whether password matches a stored hash as `gatehouse passwd` prints it
// (bcrypt $2a$/$2b$/$2y$ or argon2id in PHC form). The error is non-nil only when the
// hash is malformed or not accepted by gatehouse; it never contains the hash or the
// password.
func Verify(storedHash string, password []byte) (bool, error) {
	h, err := parseHash(storedHash)
	if err != nil {
		return false, err
	}
	return h.matches(password), nil
}

// HashBcrypt hashes password with bcrypt at the given cost (4-16; `gatehouse passwd`
// allows 10-14). bcrypt reads at most 72 bytes of a password: longer ones are refused
// rather than silently truncated.
func HashBcrypt(password []byte, cost int) (string, error) {
	if cost < minBcryptCost || cost > maxBcryptCost {
		return "", fmt.Errorf("bcrypt cost %d is outside %d-%d", cost, minBcryptCost, maxBcryptCost)
	}
	if len(password) > 72 {
		return "", errors.New("bcrypt uses only the first 72 bytes of a password: use a shorter one, or argon2id")
	}
	b, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// HashArgon2id hashes password with argon2id and a random salt, and returns the PHC
// string $argon2id$v=19$m=M,t=T,p=P$SALT$KEY. Parameters outside what gatehouse accepts
// when loading users (m up to 256 MiB, t 1-16, p 1-16, salt 8-64 bytes, key 16-64
// bytes) are refused.
func HashArgon2id(password []byte, p Argon2Params) (string, error) {
	switch {
	case p.Threads < 1 || p.Threads > maxArgon2Threads,
		p.Time < 1 || p.Time > maxArgon2Time,
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory,
		p.SaltLen < minArgon2Salt || p.SaltLen > maxArgon2Salt,
		p.KeyLen < minArgon2Key || p.KeyLen > maxArgon2Key:
		return "", fmt.Errorf("argon2id parameters %+v are outside what gatehouse accepts", p)
	}
	salt := random(int(p.SaltLen))
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}
