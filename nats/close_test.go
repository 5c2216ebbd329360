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
func stopGoroutines() int { return goroutinesIn("nats.(*subscription).close.func") }

// goroutinesIn counts the goroutines whose stack names fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// TestCloseDuringFirstPublish: Close while a Transport's first JetStream
// publish is on its way ends that publish with nil or ErrClosed and leaves
// none of nats.go's async-publish goroutines behind. (The driver matches
// its acks itself; should nats.go's async publisher come back, its status
// watcher, which CleanupPublisher can strand, must not outlive Close.)
func TestCloseDuringFirstPublish(t *testing.T) {
	srv := brokertest.StartNATS(t)
	stream := streamName(t, srv.URL())
	subj := "first-" + unique()
	const watcher = "jetstream.(*jetStream).resetPendingAcksOnReconnect"
	before := goroutinesIn(watcher)
	for i := range 300 {
		tr, err := nats.Open(ctxT(t), srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: stream, Subjects: []string{subj}}))
		if err != nil {
			t.Fatal(err)
		}
		published := make(chan error, 1)
		go func() {
			published <- tr.Publish(ctxT(t), transport.Message{Channel: subj, Payload: []byte(strconv.Itoa(i))})
		}()
		runtime.Gosched()
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-published; err != nil && !errors.Is(err, transport.ErrClosed) {
			t.Fatalf("publish during Close: %v, want nil or ErrClosed", err)
		}
	}
	waitFor(t, "nats.go's ack watchers to end", func() bool { return goroutinesIn(watcher) <= before })
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
	// PublishTimeout covers the worst case: a reset whose request went out
	// just as the server stopped waits out nats.go's 10 s request timeout.
	tr, err := nats.New(nc, nats.WithPublishTimeout(15*time.Second),
		nats.WithJetStream(nats.JetStreamConfig{Stream: "CALLER"}))
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
