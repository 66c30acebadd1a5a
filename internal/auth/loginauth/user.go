package loginauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

// userCookie names who signed in, for the access log and for revocation. The three
// CloudFront cookies say only which key signed; this fourth cookie (CloudFront ignores
// it) is sealed with the sign-in's AES-GCM key and bound to the signature it was issued
// with, so it cannot be forged, altered or moved onto another user's cookies. It feeds
// Identity.Display; without revocation it takes no part in a decision (authorization
// reads only the CloudFront cookies). With revocation on, Authenticate requires it: the
// user and the issue time it carries are what a user revocation is checked against, so
// dropping it must not dodge the check.
const userCookie = "gatehouse_user"

type user struct {
	Name    string `json:"u"`
	Bind    []byte `json:"b"` // SHA-256 of the CloudFront-Signature value, first 16 bytes
	Expires int64  `json:"e"`
	// Issued is when the cookies were issued (Unix seconds); 0 in cookies issued before
	// it was recorded, whose issue time is Expires minus cookie_lifetime.
	Issued int64 `json:"i,omitempty"`
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

func (a *Authenticator) userCookie(who, signature string, issued, exp time.Time) (*http.Cookie, error) {
	if len(who) > maxUserName {
		who = who[:maxUserName]
	}
	pt, err := json.Marshal(user{Name: who, Bind: bind(signature), Expires: exp.Unix(), Issued: issued.Unix()})
	if err != nil {
		return nil, err
	}
	return &http.Cookie{Name: userCookie, Value: a.sealer.sealBytes(pt, userCookie)}, nil
}

// signedInUser is r's user cookie when that cookie is intact, unexpired and issued
// with r's CloudFront-Signature cookie; false otherwise.
func (a *Authenticator) signedInUser(r *http.Request) (user, bool) {
	uc, err := r.Cookie(userCookie)
	if err != nil {
		return user{}, false
	}
	sig, err := r.Cookie(cfsign.CookieSignature)
	if err != nil {
		return user{}, false
	}
	pt, ok := a.sealer.openBytes(uc.Value, userCookie)
	if !ok {
		return user{}, false
	}
	var u user
	if json.Unmarshal(pt, &u) != nil || a.now().Unix() >= u.Expires || subtle.ConstantTimeCompare(u.Bind, bind(sig.Value)) != 1 {
		return user{}, false
	}
	return u, true
}
