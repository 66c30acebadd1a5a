package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// LookupEnv resolves ${NAME} references. os.LookupEnv in production; tests pass a map.
type LookupEnv func(name string) (string, bool)

// Load reads, decodes and validates the file at path, taking ${NAME} references from the
// process environment.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read: %v", errors.Unwrap(err))}}
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes and validates data (named file in messages). It returns either a valid
// Config with defaults applied, or Errors listing every problem found.
//
// The decoder walks the YAML node tree against the Go schema itself, rather than relying
// on yaml's KnownFields, so that each problem carries its field path as well as its line
// and all of them are reported in one pass.
func Parse(file string, data []byte, env LookupEnv) (*Config, error) {
	var cfg Config
	pos, err := DecodeStrict(file, data, env, &cfg)
	if err != nil {
		return nil, err
	}
	c := pos.c
	cfg.file, cfg.lines = file, c.lines
	cfg.applyDefaults()
	cfg.validate(c)
	if len(c.errs) > 0 {
		return nil, c.errs.sorted()
	}
	return &cfg, nil
}

// Positions knows the line of every field of a decoded file, for errors found after
// decoding (validation by the caller).
type Positions struct{ c *collector }

// Errorf makes a FieldError for path, with the file and the line of the nearest field
// present in the file.
func (p *Positions) Errorf(path, format string, args ...any) FieldError {
	col := collector{file: p.c.file, lines: p.c.lines}
	col.addf(path, format, args...)
	return col.errs[0]
}

// DecodeStrict decodes a YAML document into out (a pointer to a struct with yaml tags)
// with the same rules as the main configuration file: unknown keys, type mismatches,
// aliases and unset ${NAME} references are errors, each with its field path and line,
// all reported at once as Errors. Other tools' files (such as the ipranges sync
// configuration) use it so they read and fail exactly like the main file.
func DecodeStrict(file string, data []byte, env LookupEnv, out any) (*Positions, error) {
	c := &collector{file: file, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{{File: file, Line: yamlErrLine(err), Msg: "invalid YAML: " + yamlErrMsg(err)}}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Msg: "the file is empty"}}
	}
	root := doc.Content[0]
	walk(c, root, reflect.TypeOf(out), "", env)
	if len(c.errs) > 0 {
		return nil, c.errs.sorted()
	}
	if err := root.Decode(out); err != nil {
		return nil, Errors{{File: file, Line: yamlErrLine(err), Msg: yamlErrMsg(err)}}
	}
	return &Positions{c: c}, nil
}

// walk checks node against type t: mapping keys must name fields, sequences and mappings
// must be where the schema has them, and each scalar must decode into its field's type.
// It expands ${NAME} references in scalar values in place and records each path's line.
func walk(c *collector, n *yaml.Node, t reflect.Type, path string, env LookupEnv) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		c.addf(path, "YAML aliases are not supported")
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent: the zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.addf(path, "want a mapping of keys, got %s", kindName(n))
			return
		}
		fields := fieldsOf(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !plainKey(c, k, path) {
				continue
			}
			p := join(path, k.Value)
			c.lines[p] = k.Line
			if seen[k.Value] {
				c.addf(p, "duplicate key")
				continue
			}
			seen[k.Value] = true
			f, ok := fields[k.Value]
			if !ok {
				c.addf(p, "unknown key %q (known keys: %s)", k.Value, strings.Join(sortedKeys(fields), ", "))
				continue
			}
			walk(c, v, f.Type, p, env)
		}
		return
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.addf(path, "want a mapping of names, got %s", kindName(n))
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !plainKey(c, k, path) {
				continue
			}
			p := join(path, k.Value)
			c.lines[p] = k.Line
			if seen[k.Value] {
				c.addf(p, "duplicate key")
				continue
			}
			seen[k.Value] = true
			walk(c, v, t.Elem(), p, env)
		}
		return
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.addf(path, "want a list, got %s", kindName(n))
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			c.lines[p] = item.Line
			walk(c, item, t.Elem(), p, env)
		}
		return
	}
	if n.Kind != yaml.ScalarNode {
		c.addf(path, "want a single value, got %s", kindName(n))
		return
	}
	if strings.Contains(n.Value, "$") {
		v, err := expandEnv(n.Value, env)
		if err != nil {
			c.addf(path, "%v", err)
			return
		}
		if v != n.Value {
			n.Value = v
			if t.Kind() != reflect.String {
				n.Tag, n.Style = "", 0 // let the expanded text resolve as a number, bool...
			}
		}
	}
	if isInt(t) && n.ShortTag() != "!!int" {
		// yaml would truncate 2.5 (or 1e1) into an int field without a word.
		c.addf(path, "want %s, got %q", typeName(t), n.Value)
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		c.addf(path, "want %s, got %q", typeName(t), n.Value)
	}
}

func isInt(t reflect.Type) bool {
	return t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 && t != durationType &&
		!reflect.PointerTo(t).Implements(unmarshalerType)
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

var durationType = reflect.TypeFor[time.Duration]()

// plainKey accepts a mapping key that is a plain string: not an alias, not null, not a
// list or mapping, not a merge key. Anything else is reported at path.
func plainKey(c *collector, k *yaml.Node, path string) bool {
	switch {
	case k.Kind == yaml.AliasNode:
		c.lines[join(path, "*"+k.Value)] = k.Line
		c.addf(join(path, "*"+k.Value), "YAML aliases are not supported")
	case k.Kind != yaml.ScalarNode:
		c.lines[path+".?"] = k.Line
		c.addf(path+".?", "a key must be a plain name, got %s", kindName(k))
	case k.ShortTag() == "!!null":
		c.lines[join(path, k.Value)] = k.Line
		c.addf(join(path, k.Value), "a key must be a plain name, got null")
	case k.ShortTag() == "!!merge":
		c.lines[join(path, "<<")] = k.Line
		c.addf(join(path, "<<"), "YAML merge keys are not supported")
	default:
		return true
	}
	return false
}

// expandEnv replaces ${NAME} and ${NAME:-default}; "$$" stands for a literal "$".
func expandEnv(s string, env LookupEnv) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '{' {
			b.WriteByte('$')
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable name %q", name)
		}
		v, ok := env(name)
		switch {
		case ok && v != "":
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		case ok:
			// set but empty: an empty secret is almost always a mistake
			return "", fmt.Errorf("environment variable %s is empty", name)
		default:
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		i += end
	}
	return b.String(), nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.StructField

func fieldsOf(t reflect.Type) map[string]reflect.StructField {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.StructField)
	}
	m := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = f
		}
	}
	fieldCache.Store(t, m)
	return m
}

func sortedKeys(m map[string]reflect.StructField) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return strconv.Quote(n.Value)
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Size]():
		return "a size such as 256MiB or 1GB"
	case t.PkgPath() == "time" && t.Name() == "Duration":
		return "a duration such as 30s or 5m"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.String:
		return "a string"
	}
	return t.String()
}

func yamlErrLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i:], "line %d", &line)
	}
	return line
}

func yamlErrMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i == 0 {
		if j := strings.Index(msg, ": "); j > 0 {
			msg = msg[j+2:]
		}
	}
	return msg
}
