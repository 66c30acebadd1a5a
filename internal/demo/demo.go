// Package demo embeds the example site and configuration that `gatehouse demo` serves, so
// the binary runs with no setup at all.
package demo

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed demo.yaml
var Config []byte

//go:embed site
var site embed.FS

// WriteSite copies the embedded example site into dir (a dir origin needs a real folder).
func WriteSite(dir string) error {
	sub, err := fs.Sub(site, "site")
	if err != nil {
		return err
	}
	return fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
