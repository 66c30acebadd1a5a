package testenv

// Redis in the other deployments gatehouse supports: a Sentinel watching a server, a
// Cluster of several nodes, and a server that speaks TLS (with a CA made for the test).

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StartRedisSentinel starts a redis-server in sentinel mode on loopback that monitors
// the server at masterAddr under the name masterName (quorum 1); conf are further lines
// of its configuration file ("tls-port 7000"). Addr is its plain port. Stop it before
// the master.
func StartRedisSentinel(masterAddr, masterName string, conf ...string) (*Redis, error) {
	bin := RedisBinary()
	if bin == "" {
		if Required() {
			return nil, errors.New("GATEHOUSE_REQUIRE_MINIO=1 but " + ErrNoRedis.Error())
		}
		return nil, ErrNoRedis
	}
	host, port, err := net.SplitHostPort(masterAddr)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-sentinel-")
	if err != nil {
		return nil, err
	}
	sport, err := FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A sentinel rewrites its configuration file, so it must be a file it can write.
	file := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nsentinel monitor %s %s %s 1\n",
		sport, dir, masterName, host, port)
	for _, l := range conf {
		text += l + "\n"
	}
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", sport), bin: bin, dir: dir, args: []string{file, "--sentinel"}}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// StartRedisCluster starts n redis-servers in cluster mode (no replicas), splits the
// 16384 slots between them, joins them and waits until every node reports
// cluster_state:ok. extra directives go to every node. Stop each node when done.
func StartRedisCluster(n int, extra ...string) ([]*Redis, error) {
	if n < 1 {
		return nil, errors.New("a cluster needs at least one node")
	}
	var nodes []*Redis
	fail := func(err error) ([]*Redis, error) {
		for _, r := range nodes {
			r.Stop()
		}
		return nil, err
	}
	for range n {
		r, err := StartRedis(append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000"}, extra...)...)
		if err != nil {
			return fail(err)
		}
		nodes = append(nodes, r)
	}
	const slots = 16384
	for i, r := range nodes {
		lo, hi := i*slots/n, (i+1)*slots/n-1
		if _, err := r.Do("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
			return fail(fmt.Errorf("node %s: CLUSTER ADDSLOTSRANGE: %w", r.Addr, err))
		}
	}
	host, port, _ := net.SplitHostPort(nodes[0].Addr)
	for _, r := range nodes[1:] {
		if _, err := r.Do("CLUSTER", "MEET", host, port); err != nil {
			return fail(fmt.Errorf("node %s: CLUSTER MEET: %w", r.Addr, err))
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, r := range nodes {
		for {
			info, err := r.doBulk("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("node %s: cluster not ok after 20s: %q %v", r.Addr, info, err))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nodes, nil
}

// doBulk sends one command and returns a bulk string reply whole (CLUSTER INFO).
func (r *Redis) doBulk(args ...string) (string, error) {
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
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return "", fmt.Errorf("redis: not a bulk reply: %q", line)
	}
	size, err := strconv.Atoi(line[1:])
	if err != nil || size < 0 {
		return "", fmt.Errorf("redis: bad bulk reply %q", line)
	}
	buf := make([]byte, size+2)
	if _, err := io.ReadFull(rd, buf); err != nil {
		return "", err
	}
	return string(buf[:size]), nil
}

// TLSRedis is a redis-server that accepts TLS on TLSAddr (and plain TCP on Addr, for
// the tests' own Do checks). Clients need no certificate.
type TLSRedis struct {
	*Redis
	TLSAddr string // 127.0.0.1:PORT, TLS
	// CAFile is the PEM certificate of the CA that signed the server's certificate
	// (IP SAN 127.0.0.1, DNS SAN localhost).
	CAFile string
	// CertFile and KeyFile are the server's certificate and key (for a sentinel of it).
	CertFile, KeyFile string

	certDir string
}

// StartRedisTLS starts a redis-server with TLS on a second port, its certificate signed
// by a CA made for it; extra are further directives.
func StartRedisTLS(extra ...string) (*TLSRedis, error) {
	dir, err := os.MkdirTemp("", "gatehouse-redis-tls-")
	if err != nil {
		return nil, err
	}
	ca, err := WriteTestCA(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	r, err := StartRedis(append([]string{"--tls-port", strconv.Itoa(port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "no"}, extra...)...)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &TLSRedis{Redis: r, TLSAddr: fmt.Sprintf("127.0.0.1:%d", port), CAFile: ca, CertFile: cert, KeyFile: key,
		certDir: dir}, nil
}

// Stop kills the server and removes its files and certificates.
func (r *TLSRedis) Stop() {
	r.Redis.Stop()
	os.RemoveAll(r.certDir)
}

// WriteTestCA makes a CA and a server certificate signed by it for 127.0.0.1 and
// localhost, and writes ca.pem, server.pem and server-key.pem into dir. It returns the
// path of ca.pem.
func WriteTestCA(dir string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatehouse test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	files := map[string]*pem.Block{
		"ca.pem":         {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem":     {Type: "CERTIFICATE", Bytes: der},
		"server-key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "ca.pem"), nil
}
