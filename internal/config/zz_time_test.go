package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestZZTime(t *testing.T) {
	dir := os.Getenv("ZZDIR")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := strings.SplitN(string(b), "\n", 2)
		v := strings.TrimSpace(lines[1])
		v = strings.TrimSuffix(strings.TrimPrefix(v, "[]byte("), ")")
		s, err := strconv.Unquote(v)
		if err != nil {
			t.Log("skip", f, err)
			continue
		}
		start := time.Now()
		Parse("x", []byte(s), fuzzEnv)
		if d := time.Since(start); d > 5*time.Millisecond {
			t.Logf("%s %v len %d", filepath.Base(f), d, len(s))
		}
	}
}
