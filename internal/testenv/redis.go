package testenv

// Redis: the binary is found at $GATEHOUSE_REDIS_SERVER, else as redis-server on PATH
// (Debian's package, which scripts/test installs). Missing, the tests that need it are
// skipped unless Required(), as with MinIO.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Redis is a running redis-server on loopback, with persistence off unless asked for.
type Redis struct {
	Addr string // 127.0.0.1:PORT

	bin  string
	args []string
	cmd  *exec.Cmd
	dir  string
	logs *bytes.Buffer
}

// ErrNoRedis means redis-server is not installed and GATEHOUSE_REQUIRE_MINIO is not set.
var ErrNoRedis = errors.New("redis-server not found (run scripts/test, or set GATEHOUSE_REDIS_SERVER)")

// RedisBinary returns the path of redis-server, or "" if there is none.
func RedisBinary() string {
	if p := os.Getenv("GATEHOUSE_REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	return ""
}

// StartRedis starts a redis-server with its files in a fresh temporary folder; extra
// arguments are configuration directives ("--requirepass", "secret"). Call Stop when
// done. It returns ErrNoRedis when the binary is missing and not Required.
func StartRedis(extra ...string) (*Redis, error) {
	bin := RedisBinary()
	if bin == "" {
		if Required() {
			return nil, errors.New("GATEHOUSE_REQUIRE_MINIO=1 but " + ErrNoRedis.Error())
		}
		return nil, ErrNoRedis
	}
	dir, err := os.MkdirTemp("", "gatehouse-redis-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), bin: bin, dir: dir}
	r.args = append([]string{"--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes"}, extra...)
	if err := r.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

func (r *Redis) start() error {
	r.logs = &bytes.Buffer{}
	r.cmd = exec.Command(r.bin, r.args...)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	if err := r.waitReady(20 * time.Second); err != nil {
		r.kill()
		return fmt.Errorf("%w\nredis-server output:\n%s", err, r.logs.String())
	}
	return nil
}

// waitReady waits until the server accepts a connection and answers PING (with
// anything: a server with requirepass answers NOAUTH, which is up too).
func (r *Redis) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := r.Do("PING"); err == nil || strings.HasPrefix(err.Error(), "redis: NOAUTH") {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server not ready after %s", limit)
}

// Do sends one command over a new connection and returns the reply's first line without
// its type byte (a simple string, an integer or a bulk string's length); an error reply
// is an error. It is for the tests' own checks of the server (PING, DBSIZE, CONFIG
// SET), not a client.
func (r *Redis) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("redis: empty reply")
	}
	if line[0] == '-' {
		return "", errors.New("redis: " + line[1:])
	}
	return line[1:], nil
}

// Pause stops the server's process (SIGSTOP): connections stay open and nothing is
// answered, as in a hung server or a partition. Resume ends it.
func (r *Redis) Pause() error { return r.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (r *Redis) Resume() error { return r.cmd.Process.Signal(syscall.SIGCONT) }

// Restart kills the server and starts it again on the same address; with persistence
// off (the default) it comes back empty, as after a crash.
func (r *Redis) Restart() error {
	r.kill()
	return r.start()
}

func (r *Redis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

// Stop kills the server and removes its files.
func (r *Redis) Stop() {
	r.kill()
	os.RemoveAll(r.dir)
}
