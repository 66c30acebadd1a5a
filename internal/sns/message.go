// Package sns reads and verifies Amazon SNS messages delivered to an HTTP(S) endpoint
// or to a Lambda function, and serves such an endpoint.
//
// Every message is untrusted until Verifier.Verify accepts it: its topic must be one
// the endpoint was configured for, its SignatureVersion 1 (SHA1withRSA) or 2
// (SHA256withRSA), its signing certificate fetched over https from an SNS host
// (^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$, a .pem path), and its signature
// valid over the canonical string SNS signs. Certificates are cached until they expire.
package sns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxMessageSize bounds a message's JSON: SNS messages are at most 256 KiB, and the
// envelope adds a few KiB.
const MaxMessageSize = 512 << 10

// Message types.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// Message is one SNS message. Field names follow the HTTP delivery format; Lambda
// events spell two of them SigningCertUrl and UnsubscribeUrl, which Parse accepts too.
type Message struct {
	Type      string
	MessageID string
	// Token and SubscribeURL are set in (un)subscription confirmations.
	Token        string
	SubscribeURL string
	TopicARN     string
	// Subject is optional; HasSubject tells an absent one from an empty one, since only
	// a present Subject is signed.
	Subject          string
	HasSubject       bool
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	UnsubscribeURL   string
}

// fields maps the JSON names to the message's fields; aliases are Lambda's spellings.
func (m *Message) fields() map[string]*string {
	return map[string]*string{
		"Type": &m.Type, "MessageId": &m.MessageID, "Token": &m.Token, "SubscribeURL": &m.SubscribeURL,
		"TopicArn": &m.TopicARN, "Subject": &m.Subject, "Message": &m.Message, "Timestamp": &m.Timestamp,
		"SignatureVersion": &m.SignatureVersion, "Signature": &m.Signature,
		"SigningCertURL": &m.SigningCertURL, "SigningCertUrl": &m.SigningCertURL,
		"UnsubscribeURL": &m.UnsubscribeURL, "UnsubscribeUrl": &m.UnsubscribeURL,
	}
}

// Parse reads one message: a JSON object whose known keys have string values (or null,
// as Lambda sends for a missing Subject). Unknown keys are ignored, whatever their
// value (Lambda adds MessageAttributes); a key given twice, under either spelling, is
// an error, as is a missing field the message's type requires. Parse checks the shape
// only: nothing is authentic before Verify.
func Parse(data []byte) (*Message, error) {
	if len(data) > MaxMessageSize {
		return nil, fmt.Errorf("message larger than %d KiB", MaxMessageSize>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	m := &Message{}
	fields := m.fields()
	seen := map[*string]string{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("invalid JSON at %q: %w", key, err)
		}
		f, ok := fields[key]
		if !ok {
			continue
		}
		if prev, dup := seen[f]; dup {
			return nil, fmt.Errorf("%s given twice (as %s and %s)", key, prev, key)
		}
		seen[f] = key
		if string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, f); err != nil {
			return nil, fmt.Errorf("%s: want a string", key)
		}
		if key == "Subject" {
			m.HasSubject = true
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return m, m.check()
}

// check reports the first missing field the type requires.
func (m *Message) check() error {
	need := []struct{ name, v string }{
		{"Type", m.Type}, {"MessageId", m.MessageID}, {"TopicArn", m.TopicARN}, {"Timestamp", m.Timestamp},
		{"SignatureVersion", m.SignatureVersion}, {"Signature", m.Signature}, {"SigningCertURL", m.SigningCertURL},
	}
	switch m.Type {
	case TypeNotification:
		need = append(need, struct{ name, v string }{"Message", m.Message})
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		need = append(need, struct{ name, v string }{"Token", m.Token}, struct{ name, v string }{"SubscribeURL", m.SubscribeURL})
	case "":
	default:
		return fmt.Errorf("unknown Type %q", m.Type)
	}
	for _, f := range need {
		if f.v == "" {
			return fmt.Errorf("missing %s", f.name)
		}
	}
	return nil
}

// StringToSign is the canonical text SNS signs: "Key\nValue\n" for each signed key
// present, in SNS's order. Notifications sign Message, MessageId, Subject (only when
// present), Timestamp, TopicArn and Type; confirmations sign Message, MessageId,
// SubscribeURL, Timestamp, Token, TopicArn and Type.
func (m *Message) StringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == TypeNotification {
		if m.HasSubject {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != TypeNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicARN)
	add("Type", m.Type)
	return b.String()
}

// MarshalJSON writes the message in SNS's HTTP delivery format: Subject only when
// present, Token, SubscribeURL and UnsubscribeURL only when set.
func (m *Message) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	add := func(k, v string, always bool) {
		if v == "" && !always {
			return
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(v)
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	add("Type", m.Type, true)
	add("MessageId", m.MessageID, true)
	add("Token", m.Token, false)
	add("TopicArn", m.TopicARN, true)
	add("Subject", m.Subject, m.HasSubject)
	add("Message", m.Message, true)
	add("SubscribeURL", m.SubscribeURL, false)
	add("Timestamp", m.Timestamp, true)
	add("SignatureVersion", m.SignatureVersion, true)
	add("Signature", m.Signature, true)
	add("SigningCertURL", m.SigningCertURL, true)
	add("UnsubscribeURL", m.UnsubscribeURL, false)
	b.WriteByte('}')
	return b.Bytes(), nil
}
