package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// result is how a finished run of the binary ended.
type result struct {
	stdout, stderr string
	code           int
}

// runBin runs the binary with args (stdin, when not nil, as its input) and
// waits at most 60 s for it to end.
func runBin(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := binCommand(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, stdin
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run eventpub %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("eventpub %s did not end within 60s; stderr: %s", strings.Join(args, " "), r.stderr)
	}
	return r
}

// binCommand returns the command that runs the binary with args. A race
// in the binary makes it exit with code 66 and a report on stderr, which
// the tests' exit code checks catch; the detector's one-second pause at
// exit is turned off.
func binCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	return cmd
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is the binary running in the background.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	exited         chan struct{}
	err            error // set before exited closes
}

// startBin starts the binary with args; the test's cleanup kills it if it
// is still running.
func startBin(t *testing.T, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p := &proc{t: t, cmd: binCommand(ctx, args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start eventpub %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		cancel()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// waitStderr waits up to 20 s for stderr to contain s, failing the test
// when the process ends first.
func (p *proc) waitStderr(s string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.exited:
			if strings.Contains(p.stderr.String(), s) {
				return
			}
			p.t.Fatalf("eventpub ended (%v) before printing %q; stderr: %s", p.err, s, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("eventpub did not print %q within 20s; stderr: %s", s, p.stderr.String())
		}
	}
}

// wait waits up to 30 s for the process to end and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("eventpub did not end within 30s; stderr: %s", p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatalf("eventpub: %v", p.err)
	}
	return 0
}

// interrupt sends SIGINT, as Ctrl-C does.
func (p *proc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.t.Fatalf("interrupt: %v", err)
	}
}

// broker is a broker the CLI tests run against.
type broker struct {
	name string
	url  string
}

// brokers returns the embedded brokers (miniredis, in-process nats-server)
// and the real ones named by EVENTPUB_REDIS_URL / EVENTPUB_NATS_URL.
func brokers(t *testing.T) []broker {
	t.Helper()
	bs := []broker{
		{"miniredis", brokertest.StartMiniredis(t).URL()},
		{"embedded-nats", brokertest.StartNATS(t).URL()},
	}
	if u := brokertest.RealRedisURL(); u != "" {
		bs = append(bs, broker{"redis", u})
	}
	if u := brokertest.RealNATSURL(); u != "" {
		bs = append(bs, broker{"nats", u})
	}
	return bs
}

// uniqueNamespace returns a namespace no other test run uses, so tests on
// a shared real broker do not see each other's messages.
func uniqueNamespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "clitest" + hex.EncodeToString(b)
}

// subscribe opens url in the test process and subscribes to channels.
func subscribe(t *testing.T, url string, channels ...string) transport.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := transport.Open(ctx, url)
	if err != nil {
		t.Fatalf("open %s: %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	sub, err := tr.Subscribe(ctx, channels...)
	if err != nil {
		t.Fatalf("subscribe on %s: %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// next returns the next message on sub, failing the test after 10 s.
func next(t *testing.T, sub transport.Subscription) transport.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("no message within 10s: %v", err)
	}
	return m
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
