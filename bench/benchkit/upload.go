package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// uploadClient PUTs generated bodies, signed for S3 (SigV4, UNSIGNED-PAYLOAD, as curl
// --aws-sigv4 and gatehouse's own streamed PutObject send them) or with HTTP Basic. Every
// contender of the upload scenario gets its PUTs from this one client, so the client's
// cost is the same for all.
type uploadClient struct {
	http   *http.Client
	basic  [2]string       // user, password; or
	creds  aws.Credentials // S3 keys (SigV4)
	signer *v4.Signer
}

// put sends one PUT of size bytes to url (chunked, with no Content-Length, when chunked)
// and reads the answer; an answer that is not 2xx is an error.
func (c *uploadClient) put(ctx context.Context, url string, size int64, chunked bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, newPatternBody(size))
	if err != nil {
		return err
	}
	req.ContentLength = size
	if chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	switch {
	case c.signer != nil:
		// Signed as S3 takes a streamed body: the payload is not hashed, so the client
		// does not read the body twice.
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := c.signer.SignHTTP(ctx, c.creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
			return err
		}
	case c.basic[0] != "":
		req.SetBasicAuth(c.basic[0], c.basic[1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// patternBody is size bytes of a 1 MiB block of pseudo-random bytes, repeated: no
// compression or deduplication on the way shrinks it, and making it costs the client a
// memory copy, not a random generator.
type patternBody struct {
	left int64
	off  int
}

var pattern = func() []byte {
	b := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(14, 14))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

func newPatternBody(size int64) io.Reader { return &patternBody{left: size} }

func (p *patternBody) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n := 0
	for n < len(b) {
		c := copy(b[n:], pattern[p.off:])
		n += c
		p.off = (p.off + c) % len(pattern)
	}
	p.left -= int64(n)
	return n, nil
}

// cmdUpload PUTs one body to one contender and, with --out, measures it as cmdMeasure
// measures a wrk run: a smaller warm-up PUT first (connections made, buffers grown),
// then the server goes idle, its peak-RSS mark is reset, and the measured PUT's time,
// the server's CPU time and peak RSS, and MinIO's CPU time become one Run (one request
// of --size bytes; its latency is the PUT's whole time). Dirty pages are flushed to disk
// (sync), and MinIO left to go idle, before the measured PUT. Without --out it only uploads
// (the scenario's checks, the profile run).
func cmdUpload(args []string) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	var r Run
	fs.StringVar(&r.Scenario, "scenario", "upload", "scenario id")
	fs.StringVar(&r.Variant, "variant", "", "variant id")
	fs.StringVar(&r.Contender, "contender", "", "contender id")
	fs.IntVar(&r.Round, "round", 0, "round number")
	pids := fs.String("pids", "", "server processes, comma-separated; the first is the one that serves")
	originPID := fs.Int("origin-pid", 0, "MinIO's process, whose CPU time is recorded too (optional)")
	target := fs.String("url", "", "URL to PUT")
	size := fs.Int64("size", 1<<30, "body size in bytes")
	warmup := fs.Int64("warmup-size", 64<<20, "size of the warm-up PUT before the measured one (0: none)")
	chunked := fs.Bool("chunked", false, "send the body chunked, without Content-Length")
	basic := fs.String("basic", "", "user:password for HTTP Basic")
	sigv4 := fs.String("sigv4", "", "access-key:secret-key to sign for S3 (us-east-1)")
	out := fs.String("out", "", "runs.jsonl to append the measured run to (none: upload only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		return errors.New("--url is required")
	}
	c := &uploadClient{http: &http.Client{Transport: &http.Transport{DisableCompression: true}}}
	if *basic != "" {
		u, p, ok := strings.Cut(*basic, ":")
		if !ok {
			return errors.New("--basic wants user:password")
		}
		c.basic = [2]string{u, p}
	}
	if *sigv4 != "" {
		k, s, ok := strings.Cut(*sigv4, ":")
		if !ok {
			return errors.New("--sigv4 wants access-key:secret-key")
		}
		c.creds, c.signer = aws.Credentials{AccessKeyID: k, SecretAccessKey: s}, v4.NewSigner()
	}
	ctx := context.Background()
	if *out == "" {
		return c.put(ctx, *target, *size, *chunked)
	}
	procs, err := parsePIDs(*pids)
	if err != nil {
		return err
	}
	if *warmup > 0 {
		if err := c.put(ctx, *target, *warmup, *chunked); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	// The earlier runs' objects go to disk first: otherwise the dirty pages of every
	// earlier GiB pile up, the kernel throttles MinIO's writes more with each run, and
	// later runs measure the disk's backlog (seen: each round slower than the last).
	syscall.Sync()
	if *originPID != 0 {
		// MinIO removes an overwritten object's data in the background: that work, done
		// on the CPU it shares with the client, belongs to the previous run.
		if _, err := waitIdle([]int{*originPID}, 60*time.Second); err != nil {
			return err
		}
	}
	var putErr error
	err = measureAround(&r, procs, *originPID, func() {
		putErr = c.put(ctx, *target, *size, *chunked)
	})
	if err != nil {
		return err
	}
	r.Connections = 1
	r.Bytes = *size
	if putErr != nil {
		fmt.Fprintf(os.Stderr, "benchkit upload: %v\n", putErr)
		r.Errors.Status = 1
	} else {
		r.Requests = 1
		r.MiBps = float64(r.Bytes) / (1 << 20) / r.DurationS
		r.RPS = 1 / r.DurationS
		ms := r.DurationS * 1000
		r.LatencyMs = Latency{Mean: ms, P50: ms, P90: ms, P99: ms, Max: ms}
		r.CPUPer10k = r.CPUSeconds * 10000
		r.CPUPerGiB = r.CPUSeconds / (float64(r.Bytes) / (1 << 30))
	}
	return appendRun(*out, r)
}
