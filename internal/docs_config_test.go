package internal_test

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// The configuration reference documents every key in tables. A table's keys are
// relative to the path named by the nearest `<!-- keys: PATH -->` comment above it
// ("." for the top level); every back-quoted word in a row's first cell is one key, and
// a key may itself be a relative path (`upload.presign.mode`, `custom[].name`). Paths
// are written as schemaKeys writes them: `NAME` for a map's entry (`STATUS` when the
// map's keys are numbers), `[]` for a list's item: origins.NAME.s3.bucket,
// routes[].auth.methods[].ip.urls[].refresh.

// schemaKeys lists every key path of the configuration file by reflection on
// config.Config's yaml tags, walking nested structs, maps and slices as the strict
// decoder does. A map whose values are not structs (basic.users, tags) is one key.
func schemaKeys() []string {
	var keys []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			if t.PkgPath() != reflect.TypeFor[config.Config]().PkgPath() {
				return // time.Time and the like are values, not sections
			}
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if name == "" || name == "-" || !f.IsExported() {
					continue
				}
				p := name
				if path != "" {
					p = path + "." + name
				}
				keys = append(keys, p)
				walk(f.Type, p)
			}
		case reflect.Map:
			placeholder := "NAME"
			if k := t.Key().Kind(); k >= reflect.Int && k <= reflect.Uint64 {
				placeholder = "STATUS"
			}
			walk(t.Elem(), path+"."+placeholder)
		case reflect.Slice:
			walk(t.Elem(), path+"[]")
		}
	}
	walk(reflect.TypeFor[config.Config](), "")
	sort.Strings(keys)
	return keys
}

var (
	keysMarker = regexp.MustCompile(`^<!--\s*keys:\s*(\S+)\s*-->\s*$`)
	backquoted = regexp.MustCompile("`([^`]+)`")
)

// documentedKeys reads the key tables of a markdown file: each table row's first cell,
// under a keys marker, with the line it is on.
func documentedKeys(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]int{}
	prefix, armed, inTable := "", false, false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if m := keysMarker.FindStringSubmatch(text); m != nil {
			prefix, armed, inTable = strings.TrimPrefix(m[1], "."), true, false
			continue
		}
		if !strings.HasPrefix(text, "|") {
			if inTable {
				armed, inTable = false, false // the table under the marker has ended
			}
			continue
		}
		if !armed {
			continue
		}
		inTable = true
		cells := strings.Split(text, "|")
		if len(cells) < 3 || strings.Trim(cells[1], " -") == "" || strings.TrimSpace(cells[1]) == "key" {
			continue // separator or header row
		}
		for _, m := range backquoted.FindAllStringSubmatch(cells[1], -1) {
			p := m[1]
			if prefix != "" {
				p = prefix + "." + p
				if strings.HasPrefix(m[1], "[]") {
					p = prefix + m[1]
				}
			}
			if _, dup := keys[p]; !dup {
				keys[p] = line
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// anyUnder reports whether a key inside section is documented: a section (server.tls,
// routes[].cors) is documented by the rows of its keys.
func anyUnder(documented map[string]int, section string) bool {
	for k := range documented {
		if strings.HasPrefix(k, section+".") || strings.HasPrefix(k, section+"[]") {
			return true
		}
	}
	return false
}

// TestConfigurationReferenceIsComplete keeps docs/configuration.md the complete
// reference: every key of the schema has a row in one of its key tables (a section,
// such as server.tls, by the rows of its keys), and every row names a key the schema
// has.
func TestConfigurationReferenceIsComplete(t *testing.T) {
	const file = "../docs/configuration.md"
	documented := documentedKeys(t, file)
	schema := map[string]bool{}
	var missing []string
	keys := schemaKeys()
	for _, k := range keys {
		schema[k] = true
	}
	for _, k := range keys {
		if _, ok := documented[k]; !ok && !anyUnder(documented, k) {
			missing = append(missing, k)
		}
	}
	if len(schema) < 100 {
		t.Fatalf("the schema walk found only %d keys", len(schema))
	}
	if len(missing) > 0 {
		t.Errorf("%s documents no row for %d key(s) of internal/config's schema (add each to the table under the right <!-- keys: PATH --> marker, with its type, default and meaning):\n  %s",
			file, len(missing), strings.Join(missing, "\n  "))
	}
	var unknown []string
	for k, line := range documented {
		if !schema[k] {
			unknown = append(unknown, k+" (line "+strconv.Itoa(line)+")")
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("%s documents key(s) the schema does not have:\n  %s", file, strings.Join(unknown, "\n  "))
	}
}

// TestDocumentedDecisionReasons: the fixed reasons the access log's reason row of
// docs/configuration.md names are the ones the policy gives (placeholders in capitals
// aside).
func TestDocumentedDecisionReasons(t *testing.T) {
	data, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "| `reason` |") {
			row = l
		}
	}
	if row == "" {
		t.Fatal("docs/configuration.md has no `reason` row")
	}
	ctx := context.Background()
	emitted := map[string]bool{
		(&policy.Policy{Public: true}).Decide(ctx, &policy.Request{}).Reason: true,
		(&policy.Policy{}).Decide(ctx, &policy.Request{}).Reason:             true,
	}
	placeholder := regexp.MustCompile(`[A-Z]{3,}`)
	for _, m := range backquoted.FindAllStringSubmatch(strings.TrimPrefix(row, "| `reason` |"), -1) {
		if r := m[1]; !emitted[r] && !placeholder.MatchString(r) && r != "; " {
			t.Errorf("docs/configuration.md names the reason %q, which the policy never gives (it gives %v)", r, emitted)
		}
	}
}
