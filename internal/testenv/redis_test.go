package testenv

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestRedis: the server answers, keeps what it is given, pauses (a connection then gets
// no answer), resumes, and comes back empty from a restart on the same address.
func TestRedis(t *testing.T) {
	r, err := StartRedis()
	if errors.Is(err, ErrNoRedis) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if got, err := r.Do("SET", "k", "v"); err != nil || got != "OK" {
		t.Fatalf("SET: %q, %v", got, err)
	}
	if got, err := r.Do("DBSIZE"); err != nil || got != "1" {
		t.Fatalf("DBSIZE: %q, %v", got, err)
	}

	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", r.Addr) // the kernel still accepts; nobody answers
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("PING\r\n"))
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.Read(make([]byte, 16)); err == nil {
		t.Fatalf("a paused server answered %d bytes", n)
	}
	c.Close()
	if err := r.Resume(); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("PING after resume: %q, %v", got, err)
	}

	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Do("DBSIZE"); err != nil || got != "0" {
		t.Fatalf("DBSIZE after a restart without persistence: %q, %v", got, err)
	}
}

// TestRedisAuth: extra directives reach the server; without AUTH it refuses.
func TestRedisAuth(t *testing.T) {
	r, err := StartRedis("--requirepass", "s3cret")
	if errors.Is(err, ErrNoRedis) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if _, err := r.Do("GET", "k"); err == nil {
		t.Fatal("GET without AUTH was answered")
	}
	if got, err := r.Do("AUTH", "s3cret"); err != nil || got != "OK" {
		t.Fatalf("AUTH: %q, %v", got, err)
	}
}
