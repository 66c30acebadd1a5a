package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A command written in the documentation is `gatehouse WORDS...` (or `go run
// ./cmd/gatehouse WORDS...`, `./gatehouse`, `bin/gatehouse`) inside a fenced code block,
// an inline code span, or a comment line of an example file. Prose that merely names
// gatehouse is not a command.
var (
	commandStart = regexp.MustCompile(`(?:^|[\s$;|&(]|\./|/cmd/|/bin/)gatehouse\s+(\S.*)$`)
	inlineCode   = regexp.MustCompile("`([^`]+)`")
	fence        = regexp.MustCompile("^\\s*(```|~~~)")
)

// docCommand is one command written in a document, with where it is.
type docCommand struct {
	where string // file:line
	words []string
	// comment is set for commands read from a YAML comment, where gatehouse may also be
	// the subject of a sentence: only those whose first word is a command are checked.
	comment bool
}

// commandWords splits what follows "gatehouse" into words, up to the end of the command
// (a pipe, ;, &&, a redirection, a comment or a closing parenthesis).
func commandWords(rest string) []string {
	var words []string
	for _, w := range strings.Fields(rest) {
		if w == "|" || w == "||" || w == "&&" || w == ";" || w == "#" || strings.HasPrefix(w, ">") ||
			strings.HasPrefix(w, "#") || w == "\\|" {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(w, `"'`), "$(") {
			break // a command in the arguments is read on its own
		}
		end := strings.ContainsAny(w, ");")
		w = strings.TrimRight(w, ");\\")
		w = strings.Trim(w, `[]"'`)
		if w != "" {
			words = append(words, w)
		}
		if end {
			break
		}
	}
	return words
}

// docCommands reads the commands written in one markdown or YAML file. Lines of a code
// block that end in a backslash continue on the next.
func docCommands(t *testing.T, file string) []docCommand {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	yamlFile := strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml")
	var out []docCommand
	add := func(line int, text string, comment bool) {
		for {
			m := commandStart.FindStringSubmatchIndex(text)
			if m == nil {
				return
			}
			rest := text[m[2]:m[3]]
			if ws := commandWords(rest); len(ws) > 0 {
				out = append(out, docCommand{where: file + ":" + strconv.Itoa(line), words: ws, comment: comment})
			}
			text = rest // a command inside the arguments: "$(gatehouse sign url ...)"
		}
	}
	// Inline code is read a paragraph at a time: a code span may run across lines.
	para, paraLine := "", 0
	flushPara := func() {
		for _, m := range inlineCode.FindAllStringSubmatchIndex(para, -1) {
			add(paraLine+strings.Count(para[:m[0]], "\n"), strings.ReplaceAll(para[m[2]:m[3]], "\n", " "), false)
		}
		para = ""
	}
	// A table row's flags belong to the command in its first cell; in a table whose
	// first column is "flag", to the command written last before the table.
	flagTable := false
	tableRow := func(line int, text string) {
		cells := strings.Split(text, "|")
		if len(cells) < 3 {
			return
		}
		if first := strings.TrimSpace(cells[1]); strings.Trim(first, "- ") == "" {
			return
		} else if !strings.Contains(first, "`") {
			flagTable = first == "flag"
			return
		}
		before := len(out)
		for _, m := range inlineCode.FindAllStringSubmatch(text, -1) {
			add(line, m[1], false)
		}
		var cmd []string
		switch {
		case len(out) > before:
			cmd = out[before].words
		case flagTable && len(out) > 0:
			cmd = out[len(out)-1].words
		default:
			return
		}
		for _, m := range inlineCode.FindAllStringSubmatch(text, -1) {
			if f := strings.Fields(m[1]); len(f) > 0 && strings.HasPrefix(f[0], "-") && len(f[0]) > 1 {
				out = append(out, docCommand{where: file + ":" + strconv.Itoa(line), words: append(slices.Clip(cmd), f[0])})
			}
		}
	}
	inFence, pending, pendingLine := false, "", 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case yamlFile:
			if _, c, ok := strings.Cut(text, "#"); ok {
				add(line, c, true)
			}
		case fence.MatchString(text):
			flushPara()
			inFence = !inFence
		case inFence:
			if pending == "" {
				pendingLine = line
			}
			if strings.HasSuffix(text, "\\") {
				pending += strings.TrimSuffix(text, "\\") + " "
				continue
			}
			add(pendingLine, pending+text, false)
			pending = ""
		case strings.TrimSpace(text) == "":
			flushPara()
		case strings.HasPrefix(text, "|"):
			flushPara()
			tableRow(line, text)
		default:
			if para == "" {
				paraLine = line
			}
			para += text + "\n"
		}
	}
	flushPara()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCommand walks words down the command tree from root: positional words name
