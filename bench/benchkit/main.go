// Command benchkit is the Go half of the load-test harness (bench/run is the other): it
// makes the test data every contender shares (address lists, a JWT and its key set,
// signed and secure_link URLs), serves the key set, measures one wrk run (or one large
// PUT) against one server process, and turns the measurements into bench/results/latest.json and
// BENCHMARKS.md.
//
// It is a tool of the harness, not part of gatehouse: it imports no gatehouse package but
// the public cfsign.
//
//	benchkit cidrs      --aws ip-ranges.json --count 100000 --plain FILE --nginx FILE
//	benchkit jwt        --dir DIR --issuer URL --audience ID
//	benchkit jwks-serve --addr 127.0.0.1:PORT --file jwks.json
//	benchkit htpasswd   --user U --password P --cost N --out FILE
//	benchkit signed     --key private.pem --key-id ID --url URL --count N --out FILE
//	benchkit securelink --secret S --path /bench/obj --count N --out FILE
//	benchkit measure    --label ... --pids P[,P] --url URL [...]   (appends one JSON line)
//	benchkit upload     --url URL --size N [--basic U:P | --sigv4 K:S] [--pids ... --out F]
//	benchkit fleet-invalidate --admin URL,URL,URL --fill URL,URL,URL --path P --count N --out F
//	benchkit report     --runs runs.jsonl --meta meta.json --template T --json OUT --md OUT
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchkit cidrs|jwt|jwks-serve|htpasswd|signed|securelink|ranges|measure|upload|fleet-invalidate|report [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"cidrs":            cmdCIDRs,
		"jwt":              cmdJWT,
		"jwks-serve":       cmdJWKSServe,
		"htpasswd":         cmdHtpasswd,
		"signed":           cmdSigned,
		"securelink":       cmdSecureLink,
		"ranges":           cmdRanges,
		"measure":          cmdMeasure,
		"upload":           cmdUpload,
		"fleet-invalidate": cmdFleetInvalidate,
		"report":           cmdReport,
	}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchkit: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchkit %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
