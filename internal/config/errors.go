package config

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in a configuration file.
type FieldError struct {
	File string
	Line int    // 0 when the field is absent from the file
	Path string // e.g. routes[2].auth.mode
	Msg  string
}

func (e FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Path, e.Msg)
}

// Errors is every problem found in a file, ordered by line. A non-empty Errors is the
// error Load returns; callers print each on its own line.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Path < es[j].Path
	})
	return es
}

// collector gathers errors and knows the line of each field path.
type collector struct {
	file  string
	lines map[string]int
	errs  Errors
}

// addf records a problem at path, taking the line of the nearest enclosing field the
// file actually has.
func (c *collector) addf(path, format string, args ...any) {
	c.errs = append(c.errs, FieldError{File: c.file, Line: c.lineOf(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := c.lines[p]; ok {
			return l
		}
	}
	return 0
}

// parentPath drops the last element of a field path: "a.b[2]" -> "a.b", "a.b" -> "a".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}
