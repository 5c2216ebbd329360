package deliverytest

import (
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// natsProc is a nats-server process with JetStream (file store) on a
// loopback port, owned by one test, so that a test can kill -9 it. Kill and
// Start bring it down and back on the same port with the same store.
type natsProc struct {
	t    testing.TB
	port int
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{}
	out  bytes.Buffer
}

// startNATSProc starts nats-server, or skips when it is not installed.
func startNATSProc(t testing.TB) *natsProc {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("nats-server is not installed: the kill -9 restart runs on Redis only")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	p := &natsProc{t: t, port: port, dir: t.TempDir()}
	t.Cleanup(p.Kill)
	p.Start()
	return p
}

func (p *natsProc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Start starts the server unless it runs, and waits until it accepts.
func (p *natsProc) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(p.port), "-js", "-sd", p.dir)
	p.out.Reset()
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start nats-server: %v", err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	p.cmd, p.exit = cmd, exit
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-exit:
			p.t.Fatalf("nats-server exited at start")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("nats-server not ready after 10s")
		}
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (p *natsProc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exit
	p.cmd = nil
}
