package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/cfsign"
)

type keygenFlags struct {
	kind string
	out  string
}

func newKeygen(std IO) *cobra.Command {
	var f keygenFlags
	cmd := &cobra.Command{
		Use:   "keygen --type rsa|ecdsa --out DIR",
		Short: "Generate a key pair for signed URLs and cookies and print its key ID",
		Long: `keygen writes DIR/private.pem (mode 0600: keep it with the application that signs) and
DIR/public.pem (mode 0644: list it in a key group, or upload it to CloudFront), and prints
the key ID. The ID is derived from the public key by gatehouse; CloudFront assigns its own
ID when the key is uploaded there, and a key used with both must use CloudFront's ID in
gatehouse's configuration too. Existing files are never overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if f.out == "" {
				return errors.New("--out DIR is required")
			}
			key, err := cfsign.GenerateKey(f.kind)
			if err != nil {
				return err
			}
			privPEM, err := cfsign.MarshalPrivateKeyPEM(key)
			if err != nil {
				return err
			}
			pubPEM, err := cfsign.MarshalPublicKeyPEM(key.Public())
			if err != nil {
				return err
			}
			id, err := cfsign.DeriveKeyID(key.Public())
			if err != nil {
				return err
			}
			priv, pub := filepath.Join(f.out, "private.pem"), filepath.Join(f.out, "public.pem")
			for _, p := range []string{priv, pub} {
				if _, err := os.Lstat(p); err == nil {
					return fmt.Errorf("%s already exists: refusing to overwrite it", p)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if err := os.MkdirAll(f.out, 0o700); err != nil {
				return err
			}
			if err := writeNew(priv, privPEM, 0o600); err != nil {
				return err
			}
			if err := writeNew(pub, pubPEM, 0o644); err != nil {
				os.Remove(priv)
				return err
			}
			fmt.Fprintln(std.Stdout, id)
			fmt.Fprintf(std.Stderr, "gatehouse: wrote %s (secret) and %s; trust it in key_groups with {id: %s, file: %s}\n", priv, pub, id, pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.kind, "type", "rsa", "key type: rsa (RSA-2048) or ecdsa (P-256)")
	cmd.Flags().StringVar(&f.out, "out", "", "directory to write private.pem and public.pem to (created if missing)")
	return cmd
}

// writeNew creates path with exactly mode perm (whatever the umask), failing if it
// exists.
func writeNew(path string, data []byte, perm os.FileMode) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := fh.Chmod(perm); err != nil {
		fh.Close()
		os.Remove(path)
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		os.Remove(path)
		return err
	}
	if err := fh.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
