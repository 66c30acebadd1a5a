package sns

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Whatever it accepts must survive a round
// trip through MarshalJSON unchanged, and sign the same text.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "aws", "sns-ipspacechanged-notification.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"Type":"SubscriptionConfirmation","MessageId":"1","Token":"t","TopicArn":"a","Message":"m","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"x","SignatureVersion":"1","Signature":"s","SigningCertURL":"https://sns.us-east-1.amazonaws.com/a.pem"}`))
	f.Add([]byte(`{"Type":"Notification","MessageId":"1","TopicArn":"t","Subject":null,"Message":"m","Timestamp":"x","SignatureVersion":"2","Signature":"s","SigningCertUrl":"u","MessageAttributes":{}}`))
	f.Add([]byte(`{"Message":"a","Message":"b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if *again != *m {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, again)
		}
		if again.StringToSign() != m.StringToSign() {
			t.Fatal("string to sign changed")
		}
	})
}