// subcommands while the command has them; every --flag and -f must be one the command
// (or a parent) defines. It returns what is wrong, or "".
func checkCommand(root *cobra.Command, words []string) string {
	cmd := root
	for _, w := range words {
		switch {
		case w == "-" || w == "--" || w == "...":
			continue
		case strings.HasPrefix(w, "--"):
			name, _, _ := strings.Cut(strings.TrimPrefix(w, "--"), "=")
			if name == "help" {
				continue
			}
			if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
				return "`" + cmd.CommandPath() + "` has no flag --" + name
			}
		case len(w) == 2 && w[0] == '-' && w[1] != '-':
			if w == "-h" {
				continue
			}
			if cmd.Flags().ShorthandLookup(w[1:]) == nil && cmd.InheritedFlags().ShorthandLookup(w[1:]) == nil {
				return "`" + cmd.CommandPath() + "` has no flag " + w
			}
		case strings.HasPrefix(w, "-"):
			continue // a value such as -1, or flags written together
		case cmd.HasSubCommands():
			// "show\|plan\|sync" in a table: each alternative must be a command.
			var sub *cobra.Command
			for _, alt := range strings.Split(strings.ReplaceAll(w, `\|`, "|"), "|") {
				if sub = findSub(cmd, alt); sub == nil {
					return "`" + cmd.CommandPath() + " " + alt + "`: no such command (have: " + strings.Join(subNames(cmd), ", ") + ")"
				}
			}
			cmd = sub
		}
	}
	return ""
}

func findSub(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	if name == "help" || name == "completion" {
		return &cobra.Command{Use: name}
	}
	return nil
}

func subNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	return names
}

// TestDocumentedCommandsExist: every gatehouse command written in README.md, docs/*.md
// and examples/ names commands and flags the command line has.
func TestDocumentedCommandsExist(t *testing.T) {
	root := newRoot(IO{})
	var files []string
	for _, g := range []string{"../../README.md", "../../docs/*.md", "../../examples/*.md", "../../examples/*.yaml"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	checked := 0
	for _, file := range files {
		for _, c := range docCommands(t, file) {
			if c.comment && findSub(root, c.words[0]) == nil && !strings.HasPrefix(c.words[0], "-") {
				continue // "gatehouse runs behind a load balancer": a sentence
			}
			checked++
			if msg := checkCommand(root, c.words); msg != "" {
				t.Errorf("%s: gatehouse %s: %s", c.where, strings.Join(c.words, " "), msg)
			}
		}
	}
	if checked < 30 {
		t.Errorf("found only %d documented commands; the parser has lost them", checked)
	}
}

// TestCheckCommand keeps the checker able to fail.
func TestCheckCommand(t *testing.T) {
	root := newRoot(IO{})
	for _, tc := range []struct {
		words []string
		ok    bool
	}{
		{[]string{"check", "--config", "FILE", "--probe"}, true},
		{[]string{"ipranges", "show", "--ipv4=false"}, true},
		{[]string{"explain", "-c", "f.yaml", "URL", "-H", "X: y"}, true},
		{[]string{"keys"}, false},
		{[]string{"check", "--nope"}, false},
		{[]string{"ipranges", "shw"}, false},
		{[]string{"serve", "-q"}, false},
	} {
		if got := checkCommand(root, tc.words) == ""; got != tc.ok {
			t.Errorf("gatehouse %s: ok %v, want %v", strings.Join(tc.words, " "), got, tc.ok)
		}
	}
	cmds := docCommands(t, writeTemp(t, "a.md", "Run `gatehouse check --config x`.\n```sh\ngatehouse sign url U \\\n  --key k\n```\n"))
	if len(cmds) != 2 || strings.Join(cmds[1].words, " ") != "sign url U --key k" || cmds[1].where[len(cmds[1].where)-2:] != ":3" {
		t.Errorf("parsed %+v", cmds)
	}
	table := "```sh\ngatehouse explain -c f URL\n```\n\n| flag | meaning |\n| --- | --- |\n| `--json` | json |\n| `--jsn` | typo |\n\n" +
		"| command | what |\n| --- | --- |\n| `gatehouse check --config F` | `--probe` also probes; `--prob` not |\n"
	var bad []string
	for _, c := range docCommands(t, writeTemp(t, "b.md", table)) {
		if checkCommand(root, c.words) != "" {
			bad = append(bad, c.words[len(c.words)-1])
		}
	}
	if strings.Join(bad, " ") != "--jsn --prob" {
		t.Errorf("flags refused in tables: %q, want --jsn --prob", bad)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
