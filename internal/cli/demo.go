package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/demo"
)

type demoFlags struct {
	listen, admin string
}

func newDemo(std IO) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve the embedded example: a local folder, a public and a protected route",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := os.MkdirTemp("", "gatehouse-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := demo.WriteSite(dir); err != nil {
				return fmt.Errorf("writing the demo site: %w", err)
			}
			env := func(name string) (string, bool) {
				switch name {
				case "GATEHOUSE_DEMO_ROOT":
					return dir, true
				case "GATEHOUSE_DEMO_LISTEN":
					return f.listen, true
				case "GATEHOUSE_DEMO_ADMIN":
					return f.admin, true
				}
				return "", false
			}
			cfg, err := config.Parse("demo.yaml (embedded)", demo.Config, env)
			if err != nil {
				return err
			}
			return runServer(cmd.Context(), std, cfg, nil, func(pub, admin string) {
				base := "http://" + pub
				// The banner goes to stderr: stdout holds only the access log.
				fmt.Fprintf(std.Stderr, `gatehouse demo: serving the example site copied to %s

  %-45s public home page (index document)
  %-45s public file; try: curl -H 'Range: bytes=0-4' ...
  %-45s protected: 401 without credentials; try curl -u demo:demo
  %-45s blocked on purpose: 403 for everyone
  %-45s no route matches: 404
  %-45s readiness, on the admin listener

Press Ctrl-C to stop. Access log lines follow on stdout.
`, dir, base+"/", base+"/public/hello.txt", base+"/private/report.txt", base+"/blocked/report.txt", base+"/nowhere", "http://"+admin+"/readyz")
			})
		},
	}
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8080", "public listen address")
	cmd.Flags().StringVar(&f.admin, "admin", "127.0.0.1:9090", "admin listen address")
	return cmd
}
