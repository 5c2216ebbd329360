package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

// quietChildEnv makes the child process of QuietWhileDown run the
// publisher; its value is the dead address.
const quietChildEnv = "EVENTPUB_QUIET_CHILD_ADDR"

// QuietWhileDown checks that a driver writes nothing to stderr while its
// broker cannot be reached: it runs a publisher, a pinger and a subscriber
// that keeps retrying against a dead loopback port for 3 s in a child
// process (the test binary again, running only t's test), so that what a
// client library prints on its own is caught, and fails t if the child
// wrote anything to stderr. open opens the driver on the address given; a
// URL with a password shows that no secret is printed either. Call it
// first in a top-level test: in the child it runs the publisher instead.
func QuietWhileDown(t *testing.T, open func(ctx context.Context, addr string) (transport.Transport, error)) {
	t.Helper()
	if addr := os.Getenv(quietChildEnv); addr != "" {
		quietChild(t, addr, open)
		return
	}
	if testing.Short() {
		t.Skip("-short: a 3 s run in a child process")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now: every dial is refused

	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), quietChildEnv+"="+addr, "GORACE=atexit_sleep_ms=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !bytes.Contains(stdout.Bytes(), []byte("child: ")) {
		t.Fatalf("the child did not run the publisher; stdout:\n%s", stdout.String())
	}
	if stderr.Len() != 0 {
		t.Fatalf("the driver wrote to stderr while its broker was down:\n%s", stderr.String())
	}
	t.Logf("%s", bytes.TrimSpace(stdout.Bytes()))
}

// quietChild publishes, pings and subscribes against a dead address for
// 3 s and prints how many attempts it made (on stdout).
func quietChild(t *testing.T, addr string, open func(ctx context.Context, addr string) (transport.Transport, error)) {
	tr, err := open(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	subDone := make(chan struct{})
	defer func() { cancel(); <-subDone }()
	go func() {
		defer close(subDone)
		// A subscriber that keeps trying, as tail does.
		for ctx.Err() == nil {
			sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			if sub, err := tr.Subscribe(sctx, "quiet"); err == nil {
				_ = sub.Close()
			}
			cancel()
			time.Sleep(100 * time.Millisecond)
		}
	}()
	n, failed := 0, 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); n++ {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		if err := tr.Publish(pctx, transport.Message{Channel: "quiet", Payload: []byte("x")}); err != nil {
			failed++
		}
		_ = tr.Ping(pctx)
		cancel()
		time.Sleep(20 * time.Millisecond)
	}
	if failed != n {
		t.Errorf("%d of %d publishes to a dead port succeeded", n-failed, n)
	}
	fmt.Fprintf(os.Stdout, "child: %d publishes and pings, all failed\n", n)
}
