package nats_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// stderrChildEnv names the variable that makes TestQuietWhileDown's child
// run the publisher instead of the check.
const stderrChildEnv = "EVENTPUB_NATS_STDERR_CHILD"

// TestQuietWhileDown runs a publisher and a subscriber pointed at a dead
// port for 3 s in a child process (so that anything nats.go prints to the
// process's stderr is caught) and checks that the child wrote nothing
// there. nats.go has no global logger: it prints asynchronous errors only
// when a connection has no ErrorHandler, and the driver sets one.
func TestQuietWhileDown(t *testing.T) {
	if addr := os.Getenv(stderrChildEnv); addr != "" {
		quietChild(t, addr)
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
	l.Close() // nothing listens there now: every dial is refused

	cmd := exec.Command(os.Args[0], "-test.run=^TestQuietWhileDown$", "-test.count=1")
	cmd.Env = append(os.Environ(), stderrChildEnv+"="+addr, "GORACE=atexit_sleep_ms=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !bytes.Contains(stdout.Bytes(), []byte("child: ")) {
		t.Fatalf("the child did not run the publisher; stdout:\n%s", stdout.String())
	}
	if stderr.Len() != 0 {
		t.Fatalf("the driver wrote to stderr while NATS was down:\n%s", stderr.String())
	}
	t.Logf("%s", bytes.TrimSpace(stdout.Bytes()))
}

// quietChild publishes, pings and subscribes against a dead address for
// 3 s and prints how many attempts it made (on stdout).
func quietChild(t *testing.T, addr string) {
	tr, err := nats.Open(context.Background(), "nats://u:s3cret@"+addr)
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
	os.Stdout.WriteString("child: " + itoa(n) + " publishes and pings, all failed\n")
}

func itoa(n int) string { return strconv.Itoa(n) }
