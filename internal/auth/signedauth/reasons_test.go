package signedauth

import (
	"bufio"
	"context"
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/cfsign"
	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// documentedReasons reads the reasons listed after "<!-- reasons: NAME -->" in a
// markdown file: the first back-quoted text of each comma-separated item of the
// paragraph that follows (a parenthesis after an item explains it).
func documentedReasons(t *testing.T, file, name string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var para []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "<!-- reasons: "+name+" -->":
			in = true
		case in && strings.TrimSpace(line) == "":
			in = false
		case in:
			para = append(para, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	item := regexp.MustCompile("^\\s*`([^`]+)`")
	var reasons []string
	for _, it := range splitItems(strings.Join(para, " ")) {
		m := item.FindStringSubmatch(it)
		if m == nil {
			t.Errorf("%s: list item %q does not start with a `reason`", file, it)
			continue
		}
		reasons = append(reasons, m[1])
	}
	return reasons
}

// splitItems splits a list written as prose on the commas outside parentheses and
// back quotes.
func splitItems(s string) []string {
	var items []string
	depth, quoted, start := 0, false, 0
	for i, c := range s {
		switch {
		case c == '`':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	return append(items, strings.TrimSuffix(strings.TrimSpace(s[start:]), "."))
}

// TestDocumentedReasons: docs/signed-urls.md lists exactly the reasons a signed request
// can be refused for (Reasons), in their words.
func TestDocumentedReasons(t *testing.T) {
	doc := documentedReasons(t, "../../../docs/signed-urls.md", "signed")
	var code []string
	for _, r := range Reasons {
		code = append(code, r.Error())
	}
	sort.Strings(doc)
	sort.Strings(code)
	if strings.Join(doc, "\n") != strings.Join(code, "\n") {
		t.Errorf("docs/signed-urls.md lists reasons\n  %s\nthe code has\n  %s", strings.Join(doc, "\n  "), strings.Join(code, "\n  "))
	}
}

// TestHostNotSignedMatches: a refusal naming any host is ErrHostNotSigned, and its
// reason reads as the documented one with the host in place of HOST.
func TestHostNotSignedMatches(t *testing.T) {
	a, _ := keys(t)
	auth := build(t, &config.SignedAuth{Hosts: []string{"media.example.com"}})
	u := sign(t, "https://media.example.com/a.pdf", "KA", a, cfsign.SignOptions{})
	_, err := auth.Authenticate(context.Background(), request(strings.Replace(u, "media.example.com", "evil.example.com", 1), nil))
	if !errors.Is(err, ErrHostNotSigned) || !strings.Contains(err.Error(), `host "evil.example.com" not signed for`) {
		t.Fatalf("other host: %v", err)
	}
	for _, r := range Reasons {
		if r != ErrHostNotSigned && errors.Is(err, r) {
			t.Errorf("the host refusal also matches %q", r)
		}
	}
}
