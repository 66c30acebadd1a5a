package revoke_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/revoke"
)

func TestDecodeValidate(t *testing.T) {
	now := t0
	ok := []string{
		`{"kind":"policy","value":"` + hexOf("p") + `","expires":"2026-05-02T00:00:00Z"}`,
		`{"kind":"key","value":"K2JCJMDEHXQW5F"}`,
		`{"kind":"key","value":"K2","before":"2026-05-01T09:00:00Z","max_lifetime":"7d"}`,
		`{"kind":"key","value":"K2","before":"2026-05-01T09:00:00Z","max_lifetime":"168h"}`,
		`{"kind":"jwt","value":"abc","expires":"2026-05-01T11:00:00Z","reason":"leaked in a ticket"}`,
		`{"kind":"subject","value":"user-1","before":"2026-05-01T10:30:00Z"}`,
		`{"kind":"user","value":"bob@example.org","before":"2026-05-01T10:00:00+02:00"}`,
	}
	for _, in := range ok {
		if _, err := revoke.Decode([]byte(in), now); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	bad := []struct{ in, field string }{
		{`{"kind":"cookie","value":"x"}`, "kind"},
		{`{"kind":"jwt","value":"","expires":"2026-05-01T11:00:00Z"}`, "value"},
		{`{"kind":"jwt","value":"a\u0000b","expires":"2026-05-01T11:00:00Z"}`, "value"},
		{`{"kind":"jwt","value":"` + strings.Repeat("a", 513) + `","expires":"2026-05-01T11:00:00Z"}`, "value"},
		{`{"kind":"policy","value":"` + strings.ToUpper(hexOf("p")) + `"}`, "value"},
		{`{"kind":"jwt","value":"a"}`, "expires"},
		{`{"kind":"jwt","value":"a","before":"2026-05-01T09:00:00Z","expires":"2026-05-01T11:00:00Z"}`, "before"},
		{`{"kind":"subject","value":"a"}`, "before"},
		{`{"kind":"user","value":"a","before":"2027-01-01T00:00:00Z"}`, "before"},
		{`{"kind":"key","value":"K","before":"2026-05-01T09:00:00Z"}`, "max_lifetime"},
		{`{"kind":"key","value":"K","max_lifetime":"1h"}`, "max_lifetime"},
		{`{"kind":"key","value":"K","before":"2026-05-01T09:00:00Z","max_lifetime":"-1h"}`, "max_lifetime"},
		{`{"kind":"jwt","value":"a","expires":"2026-05-01T09:00:00Z","created":"2026-05-01T10:00:00Z"}`, "expires"},
		{`{"kind":"key","value":"K","reason":"` + strings.Repeat("r", 257) + `"}`, "reason"},
		{`{"kind":"key","value":"K","id":"0123"}`, "id"},
	}
	for _, b := range bad {
		_, err := revoke.Decode([]byte(b.in), now)
		var fe *revoke.FieldError
		if !errors.As(err, &fe) || fe.Field != b.field {
			t.Errorf("%.80s: err %v, want a refusal of %s", b.in, err, b.field)
		}
	}
	for _, in := range []string{`{"kind":"key","value":"K","extra":1}`, `{"kind":"key","value":"K"} {}`, `[]`, `{"kind":"key","value":"K","max_lifetime":"soon"}`} {
		if _, err := revoke.Decode([]byte(in), now); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

// FuzzDecode: no input panics the decoder, and whatever is accepted survives a round
// trip through JSON with the same ID and is accepted again.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kind":"key","value":"K2","before":"2026-05-01T09:00:00Z","max_lifetime":"7d","reason":"r"}`))
	f.Add([]byte(`{"kind":"jwt","value":"abc","expires":"2026-05-01T11:00:00Z","created":"2026-05-01T10:00:00Z"}`))
	f.Add([]byte(`{"kind":"policy","value":"` + hexOf("p") + `"}`))
	f.Add([]byte(`{"kind":"user","value":"b","before":"2026-05-01T10:00:00Z","id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := revoke.Decode(data, t0)
		if err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", data, err)
		}
		back, err := revoke.Decode(out, t0)
		if err != nil {
			t.Fatalf("round trip of %q refused: %v (%s)", data, err, out)
		}
		if back.ComputeID() != r.ComputeID() {
			t.Fatalf("round trip changed the ID: %s", out)
		}
		s := revoke.NewSet(revoke.SetOptions{Now: func() time.Time { return t0 }})
		s.Replace([]revoke.Revocation{r}, t0)
		_ = s.CheckSigned(r.Value, func() [32]byte { return [32]byte{} }, t0)
		_ = s.CheckJWT(r.Value, r.Value, t0, true)
		_ = s.CheckUser(r.Value, t0)
	})
}

// TestRegression_DecodeStrict: the review sent a field twice (the last won), invalid
// UTF-8 (turned into U+FFFD and stored), a JSON array (an error without a field) and a
// bad time (Go's layout in the message, no field): each is now refused naming the field
// or the body, and times are stored in UTC.
func TestRegression_DecodeStrict(t *testing.T) {
	for body, want := range map[string]string{
		`{"kind":"key","value":"K","value":"L"}`:     "value: given twice",
		"{\"kind\":\"user\",\"value\":\"\xff\xfe\"}": "not UTF-8",
		`[]`: "want a JSON object",
		`{"kind":"user","value":"a","before":"tomorrow"}`: "before: want an RFC 3339 time string",
		`{"kind":"user","value":"a","color":"red"}`:       "color: unknown field",
		`{"kind":"user","value":"a"} {}`:                  "data after the object",
		`{"kind":"user",`:                                 "not valid JSON",
	} {
		_, err := revoke.DecodeJSON([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "2006") {
			t.Errorf("%q: %v, want an error saying %q", body, err, want)
		}
	}
	r, err := revoke.DecodeJSON([]byte(`{"kind":"jwt","value":"j","expires":"2030-01-01T10:00:00+14:00"}`))
	if err != nil || r.Expires.Location() != time.UTC || r.Expires.Hour() != 20 {
		t.Fatalf("expires with an offset: %v %v", r.Expires, err)
	}
}
