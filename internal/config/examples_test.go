package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// exampleEnv is the whole environment the examples see: fixed values, so the test never
// depends on the machine it runs on. A reference to a variable missing here (without a
// default) fails the test, which keeps the examples' documented variables honest.
var exampleEnv = map[string]string{
	"MINIO_ACCESS_KEY":     "example-access-key",
	"MINIO_SECRET_KEY":     "example-secret-key",
	"ASSETS_ACCESS_KEY":    "example-access-key",
	"ASSETS_SECRET_KEY":    "example-secret-key",
	"GOOGLE_CLIENT_SECRET": "example-client-secret",
}

func lookupExampleEnv(name string) (string, bool) {
	v, ok := exampleEnv[name]
	return v, ok
}

// TestExamplesValidate parses every examples/*.yaml with config.Parse, which decodes
// strictly and validates without touching the disk or the network.
func TestExamplesValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml found")
	}
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "ipranges-") {
			continue // the ipranges sync tool's files: internal/ipsync validates them
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "#") {
				t.Errorf("%s does not start with a comment header saying what it shows", file)
			}
			cfg, err := config.Parse(file, data, lookupExampleEnv)
			if err != nil {
				t.Fatalf("example does not validate:\n%v", err)
			}
			if len(cfg.Routes) == 0 || len(cfg.Origins) == 0 {
				t.Errorf("example has %d routes and %d origins", len(cfg.Routes), len(cfg.Origins))
			}
		})
	}
}
