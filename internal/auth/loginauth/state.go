package loginauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// stateCookie is the name of the short-lived cookie that carries a sign-in in progress.
const stateCookie = "gatehouse_login"

// stateTTL is how long a sign-in may take between leaving for the provider and coming
// back; after it the state cookie is refused.
const stateTTL = 10 * time.Minute

// flow is a sign-in in progress: what the callback must see again (State, Nonce), the
// PKCE verifier that proves it started here, and where to go afterwards.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
	Expires  int64  `json:"e"`
}

// sealer encrypts flows into cookie values with AES-256-GCM: the browser can neither
// read the PKCE verifier nor change any field. The key is derived from the cookie
// signing key, so every replica with the same configuration can finish a sign-in
// another one started.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (*sealer, error) {
	k := sha256.Sum256(append([]byte("gatehouse login state v1\x00"), secret...))
	b, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: g}, nil
}

func (s *sealer) seal(f *flow) (string, error) {
	pt, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	return s.sealBytes(pt, stateCookie), nil
}

// sealBytes encrypts pt; purpose is authenticated with it, so a value sealed for one
// cookie never opens as another.
func (s *sealer) sealBytes(pt []byte, purpose string) string {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, pt, []byte(purpose)))
}

var errBadState = errors.New("sign-in state cookie is missing, altered or expired")

func (s *sealer) open(v string, now time.Time) (*flow, error) {
	pt, ok := s.openBytes(v, stateCookie)
	if !ok {
		return nil, errBadState
	}
	var f flow
	if err := json.Unmarshal(pt, &f); err != nil || f.State == "" || now.Unix() >= f.Expires {
		return nil, errBadState
	}
	return &f, nil
}

func (s *sealer) openBytes(v, purpose string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, false
	}
	pt, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(purpose))
	return pt, err == nil
}

// SpentStates remembers consumed sign-in states and codes until they expire, so a state
// (and the code that came with it) is accepted once even when a copy of the state
// cookie or the callback URL is replayed. Use marks state as consumed and reports
// whether it was fresh; an error means it cannot tell (a fleet's shared store is
// unreachable), and the sign-in is refused. It must be safe for concurrent use. States
// are random 256-bit values, so one SpentStates may serve every login authenticator.
type SpentStates interface {
	Use(state string, expires, now time.Time) (bool, error)
}

// Spent is the in-process SpentStates. The gateway keeps one across reloads, so a
// reload does not make a used callback usable again.
type Spent struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// NewSpent returns an empty Spent.
func NewSpent() *Spent { return &Spent{seen: map[string]time.Time{}} }

// Use implements SpentStates; it never fails.
func (s *Spent) Use(state string, expires, now time.Time) (bool, error) {
	return s.UseLocal(state, expires, now), nil
}

// UseLocal is Use without the error: the in-process record alone.
func (s *Spent) UseLocal(state string, expires, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	for k, exp := range s.seen {
		if now.After(exp) {
			delete(s.seen, k)
		}
	}
	if _, ok := s.seen[state]; ok {
		return false
	}
	s.seen[state] = expires
	return true
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
