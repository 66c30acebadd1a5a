package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestReadPasswordFromPipe covers how a password is taken from standard input that is
// not a terminal: the first line, without its line ending, everything else kept.
func TestReadPasswordFromPipe(t *testing.T) {
	tests := []struct{ stdin, want string }{
		{"s3cret\n", "s3cret"},
		{"s3cret\r\n", "s3cret"},
		{"s3cret", "s3cret"},
		{"s3cret\nsecond line\n", "s3cret"},
		{" spaces kept \n", " spaces kept "},
		{"pässwört\n", "pässwört"},
		{"\n", ""},
		{"", ""},
		{strings.Repeat("p", passwdMaxLen) + "\n", strings.Repeat("p", passwdMaxLen)},
		// Longer than allowed: cut one byte past the limit, so the caller refuses it.
		{strings.Repeat("p", 5000), strings.Repeat("p", passwdMaxLen+2)},
	}
	for _, tt := range tests {
		got, err := readPassword(IO{Stdin: strings.NewReader(tt.stdin), Stderr: &bytes.Buffer{}})
		if err != nil || string(got) != tt.want {
			t.Errorf("stdin %.20q: got %.20q, %v; want %.20q", tt.stdin, got, err, tt.want)
		}
	}
}
