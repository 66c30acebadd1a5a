package basicauth

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasicHeader(t *testing.T) {
	long := "Basic " + b64("alice:"+strings.Repeat("x", 3000)) // 4006 bytes: fits
	tests := []struct {
		name, header   string
		user, password string
		notBasic       bool
		wantErr        string // substring; "" means success
	}{
		{name: "plain", header: "Basic " + b64("alice:s3cret"), user: "alice", password: "s3cret"},
		{name: "scheme is case-insensitive", header: "bAsIc " + b64("alice:s3cret"), user: "alice", password: "s3cret"},
		{name: "several spaces and a tab", header: "Basic  \t" + b64("alice:pw") + " ", user: "alice", password: "pw"},
		{name: "colon in password", header: "Basic " + b64("alice:a:b:c"), user: "alice", password: "a:b:c"},
		{name: "empty password", header: "Basic " + b64("alice:"), user: "alice", password: ""},
		{name: "UTF-8 user and password", header: "Basic " + b64("zoë:pässwört"), user: "zoë", password: "pässwört"},
		{name: "near the size limit", header: long, user: "alice", password: strings.Repeat("x", 3000)},

		{name: "Bearer", header: "Bearer abc.def.ghi", notBasic: true},
		{name: "Digest", header: `Digest username="alice"`, notBasic: true},
		{name: "BasicX scheme", header: "BasicX " + b64("alice:pw"), notBasic: true},
		{name: "empty", header: "", notBasic: true},
		{name: "huge Bearer is not ours", header: "Bearer " + strings.Repeat("a", 10000), notBasic: true},

		{name: "scheme only", header: "Basic", wantErr: "no credentials"},
		{name: "scheme and spaces", header: "Basic   ", wantErr: "no credentials"},
		{name: "oversized", header: "Basic " + b64("alice:"+strings.Repeat("x", 4000)), wantErr: "longer than 4096"},
		{name: "not base64", header: "Basic !!!!", wantErr: "not base64"},
		{name: "base64url alphabet", header: "Basic " + base64.URLEncoding.EncodeToString([]byte("a:\xfb\xff")), wantErr: "not base64"},
		{name: "missing padding", header: "Basic " + strings.TrimRight(b64("alice:pw"), "="), wantErr: "not base64"},
		{name: "canonical padding", header: "Basic YWxpY2U6cHc=", user: "alice", password: "pw"},
		{name: "non-canonical padding bits", header: "Basic YWxpY2U6cHd=", wantErr: "not base64"},
		{name: "CRLF inside base64", header: "Basic YWxp\r\nY2U6cHc=", wantErr: "not base64"},
		{name: "NUL inside base64", header: "Basic YWxp\x00Y2U6cHc=", wantErr: "not base64"},
		{name: "space inside base64", header: "Basic YWxp Y2U6cHc=", wantErr: "not base64"},
		{name: "two tokens", header: "Basic " + b64("alice:pw") + " " + b64("bob:pw"), wantErr: "not base64"},
		{name: "no colon", header: "Basic " + b64("alicepw"), wantErr: "no colon"},
		{name: "empty user", header: "Basic " + b64(":pw"), wantErr: "empty user"},
		{name: "NUL in user", header: "Basic " + b64("ali\x00ce:pw"), wantErr: "control character in the user"},
		{name: "newline in user", header: "Basic " + b64("alice\n:pw"), wantErr: "control character in the user"},
		{name: "DEL in user", header: "Basic " + b64("alice\x7f:pw"), wantErr: "control character in the user"},
		{name: "ESC in password", header: "Basic " + b64("alice:p\x1b[2Jw"), wantErr: "control character in the password"},
		{name: "CR in password", header: "Basic " + b64("alice:pw\r"), wantErr: "control character in the password"},
		{name: "invalid UTF-8 user", header: "Basic " + b64("al\xffice:pw"), wantErr: "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, password, err := parseBasicHeader(tt.header)
			switch {
			case tt.notBasic:
				if err != errNotBasic {
					t.Fatalf("err = %v, want errNotBasic", err)
				}
			case tt.wantErr != "":
				if err == nil || err == errNotBasic || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if user != tt.user || password != tt.password {
					t.Fatalf("got %q, %q; want %q, %q", user, password, tt.user, tt.password)
				}
			}
		})
	}
}

// FuzzParseBasicHeader checks the parser's promises on any input: no panic; success
// only with a valid user name and a password without control characters; the same
// credentials re-encoded parse to the same result; oversized Basic headers refused; and
// errors never carry the decoded credentials.
func FuzzParseBasicHeader(f *testing.F) {
	for _, s := range []string{
		"Basic " + b64("alice:s3cret"), "basic " + b64(":"), "Basic", "Basic ", "Bearer x",
		"Basic " + b64("a:b:c"), "Basic YWxpY2U6cHd=", "Basic\t" + b64("zoë:x"), "Basic " + b64("a\x00:b"),
		"Basic " + strings.Repeat("A", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		user, password, err := parseBasicHeader(v)
		if err != nil {
			if err == errNotBasic {
				return
			}
			if len(v) > maxHeaderLen && !strings.Contains(err.Error(), "longer than") {
				t.Fatalf("oversized header refused for another reason: %v", err)
			}
			if dec, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(v[min(len(v), 6):])); derr == nil && len(dec) >= 4 && strings.Contains(err.Error(), string(dec)) {
				t.Fatalf("error %q contains the decoded credentials", err)
			}
			return
		}
		if len(v) > maxHeaderLen {
			t.Fatalf("accepted a %d-byte header", len(v))
		}
		if user == "" || strings.Contains(user, ":") || hasControl(user) || !utf8.ValidString(user) {
			t.Fatalf("accepted user %q", user)
		}
		if hasControl(password) {
			t.Fatalf("accepted password %q", password)
		}
		u2, p2, err := parseBasicHeader("Basic " + b64(user+":"+password))
		if err != nil || u2 != user || p2 != password {
			t.Fatalf("re-encoded credentials: got %q, %q, %v; want %q, %q", u2, p2, err, user, password)
		}
	})
}
