package nats_test

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// stopGoroutines counts goroutines stopping a closed Subscription's
// JetStream consumers.
func stopGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "nats.(*subscription).close.func") {
			n++
		}
	}
	return n
}

// TestCloseWaitsForConsumersOnCallerConn: Close of a Transport on the
// caller's connection, while that connection is down, waits (up to
// PublishTimeout) until its JetStream consumers have stopped, so none
// outlives a Close that returns in time.
func TestCloseWaitsForConsumersOnCallerConn(t *testing.T) {
	srv := brokertest.StartNATS(t)
	nc, err := natsgo.Connect(srv.URL(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tr, err := nats.New(nc, nats.WithConfig(nats.Config{PublishTimeout: 8 * time.Second,
		JetStream: &nats.JetStreamConfig{Stream: "CALLER"}}))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tr.Subscribe(ctxT(t), "caller")
	if err != nil {
		t.Fatal(err)
	}
	// After a reconnect nats.go resets the ordered consumer; on a server
	// without JetStream that reset backs off (a second or more) holding
	// the consumer's lock, so stopping the consumer waits for it.
	port := strings.TrimPrefix(srv.URL(), "nats://127.0.0.1:")
	srv.Stop()
	waitFor(t, "the disconnect", func() bool { return nc.Status() != natsgo.CONNECTED })
	noJS := brokertest.StartNATS(t, func(o *server.Options) {
		o.JetStream = false
		o.Port, _ = strconv.Atoi(port)
	})
	waitFor(t, "the reconnect", func() bool { return nc.Status() == natsgo.CONNECTED })
	time.Sleep(100 * time.Millisecond)
	noJS.Stop()
	waitFor(t, "the second disconnect", func() bool { return nc.Status() != natsgo.CONNECTED })
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := stopGoroutines(); n != 0 {
		t.Fatalf("%d consumer-stop goroutines outlived Close", n)
	}
	if _, err := sub.Next(ctxT(t)); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
}
