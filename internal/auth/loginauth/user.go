package loginauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// userCookie names who signed in, for the access log. The three CloudFront cookies say
// only which key signed; this fourth cookie (CloudFront ignores it) is sealed with the
// sign-in's AES-GCM key and bound to the signature it was issued with, so it cannot be
// forged, altered or moved onto another user's cookies. It feeds Identity.Display and
// never a decision: authorization reads only the CloudFront cookies.
const userCookie = "gatehouse_user"

type user struct {
	Name    string `json:"u"`
	Bind    []byte `json:"b"` // SHA-256 of the CloudFront-Signature value, first 16 bytes
	Expires int64  `json:"e"`
}

// maxUserName bounds what the cookie carries (an email address, or the subject).
const maxUserName = 256

func signatureOf(cookies []*http.Cookie) string {
	for _, c := range cookies {
		if c.Name == cfsign.CookieSignature {
			return c.Value
		}
	}
	return ""
}

func bind(signature string) []byte {
	h := sha256.Sum256([]byte(signature))
	return h[:16]
}

func (a *Authenticator) userCookie(who, signature string, exp time.Time) (*http.Cookie, error) {
	if len(who) > maxUserName {
		who = who[:maxUserName]
	}
	pt, err := json.Marshal(user{Name: who, Bind: bind(signature), Expires: exp.Unix()})
	if err != nil {
		return nil, err
	}
	return &http.Cookie{Name: userCookie, Value: a.sealer.sealBytes(pt, userCookie)}, nil
}

// signedInUser is the name in r's user cookie when that cookie is intact, unexpired and
// issued with r's CloudFront-Signature cookie; "" otherwise.
func (a *Authenticator) signedInUser(r *http.Request) string {
	uc, err := r.Cookie(userCookie)
	if err != nil {
		return ""
	}
	sig, err := r.Cookie(cfsign.CookieSignature)
	if err != nil {
		return ""
	}
	pt, ok := a.sealer.openBytes(uc.Value, userCookie)
	if !ok {
		return ""
	}
	var u user
	if json.Unmarshal(pt, &u) != nil || a.now().Unix() >= u.Expires || subtle.ConstantTimeCompare(u.Bind, bind(sig.Value)) != 1 {
		return ""
	}
	return u.Name
}
