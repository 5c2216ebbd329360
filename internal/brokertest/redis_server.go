package brokertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RedisServer is a redis-server process owned by one test, on loopback
// ports. It is killed when the test ends. Stop and Start kill it and start
// it again on the same ports with the same arguments.
type RedisServer struct {
	t       testing.TB
	port    int
	tlsPort int
	dir     string
	args    []string
	mu      sync.Mutex
	cmd     *exec.Cmd
	exit    chan struct{}
}

// RedisServerBinary returns the path of redis-server, or "" when it is not
// installed.
func RedisServerBinary() string {
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return ""
	}
	return p
}

// StartRedisServer starts redis-server on a free loopback port with no
// persistence, then args (later arguments override earlier ones, so
// "--port", "0" turns the plain port off). It waits until the server logs
// that it accepts connections. It skips the test when redis-server is
// missing.
func StartRedisServer(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	if RedisServerBinary() == "" {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	s := &RedisServer{t: t, port: freePort(t), dir: t.TempDir(), args: args}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// StartRedisServerTLS is StartRedisServer with TLS on a second free port
// as well, using the PEM files given (args may add --tls-ca-cert-file and
// others). It skips the test when redis-server was built without TLS.
func StartRedisServerTLS(t testing.TB, certFile, keyFile string, args ...string) *RedisServer {
	t.Helper()
	if RedisServerBinary() == "" {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	s := &RedisServer{t: t, port: freePort(t), tlsPort: freePort(t), dir: t.TempDir(),
		args: append([]string{"--tls-cert-file", certFile, "--tls-key-file", keyFile}, args...)}
	t.Cleanup(s.Stop)
	if err := s.start(); err != nil {
		// A build without TLS rejects the tls-* directives at start.
		if msg := err.Error(); strings.Contains(msg, "Bad directive") || strings.Contains(msg, "TLS is not supported") {
			t.Skipf("redis-server does not support TLS here: %v", err)
		}
		t.Fatalf("brokertest: %v", err)
	}
	return s
}

// TLSAddr returns 127.0.0.1:port of the TLS listener, or "" without TLS.
func (s *RedisServer) TLSAddr() string {
	if s.tlsPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort))
}

// Port returns the plain TCP port.
func (s *RedisServer) Port() int { return s.port }

// Addr returns 127.0.0.1:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns redis://127.0.0.1:port/0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Dir returns the server's working directory.
func (s *RedisServer) Dir() string { return s.dir }

// Start starts the server if it is not running and waits until it is ready.
func (s *RedisServer) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("brokertest: %v", err)
	}
}

func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logf := filepath.Join(s.dir, "redis.log")
	_ = os.Remove(logf)
	argv := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logf, "--daemonize", "no",
	}
	if s.tlsPort != 0 {
		argv = append(argv, "--tls-port", strconv.Itoa(s.tlsPort))
	}
	argv = append(argv, s.args...)
	cmd := exec.Command(RedisServerBinary(), argv...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %v", err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	s.cmd, s.exit = cmd, exit
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(logf)
		if bytes.Contains(b, []byte("Ready to accept connections")) {
			return nil
		}
		select {
		case <-exit:
			s.cmd = nil
			return fmt.Errorf("redis-server %v exited at start: %s%s", argv, stderr.Bytes(), b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server not ready after 10s; log:\n%s", b)
		}
	}
}

// Stop kills the server and waits for it to exit. Clients see their
// connections drop. Stopping a stopped server does nothing.
func (s *RedisServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

// Do runs one command with redis-cli against the server and returns its
// output; extra connection flags (TLS, auth) may come first in args.
func (s *RedisServer) Do(args ...string) (string, error) {
	return redisCLI(append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.port)}, args...)...)
}

func redisCLI(args ...string) (string, error) {
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		return "", fmt.Errorf("redis-cli is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("redis-cli %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// infoField returns one field of an INFO reply or CLUSTER INFO text.
func infoField(info, name string) string {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), name+":"); ok {
			return v
		}
	}
	return ""
}
